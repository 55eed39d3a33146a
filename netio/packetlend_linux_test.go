package netio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var _ FrameReceiver = (*packetRing)(nil)

// inRing reports whether p lies in r's ring memory.
func inRing(r *packetRing, p []byte) bool {
	start := uintptr(unsafe.Pointer(&r.mem[0]))
	at := uintptr(unsafe.Pointer(&p[0]))
	return at >= start && at+uintptr(len(p)) <= start+uintptr(len(r.mem))
}

// TestLendV2: lending, the reader leaves each packet in its frame and
// keeps the frames it read (the bad one among them) until ReleaseFrames,
// which gives each back once, around the end of the ring; a read that
// does not lend gives its frames back at once.
func TestLendV2(t *testing.T) {
	const size, frames = 2048, 8
	r := &packetRing{p: &PacketRing{}, v2: true, frameSize: size, frames: frames, mem: make([]byte, size*frames), frame: 6}
	put := func(i int, f []byte) { copy(r.mem[i*size:], f) }
	status := func(i int) uint32 { return binary.NativeEndian.Uint32(r.mem[i*size+v2Status:]) }
	for i, n := range []int{6, 7, 0} {
		put(n, ringFrameV2(size, espFrame(byte(i))))
	}
	bad := ringFrameV2(size, espFrame(9))
	binary.NativeEndian.PutUint16(bad[v2Mac:], 8) // inside the header
	put(1, bad)
	msgs := newMessages(16, 2048)
	r.lend = true
	n, nbad := r.fillV2(msgs)
	r.lend = false
	if n != 3 || nbad != 1 || r.frame != 2 {
		t.Fatalf("read %d, %d bad, now at frame %d; want 3, 1, 2", n, nbad, r.frame)
	}
	for i := range n {
		if m := &msgs[i]; m.Lent == nil || m.N != len(m.Lent) || m.Lent[0] != byte(i) || !inRing(r, m.Lent) {
			t.Fatalf("message %d: not lent from the ring: N %d, %d lent", i, m.N, len(m.Lent))
		}
	}
	for _, i := range []int{6, 7, 0, 1} {
		if status(i) != unix.TP_STATUS_USER {
			t.Fatalf("frame %d given back while lent: status %#x", i, status(i))
		}
	}
	r.ReleaseFrames()
	for _, i := range []int{6, 7, 0, 1} {
		if status(i) != unix.TP_STATUS_KERNEL {
			t.Fatalf("frame %d not given back: status %#x", i, status(i))
		}
	}
	// Released once: the kernel's new packet in frame 6 stays the reader's.
	put(2, ringFrameV2(size, espFrame(5)))
	put(6, ringFrameV2(size, espFrame(6)))
	r.ReleaseFrames()
	if status(6) != unix.TP_STATUS_USER || status(2) != unix.TP_STATUS_USER {
		t.Fatal("a second ReleaseFrames gave frames back again")
	}
	// Without lending: copied, and given back at once.
	if n, _ := r.fillV2(msgs[:1]); n != 1 || msgs[0].Lent != nil || msgs[0].Buf[0] != 5 || status(2) != unix.TP_STATUS_KERNEL || r.lentN != 0 {
		t.Fatalf("copying read: %d, lent %v, status %#x", n, msgs[0].Lent != nil, status(2))
	}
}

