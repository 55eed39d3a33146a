package secret

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Value is one configured secret. It remembers the $9$ string it was
// entered as or first encoded to, and every way of printing, logging or
// marshalling it yields only that string. The plaintext leaves only through
// Plain.
//
// A Value keeps no plaintext: Plain and Equal decode the stored string when
// asked. That way no reflection-driven printer (fmt on an enclosing struct
// with an unexported Value field, its %!verb fallbacks, a debugger dump)
// can find key bytes, because there are none to find.
//
// The zero Value is "no secret". Values are immutable and safe to copy and
// share between goroutines.
type Value struct {
	// encoded is "" for the zero Value, otherwise a string check accepts;
	// both constructors guarantee it.
	encoded string
}

// FromPlain makes a Value from a plaintext secret, encoding it once with
// salt and filler drawn from rand (nil means crypto/rand.Reader).
func FromPlain(plain []byte, rand io.Reader) (Value, error) {
	enc, err := Encode(plain, rand)
	if err != nil {
		return Value{}, err
	}
	return Value{encoded: enc}, nil
}

// FromEncoded makes a Value from a $9$ string, which it keeps verbatim.
func FromEncoded(s string) (Value, error) {
	if _, err := check(s); err != nil {
		return Value{}, err
	}
	return Value{encoded: s}, nil
}

// IsZero reports whether v holds no secret. An empty secret is not zero.
func (v Value) IsZero() bool { return v.encoded == "" }

// Encoded returns the stored $9$ string, or "" for the zero Value.
func (v Value) Encoded() string { return v.encoded }

// Plain returns a fresh copy of the plaintext, or nil for the zero Value.
// It is meant for the crypto code; nothing that displays or stores
// configuration should call it.
func (v Value) Plain() []byte {
	if v.IsZero() {
		return nil
	}
	// The constructors validated encoded, so Decode cannot fail here.
	plain, _ := Decode(v.encoded)
	return plain
}

// Equal reports whether v and other hold the same plaintext, comparing in
// constant time for equal lengths. Different encodings of one secret are
// equal; the zero Value equals only itself.
func (v Value) Equal(other Value) bool {
	if v.IsZero() || other.IsZero() {
		return v.IsZero() && other.IsZero()
	}
	a, b := v.Plain(), other.Plain()
	equal := subtle.ConstantTimeCompare(a, b) == 1
	clear(a)
	clear(b)
	return equal
}

// String returns the $9$ form.
func (v Value) String() string { return v.encoded }

// GoString returns the $9$ form, quoted, for %#v.
func (v Value) GoString() string { return fmt.Sprintf("%q", v.encoded) }

// Format applies any fmt verb and flags to the $9$ string, so %x or %q
// show the encoding, never the plaintext.
func (v Value) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), v.encoded)
}

// LogValue makes log/slog record the $9$ form.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.encoded) }

// MarshalText returns the $9$ form.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.encoded), nil }

// MarshalJSON returns the $9$ form as a JSON string.
func (v Value) MarshalJSON() ([]byte, error) { return json.Marshal(v.encoded) }

// UnmarshalText accepts a $9$ string, or an empty one for the zero Value,
// so that MarshalText and JSON round-trip. Plaintext is never accepted.
func (v *Value) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*v = Value{}
		return nil
	}
	nv, err := FromEncoded(string(text))
	if err != nil {
		return err
	}
	*v = nv
	return nil
}
