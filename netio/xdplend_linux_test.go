package netio

import (
	"bytes"
	"testing"
	"time"
)

// TestXDPLendsFrames: ReadFrames hands out ESP packets in the ring's
// frames (Buf untouched) and ReleaseFrames gives each back once. More
// packets pass than the receive half of UMEM holds, so a frame lost on
// the way would starve the ring; after every read and release the frames
// the kernel holds plus those lent are the whole receive half (none lost,
// none given twice), also when a caller reads again without releasing and
// when ReadBatch follows ReadFrames.
func TestXDPLendsFrames(t *testing.T) {
	l := newXDPLab(t)
	n, x, recv, a, b := l.n, l.x, l.recv, l.a, l.b
	var sendB Sender
	inNetns(t, n, "b", func() (err error) {
		sendB, err = NewRawSender(4)
		return err
	})
	t.Cleanup(func() { sendB.Close() })
	s, ok := recv[0].(*xsk)
	if !ok {
		t.Fatalf("receiver %T is not an AF_XDP socket", recv[0])
	}
	var fr FrameReceiver = s
	check := func(when string, wantLent int) {
		t.Helper()
		kernel, lent := s.rxFrames()
		if kernel+lent != xskFrames/2 || lent != wantLent {
			t.Fatalf("%s: kernel holds %d frames, %d lent (want %d): %d of %d accounted for", when, kernel, lent, wantLent, kernel+lent, xskFrames/2)
		}
	}
	check("at start", 0)

	msgs := make([]Message, 64)
	for i := range msgs {
		msgs[i].Buf = bytes.Repeat([]byte{0xee}, 2048)
	}
	const rounds, perRound = 8, 400 // 3200 packets through 2048 frames
	for r := range rounds {
		var pkts [][]byte
		for i := range perRound {
			pkts = append(pkts, xdpESPPacket(b, a, 0, byte(i+r), 1000))
		}
		if m, err := sendB.WriteBatch(pkts); err != nil || m != perRound {
			t.Fatalf("round %d: B sent %d: %v", r, m, err)
		}
		got := 0
		deadline := time.Now().Add(10 * time.Second)
		for got < perRound {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: received %d of %d", r, got, perRound)
			}
			var m int
			var err error
			if r == rounds-1 && got > 0 {
				m, err = fr.ReadBatch(msgs) // releases what is still lent, copies
			} else {
				m, err = fr.ReadFrames(msgs)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range msgs[:m] {
				want := pkts[got][20:]
				p := msg.Lent
				if r == rounds-1 && got > 0 && p == nil {
					p = msg.Buf[:msg.N]
				} else if msg.Buf[0] != 0xee || msg.N != len(msg.Lent) {
					t.Fatalf("round %d packet %d: Buf written or N %d for %d lent octets", r, got, msg.N, len(msg.Lent))
				}
				if !bytes.Equal(p, want) || msg.Src.Addr() != b || msg.Dst != a {
					t.Fatalf("round %d packet %d: %d octets from %s to %s", r, got, len(p), msg.Src, msg.Dst)
				}
				got++
			}
			switch {
			case r == rounds-1 && got > m:
				check("after ReadBatch", 0)
			case r%2 == 1:
				// A caller that reads again without releasing: the next
				// read releases for it.
				_, lent := s.rxFrames()
				check("lent", lent)
			default:
				check("lent", m)
				fr.ReleaseFrames()
				check("released", 0)
				fr.ReleaseFrames()
				check("released twice", 0)
			}
		}
	}
	fr.ReleaseFrames()
	check("at the end", 0)
	if st := x.Stats(); st.Received != rounds*perRound {
		t.Fatalf("stats %+v, want %d received", st, rounds*perRound)
	}
}
