package transform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// Tests common to every Diffie-Hellman key exchange method (the KEMs,
// which are not symmetric, are tested in mlkem_test.go).

func keRows(t testing.TB) []*Transform {
	t.Helper()
	var rows []*Transform
	for _, row := range All() {
		if row.Type == TypeKE && !row.IsKEM() {
			rows = append(rows, row)
		}
	}
	if len(rows) != 11 {
		t.Fatalf("%d KE rows, want 11", len(rows))
	}
	return rows
}

// seeded is a deterministic random source for tests.
func seeded(seed byte) io.Reader {
	return rand.NewChaCha8([32]byte{seed})
}

// TestKeyExchangeAgreement: both ends of every group derive the same secret
// of the expected length, from public values of the table's size.
func TestKeyExchangeAgreement(t *testing.T) {
	for _, row := range keRows(t) {
		t.Run(row.Name, func(t *testing.T) {
			i, err := row.NewKeyExchange(seeded(1))
			if err != nil {
				t.Fatal(err)
			}
			r, err := row.NewKeyExchange(nil) // crypto/rand
			if err != nil {
				t.Fatal(err)
			}
			if len(i.PublicKey()) != row.PublicKeySize || len(r.PublicKey()) != row.PublicKeySize {
				t.Fatalf("public values %d and %d bytes, table says %d",
					len(i.PublicKey()), len(r.PublicKey()), row.PublicKeySize)
			}
			zi, err := i.SharedSecret(r.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			zr, err := r.SharedSecret(i.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(zi, zr) {
				t.Fatalf("initiator and responder disagree")
			}
			if len(zi) != secretSize(row) {
				t.Errorf("shared secret %d bytes, want %d", len(zi), secretSize(row))
			}
			if bytes.Equal(i.PublicKey(), r.PublicKey()) {
				t.Errorf("two exchanges drew the same private value")
			}
		})
	}
}

// secretSize is g^ir's length: the prime's for MODP, one coordinate for ECP.
func secretSize(row *Transform) int {
	switch row.ID {
	case ECP_256, ECP_384, ECP_521:
		return row.PublicKeySize / 2
	}
	return row.PublicKeySize
}

// TestKeyExchangeRandomness: the private value comes from the injected
// reader and nowhere else; a failing reader fails the constructor.
func TestKeyExchangeRandomness(t *testing.T) {
	for _, row := range keRows(t) {
		a, err := row.NewKeyExchange(seeded(7))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := row.NewKeyExchange(seeded(7))
		c, _ := row.NewKeyExchange(seeded(8))
		if !bytes.Equal(a.PublicKey(), b.PublicKey()) {
			t.Errorf("%s: same seed, different public values", row.Name)
		}
		if bytes.Equal(a.PublicKey(), c.PublicKey()) {
			t.Errorf("%s: different seeds, same public value", row.Name)
		}
		if _, err := row.NewKeyExchange(io.LimitReader(seeded(9), 3)); err == nil {
			t.Errorf("%s: a reader that runs dry gave a key exchange", row.Name)
		}
		// The caller may scribble on what PublicKey returns.
		p := a.PublicKey()
		p[0] ^= 0xff
		if !bytes.Equal(a.PublicKey(), b.PublicKey()) {
			t.Errorf("%s: PublicKey returned internal state", row.Name)
		}
	}
}

// TestKeyExchangeKeepsSecrets: printing an exchange or its errors shows no
// private value.
func TestKeyExchangeKeepsSecrets(t *testing.T) {
	for _, row := range keRows(t) {
		kx, err := row.NewKeyExchange(seeded(3))
		if err != nil {
			t.Fatal(err)
		}
		want := row.Name + " key exchange"
		for _, verb := range []string{"%v", "%+v", "%s"} {
			if got := fmt.Sprintf(verb, kx); got != want {
				t.Errorf("%s: Sprintf(%q) = %q, want %q", row.Name, verb, got, want)
			}
		}
		_, err = kx.SharedSecret([]byte{1, 2, 3})
		if err == nil || !strings.HasPrefix(err.Error(), row.Name+": ") {
			t.Errorf("%s: error %q does not name the group", row.Name, err)
		}
		if !errors.Is(err, ErrInvalidPublicValue) {
			t.Errorf("%s: error does not wrap ErrInvalidPublicValue", row.Name)
		}
	}
}

// FuzzSharedSecret feeds arbitrary peer values to every group: no panic, and
// a value accepted gives a secret of the right length (never all zero).
func FuzzSharedSecret(f *testing.F) {
	rows := keRows(f)
	exchanges := make([]KeyExchange, len(rows))
	for n, row := range rows {
		kx, err := row.NewKeyExchange(seeded(byte(n)))
		if err != nil {
			f.Fatal(err)
		}
		exchanges[n] = kx
		peer, _ := row.NewKeyExchange(seeded(byte(n + 100)))
		f.Add(uint8(n), peer.PublicKey())
		f.Add(uint8(n), make([]byte, row.PublicKeySize))
	}
	f.Fuzz(func(t *testing.T, group uint8, peer []byte) {
		n := int(group) % len(rows)
		z, err := exchanges[n].SharedSecret(peer)
		if err != nil {
			if !errors.Is(err, ErrInvalidPublicValue) {
				t.Fatalf("%s: error %v does not wrap ErrInvalidPublicValue", rows[n].Name, err)
			}
			return
		}
		if len(peer) != rows[n].PublicKeySize || len(z) != secretSize(rows[n]) {
			t.Fatalf("%s: accepted %d bytes, gave %d", rows[n].Name, len(peer), len(z))
		}
		if bytes.Count(z, []byte{0}) == len(z) {
			t.Fatalf("%s: all-zero shared secret", rows[n].Name)
		}
	})
}

// BenchmarkKeyExchange is one side's cost of an exchange: drawing the
// private value, the public value, and the shared secret with a peer value.
func BenchmarkKeyExchange(b *testing.B) {
	for _, row := range keRows(b) {
		peer, err := row.NewKeyExchange(seeded(1))
		if err != nil {
			b.Fatal(err)
		}
		peerPublic := peer.PublicKey()
		b.Run(row.Display, func(b *testing.B) {
			b.ReportAllocs()
			r := seeded(2)
			for b.Loop() {
				kx, err := row.NewKeyExchange(r)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := kx.SharedSecret(peerPublic); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
