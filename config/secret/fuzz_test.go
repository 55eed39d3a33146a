package secret

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode checks that Decode never panics, that IsEncoded agrees with
// it, that every failure wraps one of the sentinel errors, and that
// anything that decodes re-encodes and decodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.encoded)
	}
	for _, s := range []string{"", "$9$", "$9$i", "$9$Q", "$9$iiii", "$9$Lb!X-wg4Z"} {
		f.Add(s)
	}
	rand := seeded(0)
	f.Fuzz(func(t *testing.T, s string) {
		plain, err := Decode(s)
		if IsEncoded(s) != (err == nil) {
			t.Fatalf("IsEncoded(%q) = %v, but Decode error is %v", s, IsEncoded(s), err)
		}
		if err != nil {
			if !errors.Is(err, ErrNotEncoded) && !errors.Is(err, ErrBadChar) && !errors.Is(err, ErrTruncated) {
				t.Fatalf("Decode(%q): error %v wraps no sentinel", s, err)
			}
			return
		}
		enc, err := Encode(plain, rand)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		again, err := Decode(enc)
		if err != nil || !bytes.Equal(again, plain) {
			t.Fatalf("Decode(%q) = %x; re-encoded as %q it decodes to %x, %v", s, plain, enc, again, err)
		}
	})
}

// FuzzRoundTrip encodes arbitrary bytes with an arbitrary salt and filler
// and checks the result is valid, of the promised length, and decodes back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(""), byte(0), "")
	f.Add([]byte("juniper"), byte(55), "")
	f.Add([]byte("\x00\xff\x80\x7f\x01\xfe\x40\xbf"), byte(0), "zzz")
	f.Fuzz(func(t *testing.T, plain []byte, salt byte, filler string) {
		s := alphabet[int(salt)%radix]
		fill := make([]byte, fillerCount(s))
		for i := range fill {
			if i < len(filler) && inAlphabet(filler[i]) {
				fill[i] = filler[i]
			} else {
				fill[i] = alphabet[i]
			}
		}
		enc := encodeWith(plain, s, string(fill))
		if len(enc) != encodedLen(s, len(plain)) || !IsEncoded(enc) {
			t.Fatalf("encodeWith(%x, %q, %q) = %q: invalid or wrong length", plain, s, fill, enc)
		}
		got, err := Decode(enc)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Decode(%q) = %x, %v; want %x", enc, got, err, plain)
		}
	})
}
