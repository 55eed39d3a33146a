package secret

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// seeded returns a deterministic random source for tests.
func seeded(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// encodedLen is the length §8.2 promises for an encoding of n bytes.
func encodedLen(salt byte, n int) int {
	size := len(prefix) + 1 + fillerCount(salt)
	for i := range n {
		size += len(weights[i%7])
	}
	return size
}

func TestRoundTripRandom(t *testing.T) {
	r := seeded(1)
	for n := 0; n <= 300; n++ {
		plain := make([]byte, n)
		r.Read(plain)
		enc, err := Encode(plain, r)
		if err != nil {
			t.Fatalf("Encode(%d bytes): %v", n, err)
		}
		if want := encodedLen(enc[len(prefix)], n); len(enc) != want {
			t.Errorf("Encode(%d bytes) has length %d, want %d", n, len(enc), want)
		}
		if !IsEncoded(enc) {
			t.Errorf("IsEncoded(Encode(%d bytes)) = false", n)
		}
		got, err := Decode(enc)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Decode(Encode(%x)) = %x, %v", plain, got, err)
		}
	}
}

// TestEveryByteEveryPosition puts each of the 256 byte values at each of
// the 7 weight tables, with every salt family.
func TestEveryByteEveryPosition(t *testing.T) {
	for _, salt := range []byte{'Q', 'B', '7', 'i'} {
		filler := strings.Repeat("z", fillerCount(salt))
		for offset := range 7 {
			plain := make([]byte, offset, offset+256)
			for b := range 256 {
				plain = append(plain, byte(b))
			}
			enc := encodeWith(plain, salt, filler)
			got, err := Decode(enc)
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("salt %q offset %d: round trip gave %x, %v", salt, offset, got, err)
			}
		}
	}
}

// TestDecodeWraps checks the modular arithmetic: three repeats of the salt
// are gaps of -1, and -1·1 - 1·4 - 1·32 = -37 ≡ 219 (mod 256).
func TestDecodeWraps(t *testing.T) {
	got, err := Decode("$9$iiii")
	if err != nil || !bytes.Equal(got, []byte{219}) {
		t.Errorf(`Decode("$9$iiii") = %v, %v; want [219]`, got, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in      string
		want    error
		message string
	}{
		{"", ErrNotEncoded, `want prefix "$9$"`},
		{"juniper", ErrNotEncoded, `want prefix "$9$"`},
		{"$8$LbHX-wg4Z", ErrNotEncoded, `want prefix "$9$"`},
		{"$9$", ErrTruncated, "want a salt character"},
		{"$9$LbHX-wg4Z!", ErrBadChar, "at byte 12"},
		{"$9$Lb X-wg4Z", ErrBadChar, "at byte 5"},
		{"$9$LbHX-wg4Zé", ErrBadChar, "at byte 12"},
		{"$9$Lb", ErrTruncated, "2 filler characters, 1 present"},
		{"$9$LbHX-", ErrTruncated, "byte 0 needs 3 characters, 2 remain"},
		{"$9$LbHX-wg4", ErrTruncated, "byte 1 needs 3 characters, 2 remain"},
		{"$9$OY8RBcl8LNbYo7", ErrTruncated, "byte 3 needs 2 characters, 1 remain"},
	}
	for _, tt := range tests {
		got, err := Decode(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("Decode(%q) error = %v, want %v", tt.in, err, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.message) {
			t.Errorf("Decode(%q) error = %q, want it to mention %q", tt.in, err, tt.message)
		}
		if got != nil {
			t.Errorf("Decode(%q) returned %q with its error", tt.in, got)
		}
		if IsEncoded(tt.in) {
			t.Errorf("IsEncoded(%q) = true", tt.in)
		}
	}
}

// TestDecodeErrorsHidePlaintext decodes a vector with one bad character
// appended: the error must not echo the input or its plaintext.
func TestDecodeErrorsHidePlaintext(t *testing.T) {
	for _, v := range vectors {
		for _, bad := range []string{v.encoded + "!", v.encoded + "x"} {
			_, err := Decode(bad)
			if err == nil {
				continue // "x" may complete a group; "!" never does
			}
			msg := err.Error()
			if strings.Contains(msg, v.plain) || strings.Contains(msg, v.encoded[len(prefix):]) {
				t.Errorf("Decode error %q reveals the secret", msg)
			}
		}
	}
}

// TestEveryPrefix cuts each vector at every length: a cut inside the header
// or a group must fail, and a cut at a group boundary decodes to a prefix of
// the plaintext.
func TestEveryPrefix(t *testing.T) {
	for _, v := range vectors {
		for n := range len(v.encoded) {
			cut := v.encoded[:n]
			got, err := Decode(cut)
			if err != nil {
				if !errors.Is(err, ErrNotEncoded) && !errors.Is(err, ErrTruncated) {
					t.Errorf("Decode(%q): unexpected error %v", cut, err)
				}
				continue
			}
			if !strings.HasPrefix(v.plain, string(got)) || len(got) == len(v.plain) {
				t.Errorf("Decode(%q) = %q, want a proper prefix of %q", cut, got, v.plain)
			}
		}
	}
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestEncodeRandomSource(t *testing.T) {
	if _, err := Encode([]byte("x"), failingReader{}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Encode with a failing reader: error %v, want io.ErrUnexpectedEOF", err)
	}
	stuck := bytes.NewReader(bytes.Repeat([]byte{0xff}, 100))
	if _, err := Encode([]byte("x"), stuck); !errors.Is(err, errBadRandom) {
		t.Errorf("Encode with a reader of 0xff: error %v, want errBadRandom", err)
	}
	// 195 and 255 lie past the last whole multiple of 65 and are rejected;
	// 66 is 1 mod 65, which is 'z', an F0 character wanting 3 fillers.
	src := bytes.NewReader([]byte{195, 255, 66, 0, 64, 130})
	enc, err := Encode(nil, src)
	if err != nil || enc != "$9$zQTQ" {
		t.Errorf("Encode(nil, fixed bytes) = %q, %v; want \"$9$zQTQ\"", enc, err)
	}
	enc, err = Encode([]byte("juniper"), nil)
	if err != nil {
		t.Fatalf("Encode with crypto/rand: %v", err)
	}
	if got, err := Decode(enc); err != nil || string(got) != "juniper" {
		t.Errorf("Decode(Encode(juniper, crypto/rand)) = %q, %v", got, err)
	}
}
