package netio

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketBuffer is the receive or send buffer each socket asks for: a few
// batches of full-size packets, so a burst is not dropped while the
// reader is busy. As root SO_RCVBUFFORCE/SO_SNDBUFFORCE pass the sysctl
// limit (net.core.rmem_max); otherwise the kernel caps the request.
const socketBuffer = 4 << 20

// socket is a non-blocking socket under the runtime poller: a read or
// write that would block parks the goroutine until the socket is ready,
// and Close wakes it.
type socket struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
	what   string // for errors: "raw ESP (IPv4)" and the like
}

// sockopt is one integer socket option, named for errors.
type sockopt struct {
	level, name, value int
	what               string
}

// openSocket opens a socket, applies opts, and binds it to sa when sa is
// not nil. The socket lives in the network namespace of the calling
// thread.
func openSocket(what string, domain, typ, proto int, opts []sockopt, sa unix.Sockaddr) (*socket, error) {
	fd, err := unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("netio: open %s socket: %w", what, err)
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o.level, o.name, o.value); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("netio: %s socket: set %s: %w", what, o.what, err)
		}
	}
	if sa != nil {
		if err := unix.Bind(fd, sa); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("netio: %s socket: bind: %w", what, err)
		}
	}
	// os.NewFile sees O_NONBLOCK and registers the descriptor with the
	// poller, which RawConn.Read and Write then wait on.
	f := os.NewFile(uintptr(fd), what)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("netio: %s socket: %w", what, err)
	}
	return &socket{f: f, rc: rc, what: what}, nil
}

// setBuffer asks for socketBuffer octets of receive (or send) buffer,
// first past the sysctl limit, which needs CAP_NET_ADMIN, then within it.
func (s *socket) setBuffer(receive bool) {
	force, plain := unix.SO_SNDBUFFORCE, unix.SO_SNDBUF
	if receive {
		force, plain = unix.SO_RCVBUFFORCE, unix.SO_RCVBUF
	}
	_ = s.rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, force, socketBuffer) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, plain, socketBuffer)
		}
	})
}

// close makes later calls fail with net.ErrClosed and wakes waiting ones.
func (s *socket) close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.f.Close()
}

// wrap turns an error of a poller wait or system call into the package's:
// net.ErrClosed once closed, else the call and the socket named.
func (s *socket) wrap(call string, err error) error {
	if s.closed.Load() || errors.Is(err, os.ErrClosed) {
		return net.ErrClosed
	}
	return fmt.Errorf("netio: %s on %s socket: %w", call, s.what, err)
}

// familyDomain maps 4 and 6 to AF_INET and AF_INET6.
func familyDomain(family int) int {
	if family == 6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}
