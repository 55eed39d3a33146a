package netio

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestXDPTransmitSocketApart: the ring data plane transmits on a socket of
// its own that shares the receiving socket's UMEM, so the socket the
// poller waits on has no transmit ring: poll(2) there neither drives the
// transmit nor reports it writable (which is what woke the reader for
// each frame sent), while the transmit socket does. Every frame sent comes
// back through the shared completion ring, so none is lost to the split.
func TestXDPTransmitSocketApart(t *testing.T) {
	l := newXDPLab(t)
	x, rawA, a, b := l.x, l.rawA, l.a, l.b
	sk := x.socks[0]
	if sk.txFd < 0 || sk.txFd == sk.fd {
		t.Fatalf("transmit socket %d, receiving socket %d: want two sockets", sk.txFd, sk.fd)
	}

	// More frames than one ring holds, in batches, all on the ring.
	s := x.Sender(rawA)
	const batches, perBatch = 40, 100
	sent := 0
	for i := range batches {
		var pkts [][]byte
		for j := range perBatch {
			pkts = append(pkts, xdpESPPacket(a, b, 0, byte(i+j), 1200))
		}
		m, err := s.WriteBatch(pkts)
		if err != nil || m != perBatch {
			t.Fatalf("batch %d: sent %d of %d: %v", i, m, perBatch, err)
		}
		sent += m
	}
	if st := x.Stats(); st.Sent != uint64(sent) || st.ViaKernel != 0 {
		t.Fatalf("sends: %+v; want all %d on the ring", st, sent)
	}

	pollOut := func(fd int) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		if _, err := unix.Poll(fds, 0); err != nil {
			t.Fatalf("poll: %v", err)
		}
		return fds[0].Revents&unix.POLLOUT != 0
	}
	if pollOut(sk.fd) {
		t.Errorf("the receiving socket polls writable: it has a transmit ring")
	}
	if !pollOut(sk.txFd) {
		t.Errorf("the transmit socket does not poll writable with its ring empty")
	}

	// The kernel hands every transmit frame back.
	deadline := time.Now().Add(10 * time.Second)
	for txFramesBack(sk) != xskFrames/2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := txFramesBack(sk); got != xskFrames/2 {
		t.Fatalf("%d transmit frames back of %d", got, xskFrames/2)
	}
	if ks := x.Stats(); ks.Sent != uint64(sent) {
		t.Fatalf("stats after: %+v", ks)
	}
}

// txFramesBack takes back the transmit frames the kernel is done with and
// says how many sk holds.
func txFramesBack(sk *xsk) int {
	sk.txMu.Lock()
	defer sk.txMu.Unlock()
	sk.reclaim()
	return len(sk.txFree)
}

// TestXDPCountsTransmitWaits: the transmit kicks and their waits are
// counted. Into a peer that keeps up (veth-b with no XDP: the kernel
// hands each frame on inside the sendto) every kick takes its frames at
// once: kicks and sendto calls counted, no wait, no pause, nothing left.
// Then veth-b gets an XDP program (its frames queue on a ring of 256 for
// its NAPI) run by a NAPI thread of its own, which the sender outpaces:
// kicks find the peer's queue full and wait, and the counters say how
// often, in how many pauses, and how long (each pause at least
// kickPause). Frames a kick that gave up left in the ring are late, not
// lost: once sends go on, every transmit frame comes back.
func TestXDPCountsTransmitWaits(t *testing.T) {
	l := newXDPLab(t)
	x, rawA, a, b := l.x, l.rawA, l.a, l.b
	s := x.Sender(rawA)
	batch := func(n int, seed byte) [][]byte {
		var pkts [][]byte
		for j := range n {
			pkts = append(pkts, xdpESPPacket(a, b, 0, seed+byte(j), 1200))
		}
		return pkts
	}

	const quiet = 40
	for i := range quiet {
		if m, err := s.WriteBatch(batch(100, byte(i))); m != 100 {
			t.Fatalf("batch %d: sent %d of 100: %v", i, m, err)
		}
	}
	st := x.Stats()
	if st.TransmitKicks != quiet || st.TransmitSendtos < quiet || st.Sent != quiet*100 || st.ViaKernel != 0 {
		t.Fatalf("after %d batches: %+v; want %d kicks, as many sendto calls or more, all %d sent on the ring", quiet, st, quiet, quiet*100)
	}
	if st.TransmitWaits+st.TransmitPauses+st.TransmitWaitNs+st.TransmitGaveUp+st.TransmitLeft != 0 {
		t.Fatalf("waits counted with a peer that keeps up: %+v", st)
	}

	inNetns(t, l.n, "b", func() error {
		xb, err := OpenXDP()
		if err != nil {
			return err
		}
		t.Cleanup(func() { xb.Close() })
		_, err = xb.Attach([]netip.Addr{b})
		return err
	})
	l.n.Exec("b", "sh", "-c", "echo 1 > /sys/class/net/veth-b/threaded")
	deadline := time.Now().Add(30 * time.Second)
	kicks := st.TransmitKicks
	for i := 0; st.TransmitWaits == 0; i++ {
		if time.Now().After(deadline) || i == 2000 {
			t.Fatalf("no transmit waited in %d batches of 512 to a peer with a NAPI thread: %+v", i, st)
		}
		if m, err := s.WriteBatch(batch(512, byte(i))); m == 0 {
			t.Fatalf("batch %d: sent none: %v", i, err)
		}
		kicks++
		st = x.Stats()
	}
	t.Logf("under pressure: %+v", st)
	if st.TransmitKicks != kicks {
		t.Errorf("%d kicks counted, %d transmits kicked", st.TransmitKicks, kicks)
	}
	if st.TransmitPauses < st.TransmitWaits || st.TransmitWaitNs < st.TransmitPauses*uint64(kickPause) {
		t.Errorf("%d waits, %d pauses in %v: want a pause or more a wait, each of %v or more",
			st.TransmitWaits, st.TransmitPauses, time.Duration(st.TransmitWaitNs), kickPause)
	}
	if least := st.TransmitKicks - st.TransmitWaits + st.TransmitWaits*(kickQuickTries+1) + st.TransmitPauses; st.TransmitSendtos < least {
		t.Errorf("%d sendto calls, want %d or more: one a kick, %d quick tries, one more and one a pause a wait", st.TransmitSendtos, least, kickQuickTries)
	}
	if st.TransmitLeft < st.TransmitGaveUp {
		t.Errorf("%d kicks gave up leaving %d frames: each leaves one or more", st.TransmitGaveUp, st.TransmitLeft)
	}

	for drain := time.Now().Add(10 * time.Second); txFramesBack(x.socks[0]) != xskFrames/2; {
		if time.Now().After(drain) {
			t.Fatalf("%d transmit frames back of %d: %+v", txFramesBack(x.socks[0]), xskFrames/2, x.Stats())
		}
		s.WriteBatch(batch(1, 0)) // a kick takes what earlier ones left
		time.Sleep(10 * time.Millisecond)
	}
}
