package ikev2

import (
	"errors"
	"testing"

	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

func suiteRows(t *testing.T, enc string, integ string) (*transform.Transform, *transform.Transform) {
	t.Helper()
	e, ok := transform.LookupKeyword(transform.IKE, transform.TypeENCR, enc)
	if !ok {
		t.Fatalf("no %s", enc)
	}
	if integ == "" {
		return e, nil
	}
	i, ok := transform.LookupKeyword(transform.IKE, transform.TypeINTEG, integ)
	if !ok {
		t.Fatalf("no %s", integ)
	}
	return e, i
}

func keyOf(n int, seed byte) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

func TestMessageCipherRoundTrip(t *testing.T) {
	for _, tc := range []struct{ enc, integ string }{
		{"aes-256-gcm", ""}, {"aes-128-gcm", ""}, {"chacha20-poly1305", ""},
		{"aes-256-cbc", "sha-256"}, {"aes-128-cbc", "sha1"}, {"3des-cbc", "sha-512"},
	} {
		enc, integ := suiteRows(t, tc.enc, tc.integ)
		var ik []byte
		if integ != nil {
			ik = keyOf(integ.KeySize(), 9)
		}
		ek := keyOf(enc.KeyMaterialSize(), 1)
		send, err := newMessageCipher(enc, integ, ek, ik, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.enc, err)
		}
		recv, _ := newMessageCipher(enc, integ, ek, ik, nil)
		msg := &wire.Message{Header: wire.Header{InitiatorSPI: 1, ResponderSPI: 2, Exchange: wire.INFORMATIONAL, Flags: wire.FlagInitiator, MessageID: 7}}
		inner := []wire.Payload{&wire.Notify{Type: wire.INITIAL_CONTACT}, &wire.Nonce{Data: keyOf(32, 3)}}
		b, err := send.seal(msg, inner)
		if err != nil {
			t.Fatalf("%s: seal: %v", tc.enc, err)
		}
		for i := 0; i < len(b); i += 7 { // every 7th byte, tampered, must fail
			bad := append([]byte(nil), b...)
			bad[i] ^= 0x40
			m, err := wire.Parse(bad)
			if err != nil {
				continue // a tampered header may no longer parse: also a refusal
			}
			if _, err := recv.open(m); err == nil {
				t.Fatalf("%s: byte %d tampered, still opened", tc.enc, i)
			} else if i >= wire.HeaderLen+4 && !errors.Is(err, errIntegrity) && !isSyntax(err) {
				t.Fatalf("%s: byte %d: %v", tc.enc, i, err)
			}
		}
		m, err := wire.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := recv.open(m)
		if err != nil {
			t.Fatalf("%s: open: %v", tc.enc, err)
		}
		if len(got) != 2 {
			t.Fatalf("%s: %d inner payloads", tc.enc, len(got))
		}
		n, ok := got[1].(*wire.Nonce)
		if !ok || string(n.Data) != string(keyOf(32, 3)) {
			t.Fatalf("%s: inner payloads %+v", tc.enc, got)
		}
	}
}

func isSyntax(err error) bool { return errors.Is(err, wire.ErrInvalidSyntax) }