// TestLendV3: lending, a block read to its end stays the reader's until
// ReleaseFrames; the block being read stays so until it is read to its
// end; without lending a block read to its end goes back at once.
func TestLendV3(t *testing.T) {
	r := &packetRing{p: &PacketRing{}, mem: make([]byte, ringBlocks*ringBlockSize)}
	copy(r.mem, ringBlock(espFrame(0), espFrame(1)))
	copy(r.mem[ringBlockSize:], ringBlock(espFrame(2), espFrame(3)))
	copy(r.mem[2*ringBlockSize:], ringBlock(espFrame(4)))
	for i := range 3 {
		_, st := r.blockAt(i)
		*st = unix.TP_STATUS_USER
	}
	status := func(i int) uint32 { _, st := r.blockAt(i); return *st }
	msgs := newMessages(3, 2048)
	r.lend = true
	n, bad := r.fill(msgs)
	r.lend = false
	if n != 3 || bad != 0 || r.block != 1 || !r.in {
		t.Fatalf("read %d, %d bad, at block %d (in %v); want 3, 0, 1, in", n, bad, r.block, r.in)
	}
	for i := range n {
		if m := &msgs[i]; m.Lent == nil || m.Lent[0] != byte(i) || !inRing(r, m.Lent) {
			t.Fatalf("message %d not lent from the ring", i)
		}
	}
	if status(0) != unix.TP_STATUS_USER {
		t.Fatal("block 0 given back while lent")
	}
	r.ReleaseFrames()
	if status(0) != unix.TP_STATUS_KERNEL || status(1) != unix.TP_STATUS_USER {
		t.Fatalf("after ReleaseFrames: blocks 0 and 1 %#x %#x; want the kernel's and still the reader's", status(0), status(1))
	}
	// The rest copied: blocks 1 and 2 go back as they end.
	msgs = newMessages(4, 2048)
	if n, bad := r.fill(msgs); n != 2 || bad != 0 || msgs[0].Lent != nil || msgs[0].Buf[0] != 3 || msgs[1].Buf[0] != 4 {
		t.Fatalf("copying read: %d, %d bad, first %d", n, bad, msgs[0].Buf[0])
	}
	if status(1) != unix.TP_STATUS_KERNEL || status(2) != unix.TP_STATUS_KERNEL || len(r.lentBlocks) != 0 {
		t.Fatalf("blocks 1 and 2: %#x %#x", status(1), status(2))
	}
}

// TestPacketRingLends: on real V2 and V3 rings, ReadFrames lends ESP
// packets (addresses, DS field and payload intact) from the ring's
// memory, and after ReleaseFrames the ring goes on receiving: three
// rounds of packets, the later ones in frames given back.
func TestPacketRingLends(t *testing.T) {
	eachRingVersion(t, func(t *testing.T) {
		l := newRingLab(t)
		p, recv, sendB, a, b := l.p, l.recv, l.sendB, l.a, l.b
		ring, ok := recv[0].(FrameReceiver)
		if !ok {
			t.Fatal("the packet ring does not lend")
		}
		const rounds, count = 3, 50
		for round := range rounds {
			var pkts [][]byte
			for i := range count {
				pkts = append(pkts, xdpESPPacket(b, a, 0xb8, byte(round*count+i), 1000))
			}
			if m, err := sendB.WriteBatch(pkts); err != nil || m != count {
				t.Fatalf("round %d: B sent %d: %v", round, m, err)
			}
			got := make(chan error, 1)
			go func() {
				msgs := newMessages(64, 16) // too small to copy into: lent or nothing
				seen := 0
				for seen < count {
					k, err := ring.ReadFrames(msgs)
					if err != nil {
						got <- fmt.Errorf("after %d: %w", seen, err)
						return
					}
					for i := range msgs[:k] {
						m := &msgs[i]
						if !bytes.Equal(m.Lent, pkts[seen][20:]) || m.N != len(m.Lent) || m.Src.Addr() != b || m.Dst != a || m.TOS != 0xb8 {
							got <- fmt.Errorf("packet %d: %d octets lent from %s to %s tos %#x", seen, len(m.Lent), m.Src, m.Dst, m.TOS)
							return
						}
						seen++
					}
					ring.ReleaseFrames()
				}
				got <- nil
			}()
			select {
			case err := <-got:
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			case <-time.After(10 * time.Second):
				recv[0].Close()
				t.Fatalf("round %d: packets did not all come: %v (stats %+v)", round, <-got, p.Stats())
			}
		}
		if st := p.Stats(); st.Received != rounds*count || st.Malformed != 0 {
			t.Fatalf("stats %+v, want %d received", st, rounds*count)
		}
	})
}
