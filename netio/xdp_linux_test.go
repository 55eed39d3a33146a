package netio

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/header"
)

// xdpESPPacket is an IPv4 packet carrying ESP-looking bytes (SPI, sequence,
// then i repeated).
func xdpESPPacket(src, dst netip.Addr, tos uint8, i byte, n int) []byte {
	p := make([]byte, 20+n)
	header.EncodeIPv4(p, header.IPv4Fields{TOS: tos, TotalLength: uint16(len(p)), ID: uint16(i), TTL: 64, Protocol: header.IPProtoESP, Source: src, Destination: dst})
	for j := 20; j < len(p); j++ {
		p[j] = i
	}
	return p
}

// TestXDPSteersESP: with the XDP program on A's veth, ESP to A arrives on
// A's AF_XDP sockets (addresses, DS field and payload intact) while ping
// still reaches A's kernel; ESP A sends through the rings reaches B's raw
// ESP socket with the Ethernet header from A's neighbour table.
func TestXDPSteersESP(t *testing.T) {
	l := newXDPLab(t)
	n, x, recv, rawA, a, b := l.n, l.x, l.recv, l.rawA, l.a, l.b
	var sendB Sender
	var espB Receiver
	t.Logf("XDP on %s", x.Describe())
	inNetns(t, n, "b", func() (err error) {
		if espB, err = ListenESP(4); err != nil {
			return err
		}
		sendB, err = NewRawSender(4)
		return err
	})
	t.Cleanup(func() { espB.Close(); sendB.Close() })

	// B → A through the program into the ring.
	const count = 50
	var pkts [][]byte
	for i := range count {
		pkts = append(pkts, xdpESPPacket(b, a, 0xb8, byte(i), 1000))
	}
	if m, err := sendB.WriteBatch(pkts); err != nil || m != count {
		t.Fatalf("B sent %d: %v", m, err)
	}
	msgs := make([]Message, 64)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 2048)
	}
	got := 0
	deadline := time.Now().Add(5 * time.Second)
	for got < count && time.Now().Before(deadline) {
		// One receive queue on a veth.
		m, err := recv[0].ReadBatch(msgs)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range msgs[:m] {
			want := pkts[got][20:]
			if !bytes.Equal(msg.Buf[:msg.N], want) || msg.Src.Addr() != b || msg.Dst != a || msg.TOS != 0xb8 {
				t.Fatalf("packet %d: %d bytes from %s to %s tos %#x", got, msg.N, msg.Src, msg.Dst, msg.TOS)
			}
			got++
		}
	}
	if got != count || x.Stats().Received != count {
		t.Fatalf("received %d of %d (stats %+v)", got, count, x.Stats())
	}
	// Everything else still reaches A's kernel.
	n.Exec("b", "ping", "-c", "1", "-W", "5", "198.51.100.1")

	// A → B through the rings.
	s := x.Sender(rawA)
	pkts = pkts[:0]
	for i := range count {
		pkts = append(pkts, xdpESPPacket(a, b, 0x20, byte(i), 1200))
	}
	if m, err := s.WriteBatch(pkts); err != nil || m != count {
		t.Fatalf("A sent %d: %v", m, err)
	}
	if st := x.Stats(); st.Sent != count || st.ViaKernel != 0 {
		t.Fatalf("A's sends: %+v; want all %d on the ring", st, count)
	}
	// B's socket has no deadline: read on a goroutine, close it on timeout.
	type result struct {
		got int
		err string
	}
	res := make(chan result, 1)
	go func() {
		got := 0
		for got < count {
			m, err := espB.ReadBatch(msgs)
			if err != nil {
				res <- result{got, err.Error()}
				return
			}
			for _, msg := range msgs[:m] {
				if !bytes.Equal(msg.Buf[:msg.N], pkts[got][20:]) || msg.Src.Addr() != a || msg.TOS != 0x20 {
					res <- result{got, "wrong packet"}
					return
				}
				got++
			}
		}
		res <- result{got: got}
	}()
	select {
	case r := <-res:
		if r.got != count || r.err != "" {
			t.Fatalf("B received %d of %d: %s", r.got, count, r.err)
		}
	case <-time.After(5 * time.Second):
		espB.Close()
		t.Fatalf("B did not receive A's packets: %+v", <-res)
	}
}
