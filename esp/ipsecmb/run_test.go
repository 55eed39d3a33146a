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

// TestOpenRunEqualsOpen opens runs of 0 to 70 messages, in place and into
// buffers apart, some of them with a bit flipped (tag, ciphertext, AAD or
// nonce) or too short for a tag: the good ones must come out as the
// plaintext, the others Bad with zeros where the plaintext would be.
func TestOpenRunEqualsOpen(t *testing.T) {
	fast, ref := pair(t, random(t, 32))
	for _, count := range []int{0, 1, runMax, runMax + 1, 70} {
		msgs := make([]Message, count)
		plains := make([][]byte, count)
		bad := make([]bool, count)
		for i := range msgs {
			n := (i * 89) % 1501
			nonce, aad := random(t, nonceSize), random(t, espAADSizes[i%2])
			plains[i] = random(t, n)
			sealed := ref.Seal(nil, nonce, plains[i], aad)
			m := Message{Text: sealed, Nonce: nonce, AAD: aad, Out: sealed}
			if i%2 == 1 {
				m.Out = make([]byte, n+3) // apart, and longer than needed
			}
			switch i % 7 {
			case 2:
				sealed[len(sealed)-1] ^= 0x10 // tag
			case 3:
				if n > 0 {
					sealed[n/2] ^= 1 // ciphertext
				} else {
					aad[0] ^= 1
				}
			case 4:
				aad[len(aad)-1] ^= 0x80
			case 5:
				nonce[3] ^= 4
			case 6:
				m.Text = sealed[:tagSize-1] // too short to hold a tag
			}
			bad[i] = i%7 >= 2
			msgs[i] = m
		}
		if !OpenRun(fast, msgs) {
			t.Fatal("OpenRun refused NewGCM's AEAD")
		}
		for i, m := range msgs {
			n := len(plains[i])
			if m.Bad != bad[i] {
				t.Fatalf("run of %d, message %d (%d bytes): Bad %v, want %v", count, i, n, m.Bad, bad[i])
			}
			want := plains[i]
			if bad[i] {
				if len(m.Text) < tagSize {
					continue
				}
				want = make([]byte, n)
			}
			if !bytes.Equal(m.Out[:n], want) {
				t.Fatalf("run of %d, message %d (%d bytes, bad %v): wrong output", count, i, n, bad[i])
			}
		}
	}
	if OpenRun(ref, []Message{{Text: make([]byte, 32), Nonce: make([]byte, nonceSize)}}) {
		t.Fatal("OpenRun took crypto/cipher's AEAD")
	}
}

func TestOpenRunPanics(t *testing.T) {
	fast, _ := pair(t, random(t, 16))
	buf := make([]byte, 128)
	for name, m := range map[string]Message{
		"short nonce":         {Text: buf[:32], Out: buf[:32], Nonce: buf[100:108]},
		"shifted in place":    {Text: buf[:32], Out: buf[1:33], Nonce: buf[100:112]},
		"output over the AAD": {Text: buf[:32], Out: buf[:32], Nonce: buf[100:112], AAD: buf[8:16]},
		"no room":             {Text: buf[:32], Out: buf[64:79], Nonce: buf[100:112]},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			OpenRun(fast, []Message{m})
		}()
	}
}
