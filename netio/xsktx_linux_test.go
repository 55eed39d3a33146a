package netio

import (
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
	free := func() int {
		sk.txMu.Lock()
		defer sk.txMu.Unlock()
		sk.reclaim()
		return len(sk.txFree)
	}
	deadline := time.Now().Add(10 * time.Second)
	for free() != xskFrames/2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := free(); got != xskFrames/2 {
		t.Fatalf("%d transmit frames back of %d", got, xskFrames/2)
	}
	if ks := x.Stats(); ks.Sent != uint64(sent) {
		t.Fatalf("stats after: %+v", ks)
	}
}
