package secret

import (
	"errors"
	"fmt"
	"strings"
)

// Decoding errors. Every error from Decode and FromEncoded wraps exactly one
// of these; none carries the input or any decoded byte.
var (
	ErrNotEncoded = errors.New("secret: not a $9$ string")
	ErrBadChar    = errors.New("secret: character outside the $9$ alphabet")
	ErrTruncated  = errors.New("secret: truncated $9$ string")
)

// Decode returns the plaintext of a $9$ string.
func Decode(s string) ([]byte, error) {
	n, err := check(s)
	if err != nil {
		return nil, err
	}
	body := s[len(prefix):]
	prev := int(position[body[0]])
	rest := body[1+fillerCount(body[0]):]
	// check proved that rest splits into whole groups of alphabet
	// characters, so the loop below has no failure paths.
	out := make([]byte, 0, n)
	for len(rest) > 0 {
		w := weights[len(out)%7]
		sum := 0
		for k, weight := range w {
			c := int(position[rest[k]])
			gap := (c-prev+radix)%radix - 1 // -1..63
			sum += gap * weight
			prev = c
		}
		// A gap of -1 can make sum negative; converting to byte keeps the
		// low 8 bits, which is sum mod 256 as the algorithm defines it.
		out = append(out, byte(sum))
		rest = rest[len(w):]
	}
	return out, nil
}

// IsEncoded reports whether s is syntactically a $9$ string: the prefix,
// a salt, its filler, and whole groups of alphabet characters. Every such
// string decodes.
func IsEncoded(s string) bool {
	_, err := check(s)
	return err == nil
}

// check is the one validity gate for encoded strings. It returns the
// plaintext length s decodes to. Positions in errors are byte offsets into
// s, counting the prefix.
//
// The reference implementations demand at least four characters after the
// prefix; we accept any whole header, because an empty plaintext encodes to
// a salt and its filler alone.
func check(s string) (int, error) {
	if !strings.HasPrefix(s, prefix) {
		return 0, fmt.Errorf("%w: want prefix %q", ErrNotEncoded, prefix)
	}
	body := s[len(prefix):]
	if body == "" {
		return 0, fmt.Errorf("%w: want a salt character after %q", ErrTruncated, prefix)
	}
	for i := range len(body) {
		if !inAlphabet(body[i]) {
			return 0, fmt.Errorf("%w at byte %d: want a letter, a digit, '.', '/' or '-'",
				ErrBadChar, len(prefix)+i)
		}
	}
	header := 1 + fillerCount(body[0])
	if len(body) < header {
		return 0, fmt.Errorf("%w: the salt calls for %d filler characters, %d present",
			ErrTruncated, header-1, len(body)-1)
	}
	n := 0
	for rest := len(body) - header; rest > 0; n++ {
		w := len(weights[n%7])
		if rest < w {
			return 0, fmt.Errorf("%w: plaintext byte %d needs %d characters, %d remain",
				ErrTruncated, n, w, rest)
		}
		rest -= w
	}
	return n, nil
}
