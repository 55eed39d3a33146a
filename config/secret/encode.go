package secret

import (
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"io"
)

// maxRejects bounds the draws spent on one random character. A working
// source is rejected with probability 61/256 per draw, so hitting the bound
// (about 1e-40) means the source is broken, not unlucky.
const maxRejects = 64

// errBadRandom reports a source that keeps producing rejected bytes.
var errBadRandom = errors.New("secret: random source produced no usable byte in 64 draws")

// Encode returns a fresh $9$ encoding of plain, drawing the salt and filler
// characters from rand. A nil rand means crypto/rand.Reader. The only
// possible error is a failing rand.
func Encode(plain []byte, rand io.Reader) (string, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	salt, err := randomChar(rand)
	if err != nil {
		return "", err
	}
	filler := make([]byte, fillerCount(salt))
	for i := range filler {
		if filler[i], err = randomChar(rand); err != nil {
			return "", err
		}
	}
	return encodeWith(plain, salt, string(filler)), nil
}

// encodeWith encodes plain with the given salt and filler. The caller
// guarantees that salt and every filler byte are alphabet characters and
// that len(filler) == fillerCount(salt); tests use it to rebuild a known
// encoding exactly.
func encodeWith(plain []byte, salt byte, filler string) string {
	size := len(prefix) + 1 + len(filler)
	for i := range plain {
		size += len(weights[i%7])
	}
	out := make([]byte, 0, size)
	out = append(out, prefix...)
	out = append(out, salt)
	out = append(out, filler...)

	// The filler is noise: the first group's gaps count from the salt.
	prev := int(position[salt])
	for i, p := range plain {
		w := weights[i%7]
		var digits [4]int
		v := int(p)
		for k := len(w) - 1; k >= 0; k-- {
			digits[k] = v / w[k]
			v %= w[k]
		}
		for k := range w {
			prev = (prev + digits[k] + 1) % radix
			out = append(out, alphabet[prev])
		}
	}
	return string(out)
}

// randomChar draws one alphabet character uniformly from rand, rejecting
// bytes at or above the largest multiple of the alphabet size so that no
// character is favoured.
func randomChar(rand io.Reader) (byte, error) {
	const limit = 256 / radix * radix
	var b [1]byte
	for range maxRejects {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, fmt.Errorf("secret: reading random salt: %w", err)
		}
		if int(b[0]) < limit {
			return alphabet[int(b[0])%radix], nil
		}
	}
	return 0, errBadRandom
}
