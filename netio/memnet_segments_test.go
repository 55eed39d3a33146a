package netio

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
)

// TestMemSendSegments: a run sent from a fake UDP socket arrives as one
// datagram per segment, from the socket's port and the given (or the
// host's) address, with the TOS; the last segment may be shorter.
func TestMemSendSegments(t *testing.T) {
	for _, fam := range []int{4, 6} {
		network := NewMemNetwork()
		aAddr, bAddr := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
		if fam == 6 {
			aAddr, bAddr = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
		}
		a, _ := network.AddHost(aAddr)
		b, _ := network.AddHost(bAddr)
		ra, err := a.ListenUDP(fam, 4500)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.ListenUDP(fam, 500)
		if err != nil {
			t.Fatal(err)
		}
		s := ra.(SegmentSender)
		buf := bytes.Repeat([]byte("0123456789"), 25) // 250 octets: 100, 100, 50
		for _, src := range []netip.Addr{aAddr, {}} {
			if err := s.SendSegments(netip.AddrPortFrom(bAddr, 500), src, 0xb8, buf, 100); err != nil {
				t.Fatalf("IPv%d: %v", fam, err)
			}
			msgs := make([]Message, 8)
			for i := range msgs {
				msgs[i].Buf = make([]byte, 2048)
			}
			n, err := rb.ReadBatch(msgs)
			if err != nil || n != 3 {
				t.Fatalf("IPv%d: read %d datagrams, %v; want 3", fam, n, err)
			}
			var got []byte
			for i, m := range msgs[:n] {
				if want := min(100, len(buf)-100*i); m.N != want {
					t.Errorf("IPv%d: segment %d has %d octets, want %d", fam, i, m.N, want)
				}
				if m.Src != netip.AddrPortFrom(aAddr, 4500) || m.Dst != bAddr || m.TOS != 0xb8 {
					t.Errorf("IPv%d: segment %d from %s to %s TOS %#x", fam, i, m.Src, m.Dst, m.TOS)
				}
				got = append(got, m.Buf[:m.N]...)
			}
			if !bytes.Equal(got, buf) {
				t.Errorf("IPv%d: segments do not join up to what was sent", fam)
			}
		}
		if st := network.Stats(); st.Sent != 6 || st.Delivered != 6 {
			t.Errorf("IPv%d: stats %+v", fam, st)
		}
		// Refusals: wrong family, bad segment size, too long for the MTU,
		// a raw ESP socket, a closed socket.
		other := netip.MustParseAddrPort("[2001:db8::9]:500")
		if fam == 6 {
			other = netip.MustParseAddrPort("192.0.2.9:500")
		}
		if err := s.SendSegments(other, netip.Addr{}, 0, buf, 100); err == nil {
			t.Errorf("IPv%d: sent to %s", fam, other)
		}
		if err := s.SendSegments(netip.AddrPortFrom(bAddr, 500), netip.Addr{}, 0, buf, 0); err == nil {
			t.Errorf("IPv%d: sent with segment size 0", fam)
		}
		big := make([]byte, 2000)
		if err := s.SendSegments(netip.AddrPortFrom(bAddr, 500), netip.Addr{}, 0, big, len(big)); !errors.Is(err, syscall.EMSGSIZE) {
			t.Errorf("IPv%d: over-MTU segment: %v, want EMSGSIZE", fam, err)
		}
		esp, _ := a.ListenESP(fam)
		if err := esp.(SegmentSender).SendSegments(netip.AddrPortFrom(bAddr, 500), netip.Addr{}, 0, buf, 100); err == nil {
			t.Errorf("IPv%d: raw ESP receiver sent UDP", fam)
		}
		ra.Close()
		if err := s.SendSegments(netip.AddrPortFrom(bAddr, 500), netip.Addr{}, 0, buf, 100); !errors.Is(err, net.ErrClosed) {
			t.Errorf("IPv%d: closed: %v, want net.ErrClosed", fam, err)
		}
	}
}
