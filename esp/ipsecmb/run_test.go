//go:build ipsecmb && linux && amd64 && cgo

package ipsecmb

import (
	"bytes"
	"testing"
)

// TestSealRunEqualsSeal seals runs of 0 to 70 messages (across runMax),
// of sizes 0 to 1500 and both ESP AAD sizes, in place: each must be
// crypto/cipher's Seal of the same message, and the bytes around it
// untouched.
func TestSealRunEqualsSeal(t *testing.T) {
	fast, ref := pair(t, random(t, 32))
	for _, count := range []int{0, 1, 2, runMax - 1, runMax, runMax + 1, 70} {
		msgs := make([]Message, count)
		want := make([][]byte, count)
		bufs := make([][]byte, count)
		for i := range msgs {
			n := (i * 97) % 1501
			nonce, aad, plain := random(t, nonceSize), random(t, espAADSizes[i%2]), random(t, n)
			want[i] = ref.Seal(nil, nonce, plain, aad)
			// A guard byte after the tag, which must survive.
			bufs[i] = append(append(make([]byte, 0, n+tagSize+1), plain...), make([]byte, tagSize)...)
			bufs[i] = append(bufs[i], 0xa5)
			msgs[i] = Message{Text: bufs[i][: n : n+tagSize], Nonce: nonce, AAD: aad}
		}
		if !SealRun(fast, msgs) {
			t.Fatal("SealRun refused NewGCM's AEAD")
		}
		for i := range msgs {
			n := len(msgs[i].Text)
			if !bytes.Equal(bufs[i][:n+tagSize], want[i]) || bufs[i][n+tagSize] != 0xa5 {
				t.Fatalf("run of %d, message %d (%d bytes): sealed differently from crypto/cipher", count, i, n)
			}
		}
	}
}

func TestSealRunRefusesOtherAEADs(t *testing.T) {
	_, ref := pair(t, random(t, 16))
	buf := make([]byte, 16, 32)
	if SealRun(ref, []Message{{Text: buf, Nonce: make([]byte, nonceSize)}}) {
		t.Fatal("SealRun took crypto/cipher's AEAD")
	}
	if !bytes.Equal(buf[:32], make([]byte, 32)) {
		t.Fatal("SealRun wrote with an AEAD it refused")
	}
}

// TestSealRunPanics: the misuse Seal refuses, and a text with no room for
// its tag, panic rather than write out of bounds.
func TestSealRunPanics(t *testing.T) {
	fast, _ := pair(t, random(t, 16))
	buf := make([]byte, 64)
	for name, m := range map[string]Message{
		"short nonce":         {Text: buf[:16:32], Nonce: buf[40:48]},
		"no room for the tag": {Text: buf[:16:31], Nonce: buf[40:52]},
		"output over the AAD": {Text: buf[20:36:52], Nonce: buf[:12], AAD: buf[40:48]},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			SealRun(fast, []Message{m})
		}()
	}
}

func TestSealRunAllocatesNothing(t *testing.T) {
	fast, _ := pair(t, random(t, 32))
	msgs := make([]Message, 40)
	for i := range msgs {
		msgs[i] = Message{Text: make([]byte, 1400, 1400+tagSize), Nonce: random(t, nonceSize), AAD: random(t, 8)}
	}
	if a := testing.AllocsPerRun(100, func() { SealRun(fast, msgs) }); a != 0 {
		t.Errorf("SealRun of 40: %v allocations, want 0", a)
	}
}
