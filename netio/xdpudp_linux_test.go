package netio

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// TestXDPSteersESPInUDP: with 4500 among the steered ports, ESP in UDP
// to A's 4500 arrives on the AF_XDP socket with both ports; an IKE
// message behind the non-ESP marker on 4500, and ESP in UDP to a port
// not steered, reach A's UDP sockets through the kernel.
func TestXDPSteersESPInUDP(t *testing.T) {
	checkRingTakesESPInUDP(t, func(a netip.Addr) (ring, udp4500, udp5000 Receiver, received func() uint64, err error) {
		x, err := OpenXDP()
		if err != nil {
			return nil, nil, nil, nil, err
		}
		t.Cleanup(func() { x.Close() })
		if err = x.SetUDPPorts([]uint16{4500}); err != nil {
			return nil, nil, nil, nil, err
		}
		if udp4500, err = ListenUDP(4, 4500); err != nil {
			return nil, nil, nil, nil, err
		}
		if udp5000, err = ListenUDP(4, 5000); err != nil {
			return nil, nil, nil, nil, err
		}
		recv, err := x.Attach([]netip.Addr{a})
		if err == nil && len(recv) != 1 {
			err = fmt.Errorf("%d sockets, want 1", len(recv))
		}
		if err != nil {
			return nil, nil, nil, nil, err
		}
		return recv[0], udp4500, udp5000, func() uint64 { return x.Stats().Received }, nil
	})
}

// TestPacketRingESPInUDP: the same on a packet ring, whose UDP socket
// beside it must leave it the ESP it took: the IKE message is the
// socket's first datagram.
func TestPacketRingESPInUDP(t *testing.T) {
	eachRingVersion(t, checkPacketRingESPInUDP)
}

func checkPacketRingESPInUDP(t *testing.T) {
	checkRingTakesESPInUDP(t, func(a netip.Addr) (ring, udp4500, udp5000 Receiver, received func() uint64, err error) {
		p, err := OpenPacketRing()
		if err != nil {
			return nil, nil, nil, nil, err
		}
		t.Cleanup(func() { p.Close() })
		if udp4500, err = p.ListenUDP(4, 4500); err != nil {
			return nil, nil, nil, nil, err
		}
		if udp5000, err = p.ListenUDP(4, 5000); err != nil {
			return nil, nil, nil, nil, err
		}
		recv, err := p.Attach([]netip.Addr{a})
		if err == nil && len(recv) != 1 {
			err = fmt.Errorf("%d rings, want 1", len(recv))
		}
		if err != nil {
			return nil, nil, nil, nil, err
		}
		// Set after the ring is open: its filter is replaced.
		if err := p.SetUDPPorts([]uint16{4500}); err != nil {
			return nil, nil, nil, nil, err
		}
		received = func() uint64 {
			if st := p.Stats(); st.Malformed == 0 {
				return st.Received
			}
			return 0
		}
		return recv[0], udp4500, udp5000, received, nil
	})
}

// checkRingTakesESPInUDP sends, from B to A, ESP in UDP to 4500 (for the
// ring), an IKE message to 4500 and ESP in UDP to 5000 (for the kernel's
// sockets), and checks each arrived where it belongs, once. open runs in
// A's namespace and returns A's ring, its UDP sockets and the ring's
// count of packets received.
func checkRingTakesESPInUDP(t *testing.T, open func(a netip.Addr) (ring, udp4500, udp5000 Receiver, received func() uint64, err error)) {
	netns.RequireRoot(t)
	n := netns.New(t, "a", "b")
	n.Link("a", "veth-a", "198.51.100.1/24", "b", "veth-b", "198.51.100.2/24")
	n.Exec("a", "ping", "-c", "1", "-W", "5", "198.51.100.2")
	a, b := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")

	var ring, udp4500, udp5000 Receiver
	var received func() uint64
	inNetns(t, n, "a", func() (err error) {
		ring, udp4500, udp5000, received, err = open(a)
		return err
	})
	t.Cleanup(func() { udp4500.Close(); udp5000.Close() })
	var sendB Sender
	inNetns(t, n, "b", func() (err error) {
		sendB, err = NewRawSender(4)
		return err
	})
	t.Cleanup(func() { sendB.Close() })

	esp := func(i byte) []byte { return bytes.Repeat([]byte{0, 0, 1, i}, 50) }
	ike := append([]byte{0, 0, 0, 0}, bytes.Repeat([]byte{0x2a}, 60)...)
	const count = 20
	var pkts [][]byte
	for i := range count {
		pkts = append(pkts, udpPacket(t, netip.AddrPortFrom(b, 4500), netip.AddrPortFrom(a, 4500), 0, esp(byte(i))))
	}
	pkts = append(pkts, udpPacket(t, netip.AddrPortFrom(b, 4500), netip.AddrPortFrom(a, 4500), 0, ike), udpPacket(t, netip.AddrPortFrom(b, 4501), netip.AddrPortFrom(a, 5000), 0, esp(0xee)))
	if m, err := sendB.WriteBatch(pkts); err != nil || m != len(pkts) {
		t.Fatalf("B sent %d: %v", m, err)
	}
	got := readFor(t, ring, count, 5*time.Second, func(i int, m *Message) error {
		if !bytes.Equal(m.Buf[:m.N], esp(byte(i))) || m.Src != netip.AddrPortFrom(b, 4500) || m.Dst != a || m.DstPort != 4500 {
			return fmt.Errorf("packet %d: %d octets from %s to %s port %d", i, m.N, m.Src, m.Dst, m.DstPort)
		}
		return nil
	})
	if got != count || received() != count {
		t.Fatalf("ring received %d of %d (counted %d, or malformed frames)", got, count, received())
	}
	if got := readFor(t, udp4500, 1, 5*time.Second, func(_ int, m *Message) error {
		if !bytes.Equal(m.Buf[:m.N], ike) {
			return fmt.Errorf("UDP 4500 got %d octets, not the IKE message", m.N)
		}
		return nil
	}); got != 1 {
		t.Fatal("the IKE message on 4500 did not reach the kernel's socket")
	}
	if got := readFor(t, udp5000, 1, 5*time.Second, func(_ int, m *Message) error {
		if !bytes.Equal(m.Buf[:m.N], esp(0xee)) {
			return fmt.Errorf("UDP 5000 got %d octets", m.N)
		}
		return nil
	}); got != 1 {
		t.Fatal("ESP in UDP to a port not taken did not reach the kernel's socket")
	}
}
