package netio

import (
	"strings"
	"testing"
)

// TestXDPMTU pins down what an MTU larger than an AF_XDP frame does on a
// veth with the program attached natively. The kernel keeps the
// receiving side safe itself: while a program without multi-buffer
// support is on veth-a, it caps the peer's MTU at what one page holds
// (veth_xdp_set), so veth-b cannot be raised to 9000 and no packet larger
// than a frame can arrive. veth-a's own MTU can be raised: then a packet
// to send that does not fit a UMEM frame (xskFrameSize) goes by the
// kernel's raw socket, counted as via-kernel, not dropped.
func TestXDPMTU(t *testing.T) {
	l := newXDPLab(t)
	if !strings.Contains(l.x.Describe(), "native") {
		t.Skipf("XDP on %s: the peer's MTU cap is native veth XDP's", l.x.Describe())
	}
	out, err := l.n.Try("b", "ip", "link", "set", "veth-b", "mtu", "9000")
	if err == nil || !strings.Contains(out, "mtu greater than device maximum") {
		t.Fatalf("raising the peer's MTU past an XDP frame: %v %q, want the kernel's refusal", err, out)
	}
	l.n.Exec("a", "ip", "link", "set", "veth-a", "mtu", "9000")
	s := l.x.Sender(l.rawA)
	small, large := xdpESPPacket(l.a, l.b, 0, 1, 3000), xdpESPPacket(l.a, l.b, 0, 2, xskFrameSize)
	if m, err := s.WriteBatch([][]byte{small, large}); err != nil || m != 2 {
		t.Fatalf("sent %d: %v", m, err)
	}
	if st := l.x.Stats(); st.Sent != 1 || st.ViaKernel != 1 {
		t.Fatalf("a %d- and a %d-octet packet: %+v; want one on the ring, one by the kernel", len(small), len(large), st)
	}
}
