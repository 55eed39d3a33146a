package netio

import (
	"encoding/binary"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// The packet rings follow the MTU of their interface. A TPACKET_V2
// receive frame, and a transmit frame of either version, holds one packet
// and is sized for the MTU the ring was made for; a V3 receive block
// takes any packet up to a block. Raise the MTU past what a frame holds
// and the kernel cuts what it receives to the frame (with
// PACKET_COPY_THRESH unset, as here: tpacket_rcv), and the ring cannot
// send the larger packets. So when an interface's MTU changes so that the
// frames would be sized otherwise, its ring is made again, with the same
// memory in frames of the new size (linkChanged), and the reader moves to
// it (adopt). Frames sized for the largest MTU the link allows instead
// would cost nothing to follow, but a veth allows 65535: 128 KiB frames,
// 32 to a 4 MiB ring, for every ring whatever its MTU.
//
// Until the reader has moved, the old ring still works: a packet it
// receives cut short is counted (truncated) and dropped; one too large for
// its transmit frames goes by the kernel's raw socket, as one larger than
// the MTU always does (the kernel would drop it from the ring unsaid).

// ringFrameSize is the size of a ring frame that holds hdr octets before
// the Ethernet frame, an Ethernet header with a VLAN tag and a packet of
// the MTU: a power of two, min at least, a block at most.
func ringFrameSize(hdr, mtu, min int) int {
	size := min
	for size < hdr+ethHeaderLen+4+mtu && size < ringBlockSize {
		size *= 2
	}
	return size
}

// txFrameSize is the transmit frame size for an interface of the given
// MTU (4096 up to 4034).
func txFrameSize(tx txLayout, mtu int) int { return ringFrameSize(tx.data, mtu, ringTxMinFrame) }

// fits reports whether the ring's frames are those an interface of the
// given MTU wants.
func (r *packetRing) fits(mtu int) bool {
	return txFrameSize(r.tx, mtu) == r.txFrameSize && (!r.v2 || v2FrameSize(mtu) == r.frameSize)
}

// linkChanged is told of every link update (watchTables). When the MTU of
// an interface with a ring changed so that its frames no longer fit, it
// makes a socket with rings for the new MTU and hands the taking of ESP
// over to it: the old socket's filter takes nothing from then on, the new
// one's what the old took. The reader is woken to move over (adopt) once
// it has read what the old ring holds. A failure leaves the old ring, and
// says why in the status.
func (p *PacketRing) linkChanged(index, mtu int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.rings[index]
	if r == nil || mtu <= 0 {
		return
	}
	// Until the reader moves, the old transmit ring takes what its frames
	// and the new MTU allow.
	r.txMu.Lock()
	r.mtu = mtu
	r.txMu.Unlock()
	switch next := r.next.Load(); {
	case next != nil && next.fits(mtu):
		next.mtu = mtu
		return
	case next == nil && r.fits(mtu):
		return
	}
	fail := func(err error) {
		e := fmt.Sprintf("interface %d, MTU %d: %v", index, mtu, err)
		p.resizeErr.Store(&e)
	}
	// Made taking nothing; given the old one's filter below.
	next, err := newPacketRing(p, index, mtu, nil, nil)
	if err != nil {
		fail(err)
		return
	}
	// The new socket takes before the old one stops, so that no packet
	// is lost between the two: one that arrives between them is in both
	// rings, read twice, and the second time dropped by the SA's replay
	// window (counted as a replay error). The programs are made first to
	// keep that moment short.
	none, err := ringFilter(nil, nil)
	if err != nil {
		next.release()
		fail(err)
		return
	}
	take, err := ringFilter((*p.taken.Load())[index], p.ports)
	if err == nil {
		if err = attachFilter(next.fd, take); err == nil {
			err = attachFilter(r.currentFd(), none)
		}
	}
	if err != nil {
		next.release()
		fail(err)
		return
	}
	if old := r.next.Swap(next); old != nil {
		old.release() // made for an MTU since changed again, never read
	}
	r.wait.nudge()
}

// packetSocket opens an AF_PACKET socket in the network namespace
// OpenPacketRing ran in. A socket belongs to the namespace of the thread
// that makes it, and linkChanged runs on whatever thread the runtime
// gives the watcher. A daemon has all its threads in one namespace, and
// opens it where it is (setns would want CAP_SYS_ADMIN, which a gateway
// need not have); else (tests move one thread into a namespace) a
// goroutine of its own moves its thread there first, and never moves it
// back (a locked thread ends with its goroutine). The socket's protocol
// is 0: it receives nothing before its filter is in and it is bound.
func (p *PacketRing) packetSocket() (int, error) {
	open := func() (int, error) {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("AF_PACKET socket: %w", err)
		}
		return fd, nil
	}
	runtime.LockOSThread()
	if p.inNetns() {
		defer runtime.UnlockOSThread()
		return open()
	}
	runtime.UnlockOSThread()
	type result struct {
		fd  int
		err error
	}
	made := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(p.netns.Fd()), unix.CLONE_NEWNET); err != nil {
			made <- result{-1, fmt.Errorf("entering the rings' network namespace: %w", err)}
			return
		}
		fd, err := open()
		made <- result{fd, err}
	}()
	r := <-made
	return r.fd, r.err
}

