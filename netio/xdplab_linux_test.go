package netio

import (
	"fmt"
	"net/netip"
	"testing"

	"ipsecgw/test/netns"
)

// xdpLab is namespaces a and b on a veth pair (198.51.100.1 and .2, the
// neighbours resolved) with the AF_XDP data plane opened in a and attached
// to a's address: one queue, so one receiving socket, recv[0]. rawA is a
// raw ESP sender in a, the rings' fallback for transmit. All are closed at
// the test's end.
type xdpLab struct {
	n    *netns.Net
	x    *XDP
	recv []Receiver
	rawA Sender
	a, b netip.Addr
}

func newXDPLab(t *testing.T) xdpLab {
	t.Helper()
	var l xdpLab
	l.n, l.a, l.b = vethPair(t)
	inNetns(t, l.n, "a", func() (err error) {
		if l.x, err = OpenXDP(); err != nil {
			return err
		}
		l.rawA, err = NewRawSender(4)
		return err
	})
	t.Cleanup(func() { l.rawA.Close(); l.x.Close() })
	inNetns(t, l.n, "a", func() (err error) {
		l.recv, err = l.x.Attach([]netip.Addr{l.a})
		if err == nil && len(l.recv) != 1 {
			err = fmt.Errorf("%d sockets, want 1 (one queue)", len(l.recv))
		}
		return err
	})
	return l
}
