package netio

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// xskWait is how an AF_XDP socket's reader sleeps: in the runtime's poller
// (a ringWaiter) on an epoll instance of its own, which holds the socket
// only while the reader sleeps.
//
// Why not the socket itself in the runtime's poller: in copy mode the
// kernel calls the socket's sock_def_readable after every receive batch
// of the peer's NAPI, which on a veth is every frame (the sending
// gateway's sendto runs the peer's receive per frame). A socket with a
// waiter registered (the runtime's epoll, always) makes each call take
// the socket's wait-queue lock and the epoll's with interrupts off and
// queue an event, whether the reader sleeps or not. With no waiter the
// call is a check. Profiled in BenchmarkVethOuterPath/xdp (perf record
// -g, 1.8 M frames): sock_def_readable 259-288 ns of a frame's 2.5-3.4
// µs of CPU with the socket always in the runtime's poller, 9 ns now.
//
// So the reader adds the socket to its epoll (arm) only once its ring
// is empty, checks the ring again (a frame that came in between is seen
// by that check or by the epoll, which polls the socket as it adds it),
// sleeps on the epoll descriptor, and removes the socket (disarm) as
// soon as it wakes: two epoll_ctl calls each time the ring runs dry,
// against a wake-up per frame.
type xskWait struct {
	ep    *ringWaiter // the epoll descriptor in the runtime's poller
	epfd  int
	fd    int // the AF_XDP socket
	armed bool
}

func newXSKWait(fd int, what string, ready func() bool) (*xskWait, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("%s: epoll: %w", what, err)
	}
	ep, err := newRingWaiter(epfd, what, ready) // closes epfd on failure
	if err != nil {
		return nil, err
	}
	return &xskWait{ep: ep, epfd: epfd, fd: fd}, nil
}

// wait sleeps until the ring has something to read (ready), Close, or a
// nudge; the socket is out of the epoll again when it returns.
func (w *xskWait) wait() error {
	if err := w.arm(); err != nil {
		return err
	}
	err := w.ep.wait()
	w.disarm()
	return err
}

func (w *xskWait) arm() error {
	if w.armed {
		return nil
	}
	// One-shot: the frames that follow the one that woke the reader,
	// before it disarms, find the entry spent and stop there instead of
	// passing the event on to the runtime's epoll.
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(w.fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, w.fd, &ev); err != nil {
		return fmt.Errorf("AF_XDP socket into its epoll: %w", err)
	}
	w.armed = true
	return nil
}

func (w *xskWait) disarm() {
	if w.armed {
		unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
		w.armed = false
	}
}

// closed reports whether stop was called.
func (w *xskWait) closed() bool { return w.ep.closed.Load() }

// stop wakes a sleeping reader for good (ringWaiter.stop).
func (w *xskWait) stop() { w.ep.stop() }

// release closes the epoll descriptor; the socket is the caller's.
func (w *xskWait) release() { w.ep.release() }
