package netio

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"ipsecgw/header"
)

// readFor reads r on a goroutine until want packets came or the time is
// up (then r is closed to end the read), checking each with check.
func readFor(t *testing.T, r Receiver, want int, wait time.Duration, check func(i int, m *Message) error) int {
	t.Helper()
	type result struct {
		got int
		err error
	}
	res := make(chan result, 1)
	go func() {
		msgs := make([]Message, 64)
		for i := range msgs {
			msgs[i].Buf = make([]byte, 16384) // jumbo frames too
		}
		got := 0
		for got < want {
			n, err := r.ReadBatch(msgs)
			if err != nil {
				res <- result{got, err}
				return
			}
			for i := range msgs[:n] {
				if err := check(got, &msgs[i]); err != nil {
					res <- result{got, err}
					return
				}
				got++
			}
		}
		res <- result{got: got}
	}()
	select {
	case r := <-res:
		if r.err != nil {
			t.Fatalf("after %d packets: %v", r.got, r.err)
		}
		return r.got
	case <-time.After(wait):
		r.Close()
		return (<-res).got
	}
}

// TestPacketRing: with a ring on A's veth, ESP to A arrives on the ring
// (addresses, DS field and payload intact) and not a second time on the
// raw ESP socket beside it, which still gets the ESP the kernel
// reassembled from fragments; ping still reaches A; ESP A sends through
// the transmit ring reaches B's raw ESP socket with the Ethernet header
// from A's neighbour table.
func TestPacketRing(t *testing.T) { eachRingVersion(t, checkPacketRing) }

// eachRingVersion runs check on TPACKET_V2 rings and on TPACKET_V3 rings.
func eachRingVersion(t *testing.T, check func(t *testing.T)) {
	for _, v := range []string{"v2", "v3"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv(RingVersionEnv, v)
			check(t)
		})
	}
}

func checkPacketRing(t *testing.T) {
	l := newRingLab(t)
	n, p, recv, rawA, sendB, espB, a, b := l.n, l.p, l.recv, l.rawA, l.sendB, l.espB, l.a, l.b
	var espA Receiver
	inNetns(t, n, "a", func() (err error) {
		espA, err = p.ListenESP(4)
		return err
	})
	t.Cleanup(func() { espA.Close() })
	t.Logf("packet rings: %s", p.Describe())
	if want := fmt.Sprintf("TPACKET_V%s rx/tx on veth-a", t.Name()[len(t.Name())-1:]); p.Describe() != want {
		t.Fatalf("rings %q, want %q", p.Describe(), want)
	}

	// B → A into the ring.
	const count = 50
	var pkts [][]byte
	for i := range count {
		pkts = append(pkts, xdpESPPacket(b, a, 0xb8, byte(i), 1000))
	}
	if m, err := sendB.WriteBatch(pkts); err != nil || m != count {
		t.Fatalf("B sent %d: %v", m, err)
	}
	got := readFor(t, recv[0], count, 5*time.Second, func(i int, m *Message) error {
		if !bytes.Equal(m.Buf[:m.N], pkts[i][20:]) || m.Src.Addr() != b || m.Dst != a || m.TOS != 0xb8 {
			return fmt.Errorf("packet %d: %d bytes from %s to %s tos %#x", i, m.N, m.Src, m.Dst, m.TOS)
		}
		return nil
	})
	if st := p.Stats(); got != count || st.Received != count || st.Malformed != 0 {
		t.Fatalf("ring received %d of %d (stats %+v)", got, count, st)
	}
	n.Exec("b", "ping", "-c", "1", "-W", "5", "198.51.100.1")

	// An ESP packet in two fragments: not for the ring; the kernel
	// reassembles it for the raw socket, which has skipped the 50 above.
	whole := xdpESPPacket(b, a, 0, 0xee, 2000)
	payload := whole[20:]
	frag := func(off int, data []byte, more bool) []byte {
		f := make([]byte, 20+len(data))
		flags := uint16(off / 8)
		if more {
			flags |= 0x2000
		}
		header.EncodeIPv4(f, header.IPv4Fields{TotalLength: uint16(len(f)), ID: 0x4242, TTL: 64, Protocol: header.IPProtoESP, Source: b, Destination: a})
		f[6], f[7] = byte(flags>>8), byte(flags)
		copy(f[20:], data)
		return f
	}
	if m, err := sendB.WriteBatch([][]byte{frag(0, payload[:1200], true), frag(1200, payload[1200:], false)}); err != nil || m != 2 {
		t.Fatalf("B sent %d fragments: %v", m, err)
	}
	got = readFor(t, espA, 1, 5*time.Second, func(i int, m *Message) error {
		if !bytes.Equal(m.Buf[:m.N], payload) {
			return fmt.Errorf("raw socket packet %d: %d octets, want the reassembled %d", i, m.N, len(payload))
		}
		return nil
	})
	if got != 1 || p.Stats().Received != count {
		t.Fatalf("reassembled packets on the raw socket %d, want 1; ring stats %+v", got, p.Stats())
	}

	// A → B through the transmit ring.
	s := p.Sender(rawA)
	pkts = pkts[:0]
	for i := range count {
		pkts = append(pkts, xdpESPPacket(a, b, 0x20, byte(i), 1200))
	}
	if m, err := s.WriteBatch(pkts); err != nil || m != count {
		t.Fatalf("A sent %d: %v", m, err)
	}
	if st := p.Stats(); st.Sent != count || st.ViaKernel != 0 {
		t.Fatalf("A's sends: %+v; want all %d on the ring", st, count)
	}
	got = readFor(t, espB, count, 5*time.Second, func(i int, m *Message) error {
		if !bytes.Equal(m.Buf[:m.N], pkts[i][20:]) || m.Src.Addr() != a || m.TOS != 0x20 {
			return fmt.Errorf("B's packet %d: %d octets from %s", i, m.N, m.Src)
		}
		return nil
	})
	if got != count {
		t.Fatalf("B received %d of %d", got, count)
	}
}
