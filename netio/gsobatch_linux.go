package netio

import (
	"fmt"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// One SendRuns system call carries at most maxRunMsgs runs and maxRunIovs
// datagrams: a TUN batch (IdealBatchSize inner packets, a few more with
// fragments) is one call, rarely two.
const (
	maxRunMsgs = 32
	maxRunIovs = 2 * IdealBatchSize
)

// runBatch is a UDP socket's sendmmsg state for SendRuns, made at its
// first call: the message headers, destinations, control areas and data
// vectors of one call, so that a call allocates nothing.
type runBatch struct {
	what  string // the socket, for errors
	hdrs  [maxRunMsgs]unix.Mmsghdr
	names [maxRunMsgs]unix.RawSockaddrInet6 // room for either family
	oob   [maxRunMsgs][gsoOOBSize]byte
	iovs  [maxRunIovs]unix.Iovec
	index [maxRunMsgs]int // the run each message sends

	// The call being made, which sendmmsg reads and advances: send is a
	// method value made once, so rc.Write allocates nothing.
	runs    []Run
	count   int // messages prepared in hdrs
	next    int // first not yet sent or failed
	first   error
	send    func(fd uintptr) bool
	refused func(i int, e syscall.Errno) // refuse, made once too
}

// SendRuns sends runs, up to maxRunMsgs of them in one sendmmsg, each as
// one UDP GSO message (see RunSender).
func (r *socketReceiver) SendRuns(runs []Run) error {
	if r.kind != udpV4 && r.kind != udpV6 {
		return fmt.Errorf("netio: SendRuns on a %s socket", r.sock.what)
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	b := r.runBatch
	if b == nil {
		b = &runBatch{what: r.sock.what}
		b.send, b.refused = b.sendmmsg, b.refuse
		r.runBatch = b
	}
	b.runs, b.first = runs, nil
	defer func() { b.runs = nil }() // keep no reference to the caller's buffers
	for i := 0; i < len(runs); {
		b.count, b.next = 0, 0
		iovs := 0
		for ; i < len(runs) && b.count < maxRunMsgs; i++ {
			run := &runs[i]
			total, err := checkSegmentVec(run.Segs, run.SegSize)
			if err == nil && len(run.Segs) > maxRunIovs-iovs {
				break // the next call's (a run fits an empty call: MaxSegments < maxRunIovs)
			}
			if err == nil {
				err = r.prepareRun(b, b.count, run, total, b.iovs[iovs:iovs+len(run.Segs)])
			}
			if run.Err = err; err != nil {
				b.first = firstError(b.first, err)
				continue
			}
			b.index[b.count] = i
			iovs += len(run.Segs)
			b.count++
		}
		if b.count == 0 {
			continue
		}
		if err := r.sock.rc.Write(b.send); err != nil {
			// Closed or the poller failed: what is left is not sent.
			err = r.sock.wrap("sendmmsg", err)
			for k := b.next; k < b.count; k++ {
				runs[b.index[k]].Err = err
			}
			for ; i < len(runs); i++ {
				runs[i].Err = err
			}
			return firstError(b.first, err)
		}
	}
	return b.first
}

// prepareRun aims message k at run: its destination, its control
// messages and iovs, one data vector per datagram.
func (r *socketReceiver) prepareRun(b *runBatch, k int, run *Run, total int, iovs []unix.Iovec) error {
	oob, err := r.sendControl(b.oob[k][:0], run.Dst, run.Src, run.TOS, total, run.SegSize)
	if err != nil {
		return err
	}
	for j, s := range run.Segs {
		iovs[j].Base = &s[0]
		iovs[j].SetLen(len(s))
	}
	h := &b.hdrs[k].Hdr
	h.Name = (*byte)(unsafe.Pointer(&b.names[k]))
	h.Namelen = putSockaddr(&b.names[k], run.Dst)
	h.Iov = &iovs[0]
	h.SetIovlen(len(iovs))
	h.Control = &oob[0]
	h.SetControllen(len(oob))
	h.Flags = 0
	b.hdrs[k].Len = 0
	return nil
}

// putSockaddr writes dst as a socket address of its family into sa and
// returns its length.
func putSockaddr(sa *unix.RawSockaddrInet6, dst netip.AddrPort) uint32 {
	var port *uint16
	var n uint32
	if dst.Addr().Is4() {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.Addr().As4()}
		port, n = &sa4.Port, unix.SizeofSockaddrInet4
	} else {
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: dst.Addr().As16()}
		port, n = &sa.Port, unix.SizeofSockaddrInet6
	}
	// The port field holds network byte order whatever the host's.
	p := (*[2]byte)(unsafe.Pointer(port))
	p[0], p[1] = byte(dst.Port()>>8), byte(dst.Port())
	return n
}

// sendmmsg is the system call, run by the poller when the socket may be
// writable (see sendmmsgFrom).
func (b *runBatch) sendmmsg(fd uintptr) bool {
	_, done := sendmmsgFrom(fd, b.hdrs[:b.count], &b.next, b.refused)
	return done
}

// refuse notes in its run why the kernel refused message i.
func (b *runBatch) refuse(i int, e syscall.Errno) {
	run := &b.runs[b.index[i]]
	run.Err = fmt.Errorf("netio: sendmmsg to %s on %s socket: %w", run.Dst, b.what, e)
	b.first = firstError(b.first, run.Err)
}

var _ RunSender = (*socketReceiver)(nil)
