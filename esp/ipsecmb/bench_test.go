//go:build ipsecmb && linux && amd64 && cgo

package ipsecmb

import (
	"crypto/cipher"
	"testing"
)

// Seal and open of one ESP-sized packet (1400 bytes, 8-byte AAD) in place,
// ipsec-mb beside crypto/cipher with the same key.
func BenchmarkSeal1400(b *testing.B) {
	for _, c := range bothAEADs(b) {
		b.Run(c.name, func(b *testing.B) {
			nonce, aad := random(b, nonceSize), random(b, 8)
			buf := make([]byte, 1400, 1400+tagSize)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				c.aead.Seal(buf[:0], nonce, buf, aad)
			}
		})
	}
}

func BenchmarkOpen1400(b *testing.B) {
	for _, c := range bothAEADs(b) {
		b.Run(c.name, func(b *testing.B) {
			nonce, aad := random(b, nonceSize), random(b, 8)
			sealed := c.aead.Seal(nil, nonce, make([]byte, 1400), aad)
			out := make([]byte, 0, 1400)
			b.SetBytes(1400)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.aead.Open(out, nonce, sealed, aad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// namedAEAD is one implementation a benchmark runs.
type namedAEAD struct {
	name string
	aead cipher.AEAD
}

// bothAEADs are ipsec-mb's and crypto/cipher's AES-256-GCM with one key.
func bothAEADs(b *testing.B) []namedAEAD {
	fast, ref := pair(b, random(b, 32))
	return []namedAEAD{{"ipsecmb", fast}, {"go", ref}}
}
