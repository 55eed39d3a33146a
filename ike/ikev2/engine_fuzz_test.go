package ikev2

import (
	"net/netip"
	"os"
	"testing"
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
