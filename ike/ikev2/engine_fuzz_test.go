package ikev2

import (
	"net/netip"
	"os"
	"testing"

	"ipsecgw/ike/wire"
)

// FuzzHandleMessage: any bytes arriving at a responder (which has one
// configured peer) are dropped or answered, never a panic; the first
// message of an exchange is the one the Internet can send unauthenticated.
func FuzzHandleMessage(f *testing.F) {
	if b, err := os.ReadFile("../wire/testdata/strongswan-5.9.8-ike-sa-init.bin"); err == nil {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 28))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	e, _, peer := newSide(f, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	from := netip.AddrPortFrom(peer.Remote, 500)
	to := netip.AddrPortFrom(peer.Local, 500)
	f.Fuzz(func(t *testing.T, b []byte) {
		e.HandleMessage(b, from, to)
	})
}

// TestDropsCounted: what the engine drops is counted by why.
func TestDropsCounted(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	e, _, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	from, to := netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500")
	e.HandleMessage([]byte("garbage that is no IKE message"), from, to)
	m := &wire.Message{Header: wire.Header{InitiatorSPI: 1, ResponderSPI: 2, Exchange: wire.INFORMATIONAL, MessageID: 3}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	e.HandleMessage(b, from, to)
	if d := e.Drops(); d["malformed"] != 1 || d["no-sa"] != 1 {
		t.Fatalf("drops %v", d)
	}
}
