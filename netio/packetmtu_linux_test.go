package netio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestPacketRingFollowsMTU: rings made on a veth of MTU 1500 are made
// again when both ends are raised to 9000, and ESP of 8900 octets then
// arrives whole on the ring and leaves by it; back at 1500, the ring
// hands a packet larger than the MTU to the kernel, which refuses it.
func TestPacketRingFollowsMTU(t *testing.T) { eachRingVersion(t, checkPacketRingFollowsMTU) }

func checkPacketRingFollowsMTU(t *testing.T) {
	l := newRingLab(t)
	n, p, recv, rawA, sendB, espB, a, b := l.n, l.p, l.recv, l.rawA, l.sendB, l.espB, l.a, l.b

	r := recv[0].(*packetRing)
	sendA := p.Sender(rawA)
	// setMTU sets both ends' MTU and waits for the ring's hand-over to
	// rings made for it.
	setMTU := func(mtu int) {
		t.Helper()
		n.Exec("a", "ip", "link", "set", "veth-a", "mtu", fmt.Sprint(mtu))
		n.Exec("b", "ip", "link", "set", "veth-b", "mtu", fmt.Sprint(mtu))
		for deadline := time.Now().Add(5 * time.Second); r.next.Load() == nil; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no rings made for MTU %d: %+v", mtu, p.Stats())
			}
		}
	}
	// both sends count packets of size octets each way: all through the
	// rings, none cut or dropped.
	both := func(size int) {
		t.Helper()
		const count = 20
		before := p.Stats()
		var in, out [][]byte
		for i := range count {
			in = append(in, xdpESPPacket(b, a, 0, byte(i), size))
			out = append(out, xdpESPPacket(a, b, 0, byte(i), size))
		}
		if m, err := sendB.WriteBatch(in); err != nil || m != count {
			t.Fatalf("B sent %d: %v", m, err)
		}
		got := readFor(t, recv[0], count, 5*time.Second, func(i int, m *Message) error {
			if !bytes.Equal(m.Buf[:m.N], in[i][20:]) {
				return fmt.Errorf("packet %d: %d octets, want %d", i, m.N, len(in[i])-20)
			}
			return nil
		})
		if st := p.Stats(); got != count || st.Received-before.Received != count || st.Truncated != 0 || st.Malformed != 0 {
			t.Fatalf("%d-octet ESP: ring received %d of %d (stats %+v)", size, got, count, st)
		}
		if m, err := sendA.WriteBatch(out); err != nil || m != count {
			t.Fatalf("A sent %d: %v", m, err)
		}
		if st := p.Stats(); st.Sent-before.Sent != count || st.ViaKernel != 0 {
			t.Fatalf("%d-octet ESP: A's sends %+v; want all %d on the ring", size, st, count)
		}
		got = readFor(t, espB, count, 5*time.Second, func(i int, m *Message) error {
			if !bytes.Equal(m.Buf[:m.N], out[i][20:]) {
				return fmt.Errorf("B's packet %d: %d octets, want %d", i, m.N, len(out[i])-20)
			}
			return nil
		})
		if got != count {
			t.Fatalf("%d-octet ESP: B received %d of %d", size, got, count)
		}
	}

	both(1400)
	if !r.v2 && r.blockSeq < 2 {
		t.Fatalf("after the first blocks, the next block's number is %d: the kernel numbers them from 1", r.blockSeq)
	}
	setMTU(9000)
	both(8900)
	if st := p.Stats(); st.Resized != 1 || st.ResizeError != "" {
		t.Fatalf("after MTU 9000: %+v", st)
	}
	// Back to 1500: the ring takes nothing larger to send (the kernel would
	// drop it unsaid); the raw socket refuses it, as in socket mode.
	setMTU(1500)
	both(1400)
	sent := p.Stats().Sent
	if m, err := sendA.WriteBatch([][]byte{xdpESPPacket(a, b, 0, 1, 3000)}); err == nil || m != 0 || p.Stats().Sent != sent {
		t.Fatalf("a 3020-octet packet at MTU 1500: sent %d, %v; stats %+v", m, err, p.Stats())
	}
	if st := p.Stats(); st.Resized != 2 || st.Truncated != 0 {
		t.Fatalf("after MTU 1500 again: %+v", st)
	}
}

// TestPacketRingRemadeUnderTraffic: ESP keeps arriving while the MTU goes
// up and down again, each change remaking the ring: the reader (lending,
// as the data plane reads) gets every packet in order, and none is lost
// but for what the kernel counts as dropped (ring-full).
func TestPacketRingRemadeUnderTraffic(t *testing.T) {
	eachRingVersion(t, checkPacketRingRemadeUnderTraffic)
}

func checkPacketRingRemadeUnderTraffic(t *testing.T) {
	l := newRingLab(t)
	n, p, recv, sendB, a, b := l.n, l.p, l.recv, l.sendB, l.a, l.b
	r := recv[0].(*packetRing)

	// The reader: sequence numbers in the ESP header's sequence field.
	var seqs []uint32
	readerDone := make(chan error, 1)
	go func() {
		msgs := newMessages(64, 16)
		for {
			k, err := r.ReadFrames(msgs)
			if err != nil {
				readerDone <- err
				return
			}
			for _, m := range msgs[:k] {
				if len(m.Lent) < 8 {
					readerDone <- fmt.Errorf("a %d-octet packet", len(m.Lent))
					return
				}
				seqs = append(seqs, binary.BigEndian.Uint32(m.Lent[4:8]))
			}
		}
	}()
	// The sender: batches of 16 every half millisecond until stopped,
	// numbered in the ESP sequence field.
	stop, sent := make(chan struct{}), make(chan uint32, 1)
	go func() {
		var seq, total uint32
		batch := make([][]byte, 16)
		for {
			select {
			case <-stop:
				sent <- total
				return
			case <-time.After(500 * time.Microsecond):
			}
			for i := range batch {
				seq++
				batch[i] = xdpESPPacket(b, a, 0, 0, 1400)
				binary.BigEndian.PutUint32(batch[i][24:], seq)
			}
			k, _ := sendB.WriteBatch(batch) // one B's kernel refused is a gap
			total += uint32(k)
		}
	}()
	waitResized := func(want uint64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); p.Stats().Resized < want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("ring not remade: %+v", p.Stats())
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	n.Exec("a", "ip", "link", "set", "veth-a", "mtu", "9000")
	waitResized(1)
	time.Sleep(100 * time.Millisecond)
	n.Exec("a", "ip", "link", "set", "veth-a", "mtu", "1500")
	waitResized(2)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	total := <-sent
	time.Sleep(200 * time.Millisecond) // the last blocks retire
	r.Close()
	if err := <-readerDone; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("reader: %v", err)
	}
	// A packet that arrived at a hand-over may be read twice (the replay
	// window drops the second); any other is read once, in order.
	seen := map[uint32]bool{}
	var last uint32
	for _, seq := range seqs {
		switch {
		case seen[seq]:
		case seq < last:
			t.Fatalf("packet %d after %d: out of order", seq, last)
		default:
			seen[seq], last = true, seq
		}
	}
	twice := len(seqs) - len(seen)
	st := p.Stats()
	lost := int(total) - len(seen) - int(st.RingFull)
	t.Logf("sent %d, read %d (%d twice), %d lost; %+v", total, len(seqs), twice, lost, st)
	if st.Truncated != 0 || st.Malformed != 0 || lost != 0 || twice > 64 {
		t.Fatalf("sent %d, read %d (%d twice): %d lost; %+v", total, len(seqs), twice, lost, st)
	}
}