// inNetns reports whether the calling thread is in the rings' network
// namespace.
func (p *PacketRing) inNetns() bool {
	var want, here unix.Stat_t
	if unix.Fstat(int(p.netns.Fd()), &want) != nil || unix.Stat("/proc/thread-self/ns/net", &here) != nil {
		return false
	}
	return want.Dev == here.Dev && want.Ino == here.Ino
}

// currentFd is the socket that takes ESP now: the one made for a new MTU
// when there is one. The caller holds p.mu.
func (r *packetRing) currentFd() int {
	if next := r.next.Load(); next != nil {
		return next.fd
	}
	return r.fd
}

// adopt moves the reader to the rings made for a new MTU, if there are
// any, once it has read the old receive ring to its end (the old socket
// takes nothing since the hand-over). It runs on the reader, which alone
// reads the receive rings, when a read found nothing to return: the
// frames it lent, if any, were refused, and go back first. It reports
// whether it moved.
func (r *packetRing) adopt() bool {
	next := r.next.Load()
	if next == nil {
		return false
	}
	r.ReleaseFrames()
	if !r.v2 {
		// A block the kernel was filling at the hand-over is handed over
		// by its retire timer (ringRetireMs), which wakes the reader. One
		// the kernel has not opened since it was read last (the ring was
		// full: it opens the next block at the next packet, and none
		// comes now) still holds the number of packets read then.
		b, _ := r.blockAt(r.block)
		if binary.NativeEndian.Uint32(b[blockNumPkts:]) != 0 && blockSeq(b) == r.blockSeq {
			return false
		}
	}
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	r.txMu.Lock()
	defer r.txMu.Unlock()
	r.waitMu.Lock()
	defer r.waitMu.Unlock()
	if r.closing || r.next.Load() != next {
		return false // closing (release frees next), or remade since: next time
	}
	// The kernel's drop count goes with the socket: read it first.
	if st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		r.p.ringFull.Add(uint64(st.Drops))
	}
	// Frames still marked for sending (the device's queue was full) go
	// with the old socket, but for what a last kick gets out.
	r.kick()
	old := &packetRing{fd: r.fd, wait: r.wait, mem: r.mem}
	r.fd, r.wait, r.mem = next.fd, next.wait, next.mem
	r.wait.ready = r.rxReady
	r.frameSize, r.frames = next.frameSize, next.frames
	r.txFrameSize, r.txFrames, r.mtu = next.txFrameSize, next.txFrames, next.mtu
	r.block, r.blockSeq, r.in, r.cur, r.frame, r.txHead = 0, next.blockSeq, false, blockReader{}, 0, 0
	r.next.Store(nil)
	// Closing a packet socket waits for an RCU grace period
	// (packet_release: synchronize_net), milliseconds on a busy host,
	// in which the new ring would fill: the reader does not wait.
	go old.release()
	r.p.resized.Add(1)
	return true
}
