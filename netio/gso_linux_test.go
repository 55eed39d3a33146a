package netio

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestKernelSegmentsRoundTrip: a run sent with SendSegments (UDP GSO) from
// a UDP socket in namespace a arrives at b's ListenUDP socket as the same
// datagrams, whether the kernel coalesced them (UDP GRO, SegmentSize) or
// not, with the source port of the sending socket and the DS byte given.
// With vec, the datagrams go out gathered from separate slices
// (SendSegmentVec); malformed runs are refused.
func TestKernelSegmentsRoundTrip(t *testing.T) {
	for _, fam := range []int{4, 6, -4, -6} {
		vec := fam < 0
		fam = max(fam, -fam)
		p := newKernelPair(t)
		var sendSock Receiver
		inNetns(t, p.n, "a", func() (err error) { sendSock, err = ListenUDP(fam, 4500); return err })
		t.Cleanup(func() { sendSock.Close() })
		recv := p.udp4
		src, dst := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
		if fam == 6 {
			recv = p.udp6
			src, dst = netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:1::2")
		}
		ss, ok := sendSock.(SegmentSender)
		if !ok {
			t.Fatal("a ListenUDP socket is not a SegmentSender")
		}
		const seg, n = 1000, 10
		run := make([]byte, 0, seg*n)
		var segs [][]byte
		for i := 0; i < n; i++ {
			d := bytes.Repeat([]byte{byte(i + 1)}, seg)
			if i == n-1 {
				d = d[:seg/2] // the last datagram may be shorter
			}
			run = append(run, d...)
			segs = append(segs, d)
		}
		if vec {
			vs, ok := sendSock.(SegmentVecSender)
			if !ok {
				t.Fatal("a ListenUDP socket is not a SegmentVecSender")
			}
			to := netip.AddrPortFrom(dst, 4500)
			for _, bad := range [][][]byte{nil, {segs[n-1], segs[0]}, {segs[0], {}}, {make([]byte, seg+1)}} {
				if err := vs.SendSegmentVec(to, src, 0xb8, bad, seg); err == nil {
					t.Fatalf("IPv%d: SendSegmentVec took a malformed run of %d", fam, len(bad))
				}
			}
			if err := vs.SendSegmentVec(to, src, 0xb8, segs, seg); err != nil {
				t.Fatalf("IPv%d: SendSegmentVec: %v", fam, err)
			}
		} else if err := ss.SendSegments(netip.AddrPortFrom(dst, 4500), src, 0xb8, run, seg); err != nil {
			t.Fatalf("IPv%d: SendSegments: %v", fam, err)
		}
		got, tos := receiveSegments(t, recv, src, n)
		for i := range got {
			if tos[i] != 0xb8 {
				t.Fatalf("IPv%d: datagram %d with DS byte %#x", fam, i, tos[i])
			}
		}
		for i, d := range got {
			if d[0] != byte(i+1) || (i < n-1 && len(d) != seg) || (i == n-1 && len(d) != seg/2) {
				t.Fatalf("IPv%d: datagram %d is %d octets of %d", fam, i, len(d), d[0])
			}
		}
	}
}
