//go:build ipsecmb && linux && amd64 && cgo

package ipsecmb

import (
	"bytes"
	"testing"
)

// FuzzGCM compares Seal and Open with crypto/cipher's GCM for any key
// size, nonce, plaintext and AAD, and checks that a packet with one bit
// flipped (at an index the fuzzer picks) is refused.
func FuzzGCM(f *testing.F) {
	f.Add(byte(0), []byte("0123456789abcdef0123456789abcdef"), []byte("nonce-12byte"), []byte("hello"), []byte("SPI_SEQ_"), uint16(3))
	f.Add(byte(1), make([]byte, 32), make([]byte, 12), make([]byte, 1400), make([]byte, 12), uint16(1415))
	f.Add(byte(2), []byte{}, []byte{}, []byte{}, []byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, size byte, keySeed, nonceSeed, plain, aad []byte, flip uint16) {
		key := fit(keySeed, []int{16, 24, 32}[int(size)%3])
		nonce := fit(nonceSeed, nonceSize)
		fast, ref := pair(t, key)

		want := ref.Seal(nil, nonce, plain, aad)
		got := fast.Seal(nil, nonce, plain, aad)
		if !bytes.Equal(got, want) {
			t.Fatalf("Seal differs from crypto/cipher:\n got %x\nwant %x", got, want)
		}
		opened, err := fast.Open(nil, nonce, got, aad)
		if err != nil || !bytes.Equal(opened, plain) {
			t.Fatalf("Open of own Seal: %v", err)
		}
		bit := int(flip) % (8 * len(got))
		got[bit/8] ^= 1 << (bit % 8)
		if _, err := fast.Open(nil, nonce, got, aad); err == nil {
			t.Fatalf("Open accepted bit %d flipped", bit)
		}
		// Arbitrary bytes as a packet: both must agree on accepting it.
		_, errFast := fast.Open(nil, nonce, plain, aad)
		_, errRef := ref.Open(nil, nonce, plain, aad)
		if (errFast == nil) != (errRef == nil) {
			t.Fatalf("Open of arbitrary bytes: ipsec-mb %v, crypto/cipher %v", errFast, errRef)
		}
	})
}

// fit repeats or cuts seed to n bytes, so every input gives a valid key.
func fit(seed []byte, n int) []byte {
	b := make([]byte, n)
	if len(seed) == 0 {
		return b
	}
	for i := range b {
		b[i] = seed[i%len(seed)]
	}
	return b
}
