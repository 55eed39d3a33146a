package netio

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// TestPacketRingOrder: ESP sent as fast as A's transmit ring takes it
// reaches B's receive ring in order, each packet once, lent as the data
// plane reads it; what B's ring had no room for (the reader pauses now
// and then, as a loaded gateway does) is counted as ring-full, so that
// B's received and ring-full add up to exactly what A sent. An ESP
// receiver's anti-replay window refuses a packet seen twice or one
// arriving 64 or more behind the highest: neither may happen on the
// rings.
func TestPacketRingOrder(t *testing.T) { eachRingVersion(t, checkPacketRingOrder) }

func checkPacketRingOrder(t *testing.T) {
	const (
		batch   = 64
		total   = 1600 * batch
		window  = 64    // the smallest anti-replay window (Junos' default)
		pauseAt = 25000 // the reader pauses after this many packets
	)
	n, a, b := vethPair(t)
	var pA, pB *PacketRing
	var rawA Sender
	var recvB []Receiver
	inNetns(t, n, "a", func() (err error) {
		if pA, err = OpenPacketRing(); err != nil {
			return err
		}
		if rawA, err = NewRawSender(4); err != nil {
			return err
		}
		_, err = pA.Attach([]netip.Addr{a})
		return err
	})
	t.Cleanup(func() { rawA.Close(); pA.Close() })
	inNetns(t, n, "b", func() (err error) {
		if pB, err = OpenPacketRing(); err != nil {
			return err
		}
		if recvB, err = pB.Attach([]netip.Addr{b}); err == nil && len(recvB) != 1 {
			err = fmt.Errorf("%d rings, want 1", len(recvB))
		}
		return err
	})
	t.Cleanup(func() { pB.Close() })

	// B's reader: the sequence numbers in the order they came.
	var got atomic.Int64
	seqs := make(chan []uint32, 1)
	go func() {
		fr := recvB[0].(FrameReceiver)
		msgs := newMessages(64, 2048)
		var order []uint32
		defer func() { seqs <- order }()
		for {
			k, err := fr.ReadFrames(msgs)
			if err != nil {
				return
			}
			for i := range msgs[:k] {
				if msgs[i].Lent == nil || msgs[i].N < 8 {
					t.Errorf("packet %d not lent from the ring (%d octets)", len(order), msgs[i].N)
					return
				}
				order = append(order, binary.BigEndian.Uint32(msgs[i].Lent[4:]))
			}
			fr.ReleaseFrames()
			if c := got.Add(int64(k)); c/pauseAt != (c-int64(k))/pauseAt {
				time.Sleep(20 * time.Millisecond) // the ring fills meanwhile
			}
		}
	}()

	s := pA.Sender(rawA)
	pkts := make([][]byte, batch)
	for i := range pkts {
		pkts[i] = xdpESPPacket(a, b, 0, 0x11, 1400)
	}
	for seq := uint32(0); seq < total; {
		for _, p := range pkts {
			seq++
			binary.BigEndian.PutUint32(p[24:], seq) // ESP: SPI, then the sequence number
		}
		if m, err := s.WriteBatch(pkts); err != nil || m != batch {
			t.Fatalf("A sent %d of %d: %v", m, batch, err)
		}
	}
	// Everything sent is either read or counted as ring-full.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if uint64(got.Load())+pB.Stats().RingFull >= total || time.Now().After(deadline) {
			break
		}
	}
	recvB[0].Close()
	order := <-seqs

	seen := make(map[uint32]bool, len(order))
	var high uint32
	var dups, late int
	for _, q := range order {
		if seen[q] {
			dups++
		}
		seen[q] = true
		if q+window <= high {
			late++
		}
		high = max(high, q)
	}
	stA, stB := pA.Stats(), pB.Stats()
	t.Logf("A %+v; B %+v", stA, stB)
	if dups != 0 || late != 0 {
		t.Errorf("of %d packets read, %d were read twice and %d came %d or more behind", len(order), dups, late, window)
	}
	if stA.Sent != total || stA.ViaKernel != 0 {
		t.Errorf("A's transmit ring sent %d (%d through the kernel), want all %d on the ring", stA.Sent, stA.ViaKernel, total)
	}
	if uint64(len(order))+stB.RingFull != total || stB.Received != uint64(len(order)) || stB.Malformed != 0 {
		t.Errorf("B read %d and counted %d ring-full (%d received, %d malformed): want %d in all", len(order), stB.RingFull, stB.Received, stB.Malformed, total)
	}
}
