package netio

import (
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestXSKWaitArmsOnlyAsleep: the receiving socket is in its reader's epoll
// only while the reader sleeps on an empty ring (a waiter on the socket
// costs the peer's softirq a wake-up call per frame, xskwait_linux.go);
// a sleeping reader still wakes for frames that arrive, and for Close.
func TestXSKWaitArmsOnlyAsleep(t *testing.T) {
	l := newXDPLab(t)
	sk := l.x.socks[0]
	// EPOLL_CTL_MOD finds the socket in the epoll or fails with ENOENT;
	// it changes nothing (the same events).
	inEpoll := func() bool {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(sk.fd)}
		err := unix.EpollCtl(sk.wait.epfd, unix.EPOLL_CTL_MOD, sk.fd, &ev)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			t.Fatalf("EPOLL_CTL_MOD: %v", err)
		}
		return err == nil
	}
	untilInEpoll := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !inEpoll() {
			if time.Now().After(deadline) {
				t.Fatal("the reader sleeps on an empty ring without its socket in the epoll")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if inEpoll() {
		t.Fatal("the socket is in the epoll before anyone reads")
	}

	type result struct {
		n   int
		err error
	}
	read := func() chan result {
		res := make(chan result, 1)
		go func() {
			msgs := newMessages(64, 2048)
			n, err := l.recv[0].ReadBatch(msgs)
			res <- result{n, err}
		}()
		return res
	}
	res := read()
	untilInEpoll()

	var sendB Sender
	inNetns(t, l.n, "b", func() (err error) { sendB, err = NewRawSender(4); return err })
	t.Cleanup(func() { sendB.Close() })
	if m, err := sendB.WriteBatch([][]byte{xdpESPPacket(l.b, l.a, 0, 1, 1000)}); err != nil || m != 1 {
		t.Fatalf("B sent %d: %v", m, err)
	}
	select {
	case r := <-res:
		if r.err != nil || r.n != 1 {
			t.Fatalf("ReadBatch = %d, %v; want the one packet", r.n, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a frame arrived and the sleeping reader did not wake")
	}
	if inEpoll() {
		t.Error("the socket stayed in the epoll after the reader woke")
	}

	res = read()
	untilInEpoll()
	l.recv[0].Close()
	select {
	case r := <-res:
		if !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("ReadBatch after Close = %d, %v; want net.ErrClosed", r.n, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the sleeping reader")
	}
}
