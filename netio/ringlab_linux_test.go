package netio

import (
	"fmt"
	"net/netip"
	"testing"

	"ipsecgw/test/netns"
)

// vethPair is namespaces a and b on a veth pair, veth-a 198.51.100.1 and
// veth-b 198.51.100.2, the neighbours resolved by one ping.
func vethPair(t *testing.T) (n *netns.Net, a, b netip.Addr) {
	t.Helper()
	netns.RequireRoot(t)
	n = netns.New(t, "a", "b")
	n.Link("a", "veth-a", "198.51.100.1/24", "b", "veth-b", "198.51.100.2/24")
	n.Exec("a", "ping", "-c", "1", "-W", "5", "198.51.100.2")
	return n, netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
}

// ringLab is a vethPair with the packet rings opened in a and attached to
// a's address (one ring, recv[0]) and rawA, a raw ESP sender in a (the
// rings' fallback for transmit); in b a raw ESP sender and a raw ESP
// receiver. All are closed at the test's end.
type ringLab struct {
	n           *netns.Net
	p           *PacketRing
	recv        []Receiver
	rawA, sendB Sender
	espB        Receiver
	a, b        netip.Addr
}

func newRingLab(t *testing.T) ringLab {
	t.Helper()
	var l ringLab
	l.n, l.a, l.b = vethPair(t)
	inNetns(t, l.n, "a", func() (err error) {
		if l.p, err = OpenPacketRing(); err != nil {
			return err
		}
		if l.rawA, err = NewRawSender(4); err != nil {
			return err
		}
		if l.recv, err = l.p.Attach([]netip.Addr{l.a}); err == nil && len(l.recv) != 1 {
			err = fmt.Errorf("%d rings, want 1", len(l.recv))
		}
		return err
	})
	t.Cleanup(func() { l.rawA.Close(); l.p.Close() })
	inNetns(t, l.n, "b", func() (err error) {
		if l.espB, err = ListenESP(4); err != nil {
			return err
		}
		l.sendB, err = NewRawSender(4)
		return err
	})
	t.Cleanup(func() { l.espB.Close(); l.sendB.Close() })
	return l
}
