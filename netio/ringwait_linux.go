package netio

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ringWaiter parks the reader of a ring (an AF_XDP or AF_PACKET socket)
// in the runtime's poller until the kernel signals the socket readable,
// as the package's other sockets wait. Blocking an OS thread in poll(2)
// instead costs a thread hand-off in the scheduler each time the ring
// runs dry, which at tens of thousands of wake-ups a second is a good
// part of a core.
//
// The file owns the descriptor: release closes it, once nothing uses it.
// stop wakes a waiting reader (with a deadline in the past) without
// closing the descriptor, which senders may still use until release.
type ringWaiter struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
	nudged atomic.Bool
	ready  func() bool           // the ring holds something to read
	check  func(fd uintptr) bool // check as a method value, made once
}

// newRingWaiter takes fd over: from here on it is closed by release, or
// here when this fails.
func newRingWaiter(fd int, what string, ready func() bool) (*ringWaiter, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	w := &ringWaiter{f: os.NewFile(uintptr(fd), what), ready: ready}
	rc, err := w.f.SyscallConn()
	if err == nil {
		// A descriptor the poller does not take cannot be waited on here.
		if err = w.f.SetReadDeadline(time.Time{}); err != nil {
			err = fmt.Errorf("not pollable: %w", err)
		}
	}
	if err != nil {
		w.f.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	w.rc = rc
	w.check = w.readable
	return w, nil
}

func (w *ringWaiter) readable(uintptr) bool { return w.closed.Load() || w.ready() }

// wait returns once the ring holds something, or nudge was called, or
// with net.ErrClosed once stopped.
func (w *ringWaiter) wait() error {
	err := w.rc.Read(w.check)
	if w.closed.Load() {
		return net.ErrClosed
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// nudge's deadline: cleared, unless stop set one since (the
		// check above, or the next wait's first check, sees closed).
		w.nudged.Store(false)
		w.f.SetReadDeadline(time.Time{})
		return nil
	}
	return err
}

// nudge has a waiting reader (or the next one to wait) return, so that
// it looks at more than the ring: the packet rings' reader moving to
// rings made for a new MTU (packetmtu_linux.go).
func (w *ringWaiter) nudge() {
	if !w.nudged.Swap(true) {
		w.f.SetReadDeadline(time.Now())
	}
}

// stop makes wait return net.ErrClosed, now and from then on.
func (w *ringWaiter) stop() {
	if !w.closed.Swap(true) {
		w.f.SetReadDeadline(time.Now())
	}
}

// release closes the descriptor.
func (w *ringWaiter) release() { w.f.Close() }
