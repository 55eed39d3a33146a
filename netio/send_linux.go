package netio

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NewRawSender opens a raw socket of the given family that sends complete
// IP packets, header included (IPPROTO_RAW, which implies IP_HDRINCL, and
// IPV6_HDRINCL set explicitly for IPv6), batched with sendmmsg. Each
// packet goes to the destination address in its own header. Needs
// CAP_NET_RAW. See the package comment for what the kernel fills in.
func NewRawSender(family int) (Sender, error) {
	if err := checkFamily(family); err != nil {
		return nil, err
	}
	var opts []sockopt
	if family == 6 {
		opts = []sockopt{{unix.IPPROTO_IPV6, unix.IPV6_HDRINCL, 1, "IPV6_HDRINCL (Linux 4.5 or later)"}}
	}
	s, err := openSocket(fmt.Sprintf("raw send (IPv%d)", family), familyDomain(family), unix.SOCK_RAW, unix.IPPROTO_RAW, opts, nil)
	if err != nil {
		return nil, err
	}
	s.setBuffer(false)
	w := &rawSender{sock: s, family: family}
	w.send, w.refused = w.sendmmsg, w.refuse
	for i := range w.hdrs {
		h := &w.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&w.names[i]))
		h.Iov = &w.iovs[i]
		h.SetIovlen(1)
	}
	return w, nil
}

// rawSender writes batches with sendmmsg straight from the caller's
// packets; only the destination socket addresses are its own.
type rawSender struct {
	sock   *socket
	family int

	mu    sync.Mutex // one WriteBatch at a time; guards the fields below
	hdrs  [IdealBatchSize]unix.Mmsghdr
	iovs  [IdealBatchSize]unix.Iovec
	names [IdealBatchSize]unix.RawSockaddrInet6 // room for either family
	dsts  [IdealBatchSize]netip.Addr            // for errors

	// The chunk being sent, which send reads and advances: send is a
	// method value made once, so calling rc.Write allocates nothing.
	count   int // messages prepared in hdrs
	next    int // first not yet sent or failed
	sent    int
	failed  syscall.Errno // first failure in this chunk
	failDst netip.Addr
	send    func(fd uintptr) bool
	refused func(i int, e syscall.Errno) // refuse, made once too
}

// WriteBatch sends pkts, IdealBatchSize to a sendmmsg; see Sender.
func (w *rawSender) WriteBatch(pkts [][]byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sock.closed.Load() {
		return 0, net.ErrClosed
	}
	sent := 0
	var first error
	for i := 0; i < len(pkts); {
		w.count = 0
		for ; i < len(pkts) && w.count < IdealBatchSize; i++ {
			if err := w.prepare(w.count, pkts[i]); err != nil {
				first = firstError(first, err)
				continue
			}
			w.count++
		}
		if w.count == 0 {
			continue
		}
		w.next, w.sent, w.failed = 0, 0, 0
		if err := w.sock.rc.Write(w.send); err != nil {
			return sent + w.sent, w.sock.wrap("sendmmsg", err)
		}
		sent += w.sent
		if w.failed != 0 {
			first = firstError(first, fmt.Errorf("netio: sendmmsg to %s on %s socket: %w", w.failDst, w.sock.what, w.failed))
		}
	}
	return sent, first
}

func firstError(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// prepare aims message i at pkt and its header's destination address.
func (w *rawSender) prepare(i int, pkt []byte) error {
	o, err := parseOuter(w.family, pkt)
	if err != nil {
		return err
	}
	w.iovs[i].Base = &pkt[0]
	w.iovs[i].SetLen(o.length)
	h := &w.hdrs[i].Hdr
	sa := &w.names[i]
	if w.family == 4 {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: o.dst.As4()}
		h.Namelen = unix.SizeofSockaddrInet4
	} else {
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: o.dst.As16()}
		h.Namelen = unix.SizeofSockaddrInet6
	}
	w.dsts[i] = o.dst
	return nil
}

// sendmmsg is the system call, run by the poller when the socket may be
// writable (see sendmmsgFrom); a refused message's error is noted.
func (w *rawSender) sendmmsg(fd uintptr) bool {
	sent, done := sendmmsgFrom(fd, w.hdrs[:w.count], &w.next, w.refused)
	w.sent += sent
	return done
}

// refuse notes the first message of the chunk the kernel refused.
func (w *rawSender) refuse(i int, e syscall.Errno) {
	if w.failed == 0 {
		w.failed, w.failDst = e, w.dsts[i]
	}
}

// sendmmsgFrom sends hdrs[*next:], advancing *next, and returns how many
// went and false for "would block, wait and call again". sendmmsg stops
// at the first message the kernel refuses and reports only those before
// it; calling again from that message yields its error, which is given
// to refused before moving past it.
func sendmmsgFrom(fd uintptr, hdrs []unix.Mmsghdr, next *int, refused func(i int, e syscall.Errno)) (sent int, done bool) {
	for *next < len(hdrs) {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&hdrs[*next])), uintptr(len(hdrs)-*next), 0, 0, 0)
		if e == 0 && n == 0 {
			e = unix.EIO // not for vlen > 0; but never spin on it
		}
		switch e {
		case 0:
			*next += int(n)
			sent += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return sent, false
		default:
			refused(*next, e)
			*next++
		}
	}
	return sent, true
}

// Close closes the socket; later WriteBatch calls return net.ErrClosed.
func (w *rawSender) Close() error { return w.sock.close() }
