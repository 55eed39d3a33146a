//go:build ipsecmb && linux && amd64 && cgo

package ipsecmb

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
)

// pair returns ipsec-mb's AEAD and crypto/cipher's for one key.
func pair(t testing.TB, key []byte) (fast, ref cipher.AEAD) {
	t.Helper()
	if !Available() {
		t.Skipf("SKIPPED: ipsec-mb AES-GCM unavailable on this machine: %s", Implementation())
	}
	fast, err := NewGCM(key)
	if err != nil {
		t.Fatalf("NewGCM(%d-byte key): %v", len(key), err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	ref, err = cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return fast, ref
}

func random(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// ESP's AAD is SPI || sequence number, 8 bytes, or 12 with ESN.
var espAADSizes = []int{8, 12}

func TestSealOpenEqualCryptoCipher(t *testing.T) {
	for _, keySize := range []int{16, 24, 32} {
		fast, ref := pair(t, random(t, keySize))
		for _, aadSize := range espAADSizes {
			for n := 0; n <= 2100; n++ {
				nonce, aad, plain := random(t, nonceSize), random(t, aadSize), random(t, n)
				want := ref.Seal(nil, nonce, plain, aad)

				// Appended to a prefix that must survive.
				prefix := []byte("prefix")
				got := fast.Seal(append([]byte(nil), prefix...), nonce, plain, aad)
				if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
					t.Fatalf("AES-%d, %d-byte AAD, %d bytes: Seal differs from crypto/cipher", keySize*8, aadSize, n)
				}
				// In place, as ESP seals: dst is plaintext[:0].
				buf := make([]byte, n, n+tagSize)
				copy(buf, plain)
				if got := fast.Seal(buf[:0], nonce, buf, aad); !bytes.Equal(got, want) || &got[0] != &buf[:1][0] {
					t.Fatalf("AES-%d, %d-byte AAD, %d bytes: in-place Seal differs or moved", keySize*8, aadSize, n)
				}

				opened, err := fast.Open(nil, nonce, want, aad)
				if err != nil || !bytes.Equal(opened, plain) {
					t.Fatalf("AES-%d, %d-byte AAD, %d bytes: Open = %v, plaintext equal %v", keySize*8, aadSize, n, err, bytes.Equal(opened, plain))
				}
				// In place, as ESP opens.
				ct := append([]byte(nil), want...)
				opened, err = fast.Open(ct[:0], nonce, ct, aad)
				if err != nil || !bytes.Equal(opened, plain) {
					t.Fatalf("AES-%d, %d-byte AAD, %d bytes: in-place Open = %v", keySize*8, aadSize, n, err)
				}
			}
		}
	}
}

// TestOpenRefusesEveryBitFlip flips each bit of the ciphertext, tag, AAD
// and nonce in turn: every Open must fail, return nil and leave zeros
// where it wrote plaintext.
func TestOpenRefusesEveryBitFlip(t *testing.T) {
	for _, keySize := range []int{16, 24, 32} {
		fast, _ := pair(t, random(t, keySize))
		for _, n := range []int{0, 1, 15, 16, 17, 63, 255} {
			nonce, aad, plain := random(t, nonceSize), random(t, 12), random(t, n)
			sealed := fast.Seal(nil, nonce, plain, aad)
			for _, field := range []struct {
				name string
				b    []byte
			}{{"ciphertext and tag", sealed}, {"AAD", aad}, {"nonce", nonce}} {
				for bit := 0; bit < 8*len(field.b); bit++ {
					field.b[bit/8] ^= 1 << (bit % 8)
					out := make([]byte, 0, n)
					got, err := fast.Open(out, nonce, sealed, aad)
					field.b[bit/8] ^= 1 << (bit % 8)
					if err == nil || got != nil {
						t.Fatalf("AES-%d, %d bytes: Open accepted bit %d of the %s flipped", keySize*8, n, bit, field.name)
					}
					if !bytes.Equal(out[:n], make([]byte, n)) {
						t.Fatalf("AES-%d, %d bytes: refused Open left plaintext behind", keySize*8, n)
					}
				}
			}
			if _, err := fast.Open(nil, nonce, sealed, aad); err != nil {
				t.Fatalf("AES-%d, %d bytes: untouched packet refused: %v", keySize*8, n, err)
			}
			if _, err := fast.Open(nil, nonce, sealed[:len(sealed)-1], aad); err == nil {
				t.Fatalf("AES-%d, %d bytes: Open accepted a truncated tag", keySize*8, n)
			}
		}
	}
}

// NIST GCM test vectors (gcmEncryptExtIV, 96-bit IV, 128-bit tag), one or
// two per key size: ciphertext is followed by the tag.
var nistVectors = []struct{ key, nonce, plain, aad, sealed string }{
	{"11754cd72aec309bf52f7687212e8957", "3c819d9a9bed087615030b65", "", "", "250327c674aaf477aef2675748cf6971"},
	{"e2e001a36c60d2bf40d69ff5b2b1161ea218db263be16a4e", "3c819d9a9bed087615030b65", "", "", "c7b8da1fe2e3dccc4071ba92a0a57ba8"},
	{"5394e890d37ba55ec9d5f327f15680f6a63ef5279c79331643ad0af6d2623525", "3c819d9a9bed087615030b65", "", "", "d9b260d4bc4630733ffb642f5ce45726"},
	{"fbe3467cc254f81be8e78d765a2e6333", "c6697351ff4aec29cdbaabf2", "", "67", "3659cdc25288bf499ac736c03bfc1159"},
	{"7fddb57453c241d03efbed3ac44e371c", "ee283a3fc75575e33efd4887", "d5de42b461646c255c87bd2962d3b9a2", "",
		"2ccda4a5415cb91e135c2a0f78c9b2fdb36d1df9b9d5e596f83e8b7f52971cb3"},
}

func TestNISTVectors(t *testing.T) {
	for i, v := range nistVectors {
		key, nonce, plain, aad, sealed := unhex(t, v.key), unhex(t, v.nonce), unhex(t, v.plain), unhex(t, v.aad), unhex(t, v.sealed)
		fast, _ := pair(t, key)
		if got := fast.Seal(nil, nonce, plain, aad); !bytes.Equal(got, sealed) {
			t.Errorf("vector %d: Seal = %x, want %x", i, got, sealed)
		}
		if got, err := fast.Open(nil, nonce, sealed, aad); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("vector %d: Open = %x, %v, want %x", i, got, err, plain)
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrentUse seals and opens with one key from several goroutines
// (run it with -race): the key is shared, each call's context is its own.
func TestConcurrentUse(t *testing.T) {
	fast, ref := pair(t, random(t, 32))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				nonce, aad, plain := random(t, nonceSize), random(t, 8), random(t, (g*131+i*7)%1500)
				want := ref.Seal(nil, nonce, plain, aad)
				buf := append(make([]byte, 0, len(plain)+tagSize), plain...)
				if got := fast.Seal(buf[:0], nonce, buf, aad); !bytes.Equal(got, want) {
					errs <- fmt.Errorf("goroutine %d, packet %d: Seal differs", g, i)
					return
				}
				if got, err := fast.Open(buf[:0], nonce, buf[:len(want)], aad); err != nil || !bytes.Equal(got, plain) {
					errs <- fmt.Errorf("goroutine %d, packet %d: Open: %v", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNoAllocationPerPacket(t *testing.T) {
	fast, _ := pair(t, random(t, 32))
	nonce, aad := random(t, nonceSize), random(t, 8)
	buf := make([]byte, 1400, 1400+tagSize)
	sealed := fast.Seal(nil, nonce, buf, aad)
	if a := testing.AllocsPerRun(100, func() { fast.Seal(buf[:0], nonce, buf, aad) }); a != 0 {
		t.Errorf("Seal in place: %v allocations, want 0", a)
	}
	ct := make([]byte, len(sealed))
	if a := testing.AllocsPerRun(100, func() {
		copy(ct, sealed)
		if _, err := fast.Open(ct[:0], nonce, ct, aad); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Open in place: %v allocations, want 0", a)
	}
}

// TestPanicsLikeCryptoCipher: the misuse crypto/cipher refuses with a
// panic, this does too, rather than reading or writing out of bounds.
func TestPanicsLikeCryptoCipher(t *testing.T) {
	fast, _ := pair(t, random(t, 16))
	buf := make([]byte, 64)
	for name, f := range map[string]func(){
		"short nonce Seal":      func() { fast.Seal(nil, buf[:8], buf[:16], nil) },
		"long nonce Open":       func() { fast.Open(nil, buf[:16], buf[:32], nil) },
		"shifted in place":      func() { fast.Seal(buf[1:1], buf[40:52], buf[:16], nil) },
		"output over the AAD":   func() { fast.Seal(buf[:0], buf[40:52], buf[20:36], buf[:8]) },
		"open shifted in place": func() { fast.Open(buf[1:1], buf[40:52], buf[:32], nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestNewGCMRefusesBadKeys(t *testing.T) {
	pair(t, random(t, 16))
	for _, n := range []int{0, 8, 15, 17, 31, 33, 64} {
		if _, err := NewGCM(make([]byte, n)); err == nil {
			t.Errorf("NewGCM accepted a %d-byte key", n)
		}
	}
}

func TestImplementationNamesArch(t *testing.T) {
	pair(t, random(t, 16))
	if impl := Implementation(); !bytes.Contains([]byte(impl), []byte("ipsec-mb ")) {
		t.Errorf("Implementation() = %q, want the library and its architecture", impl)
	}
}
