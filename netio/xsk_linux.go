package netio

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An AF_XDP socket (Documentation/networking/af_xdp.rst) bound to one
// receive queue of one interface. Its UMEM is one anonymous mapping cut
// into frames: the first half lent to the kernel through the fill ring for
// receiving, the second half kept for transmitting. The four rings are
// single-producer single-consumer queues shared with the kernel; each side
// publishes with a store-release of its index and reads the other's with
// a load-acquire (sync/atomic gives both).
//
// The rings live on two sockets sharing the UMEM (XDP_SHARED_UMEM, bound
// to the same queue): the receiving one has the fill, completion and
// receive rings and is the one the XDP program redirects to and the
// runtime's poller waits on; the transmitting one has only the transmit
// ring. One socket with all four rings costs the reader twice over
// whenever packets also leave: in copy mode poll(2) on a socket with a
// transmit ring drives the transmit itself (xsk_poll calls
// xsk_generic_xmit), so each of the poller's epoll_wait returns went
// into the transmit path and waited on the socket's mutex for a sendto
// running on the other core; and each transmitted frame, once freed,
// signalled the socket writable (sock_wfree), waking the poller for
// nothing. A receive-only socket has neither.
const (
	xskFrameSize = 4096
	xskFrames    = 4096 // half receive, half transmit (16 MiB of UMEM)
	xskRingSize  = 2048 // per ring; a power of two
)

// xskRing is one mapped ring.
type xskRing struct {
	mem      []byte
	producer *uint32
	consumer *uint32
	flags    *uint32
	descs    unsafe.Pointer
	mask     uint32
}

func mapRing(fd int, pgoff int64, off unix.XDPRingOffset, entrySize uintptr) (xskRing, error) {
	size := int(off.Desc) + xskRingSize*int(entrySize)
	mem, err := unix.Mmap(fd, pgoff, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return xskRing{}, err
	}
	base := unsafe.Pointer(&mem[0])
	return xskRing{
		mem:      mem,
		producer: (*uint32)(unsafe.Add(base, off.Producer)),
		consumer: (*uint32)(unsafe.Add(base, off.Consumer)),
		flags:    (*uint32)(unsafe.Add(base, off.Flags)),
		descs:    unsafe.Add(base, off.Desc),
		mask:     xskRingSize - 1,
	}, nil
}

func (r *xskRing) addr(i uint32) *uint64 {
	return (*uint64)(unsafe.Add(r.descs, uintptr(i&r.mask)*8))
}

func (r *xskRing) desc(i uint32) *unix.XDPDesc {
	return (*unix.XDPDesc)(unsafe.Add(r.descs, uintptr(i&r.mask)*unsafe.Sizeof(unix.XDPDesc{})))
}

// xsk is one AF_XDP socket.
type xsk struct {
	fd      int      // the receiving socket: fill, completion and receive rings
	txFd    int      // the transmitting socket: the transmit ring
	wait    *xskWait // how the reader sleeps (xskwait_linux.go)
	ifindex int
	queue   int
	umem    []byte
	fill    xskRing
	comp    xskRing
	rx      xskRing
	tx      xskRing

	received *atomic.Uint64

	txMu   sync.Mutex // guards tx, comp and txFree
	txFree []uint64   // transmit frames not in the kernel's hands

	// lent are the receive frames ReadFrames lent out (their UMEM
	// addresses) until ReleaseFrames; only the reader touches it.
	lent []uint64

	// malformed counts the frames the reader refused (not ESP to parse).
	malformed atomic.Uint64
	// kstats is the last reading of the kernel's counters (kernelStats),
	// under txMu.
	kstats xskKernelStats
	// txStats count the transmit kicks and their waits.
	txStats xskTxCounters
}

func newXSK(ifindex, queue int, received *atomic.Uint64) (_ *xsk, err error) {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_XDP socket: %w", err)
	}
	s := &xsk{fd: fd, txFd: -1, ifindex: ifindex, queue: queue, received: received}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.umem, err = unix.Mmap(-1, 0, xskFrames*xskFrameSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE); err != nil {
		return nil, fmt.Errorf("UMEM: %w", err)
	}
	reg := unix.XDPUmemReg{Addr: uint64(uintptr(unsafe.Pointer(&s.umem[0]))), Len: uint64(len(s.umem)), Size: xskFrameSize}
	if err := setsockopt(fd, unix.XDP_UMEM_REG, unsafe.Pointer(&reg), unsafe.Sizeof(reg)); err != nil {
		return nil, fmt.Errorf("XDP_UMEM_REG: %w", err)
	}
	for _, opt := range []int{unix.XDP_UMEM_FILL_RING, unix.XDP_UMEM_COMPLETION_RING, unix.XDP_RX_RING} {
		if err := unix.SetsockoptInt(fd, unix.SOL_XDP, opt, xskRingSize); err != nil {
			return nil, fmt.Errorf("AF_XDP ring size: %w", err)
		}
	}
	off, err := mmapOffsets(fd)
	if err != nil {
		return nil, err
	}
	if s.fill, err = mapRing(fd, unix.XDP_UMEM_PGOFF_FILL_RING, off.Fr, 8); err != nil {
		return nil, fmt.Errorf("fill ring: %w", err)
	}
	if s.comp, err = mapRing(fd, unix.XDP_UMEM_PGOFF_COMPLETION_RING, off.Cr, 8); err != nil {
		return nil, fmt.Errorf("completion ring: %w", err)
	}
	if s.rx, err = mapRing(fd, unix.XDP_PGOFF_RX_RING, off.Rx, unsafe.Sizeof(unix.XDPDesc{})); err != nil {
		return nil, fmt.Errorf("rx ring: %w", err)
	}
	// Lend the receive half to the kernel; keep the transmit half.
	for i := uint32(0); i < xskFrames/2; i++ {
		*s.fill.addr(i) = uint64(i) * xskFrameSize
	}
	atomic.StoreUint32(s.fill.producer, xskFrames/2)
	for i := uint64(xskFrames / 2); i < xskFrames; i++ {
		s.txFree = append(s.txFree, i*xskFrameSize)
	}
	if err := unix.Bind(fd, &unix.SockaddrXDP{Ifindex: uint32(ifindex), QueueID: uint32(queue)}); err != nil {
		return nil, fmt.Errorf("bind AF_XDP socket to interface %d queue %d: %w", ifindex, queue, err)
	}
	if err := s.openTx(); err != nil {
		return nil, fmt.Errorf("AF_XDP transmit socket of interface %d queue %d: %w", ifindex, queue, err)
	}
	if s.wait, err = newXSKWait(fd, fmt.Sprintf("AF_XDP socket of interface %d queue %d", ifindex, queue), s.rxReady); err != nil {
		return nil, err
	}
	return s, nil
}

// openTx makes the transmitting socket: a transmit ring on the receiving
// socket's UMEM, bound to the same interface and queue. Its frames come
// back through the receiving socket's completion ring.
func (s *xsk) openTx() error {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	s.txFd = fd
	if err := unix.SetsockoptInt(fd, unix.SOL_XDP, unix.XDP_TX_RING, xskRingSize); err != nil {
		return fmt.Errorf("ring size: %w", err)
	}
	off, err := mmapOffsets(fd)
	if err != nil {
		return err
	}
	if s.tx, err = mapRing(fd, unix.XDP_PGOFF_TX_RING, off.Tx, unsafe.Sizeof(unix.XDPDesc{})); err != nil {
		return fmt.Errorf("tx ring: %w", err)
	}
	sa := &unix.SockaddrXDP{Flags: unix.XDP_SHARED_UMEM, Ifindex: uint32(s.ifindex), QueueID: uint32(s.queue), SharedUmemFD: uint32(s.fd)}
	if err := unix.Bind(fd, sa); err != nil {
		return fmt.Errorf("bind sharing the UMEM: %w", err)
	}
	// In copy mode one sendto sends 32 frames unless told more (Linux
	// 6.17 and later; older kernels refuse the option and keep 32).
	unix.SetsockoptInt(fd, unix.SOL_XDP, unix.XDP_MAX_TX_SKB_BUDGET, xskRingSize)
	return nil
}

func mmapOffsets(fd int) (unix.XDPMmapOffsets, error) {
	var off unix.XDPMmapOffsets
	offLen := uint32(unsafe.Sizeof(off))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_XDP, unix.XDP_MMAP_OFFSETS, uintptr(unsafe.Pointer(&off)), uintptr(unsafe.Pointer(&offLen)), 0); e != 0 {
		return off, fmt.Errorf("XDP_MMAP_OFFSETS: %w", e)
	}
	return off, nil
}

func setsockopt(fd, opt int, p unsafe.Pointer, n uintptr) error {
	if _, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), n, 0); e != 0 {
		return e
	}
	return nil
}

// ReadBatch receives ESP packets, as ListenESP's receivers do: each
// message gets the ESP packet from its SPI on, the outer addresses and
// the DS field. It blocks until there is at least one.
func (s *xsk) ReadBatch(msgs []Message) (int, error) {
	return s.read(msgs, false)
}

// read is ReadBatch, and ReadFrames when lend is set.
func (s *xsk) read(msgs []Message, lend bool) (int, error) {
	s.ReleaseFrames() // frames a careless caller kept are not lost
	for {
		if s.wait.closed() {
			return 0, net.ErrClosed
		}
		cons := *s.rx.consumer // only this goroutine writes it
		avail := atomic.LoadUint32(s.rx.producer) - cons
		if avail == 0 {
			if err := s.wait.wait(); err != nil {
				return 0, err
			}
			continue
		}
		n := 0
		fillProd := *s.fill.producer
		var i uint32
		for i = 0; i < avail && n < len(msgs); i++ {
			d := s.rx.desc(cons + i)
			frame := s.umem[d.Addr : d.Addr+uint64(d.Len)]
			msgs[n].lend = lend
			ok := parseESPFrame(frame, &msgs[n])
			msgs[n].lend = false
			if ok {
				n++
			} else {
				s.malformed.Add(1)
			}
			// The frame goes straight back to the kernel (its start:
			// the kernel adds its own headroom), or when the lent
			// payload is released.
			if ok && lend {
				s.lent = append(s.lent, d.Addr&^(xskFrameSize-1))
				continue
			}
			*s.fill.addr(fillProd) = d.Addr &^ (xskFrameSize - 1)
			fillProd++
		}
		atomic.StoreUint32(s.rx.consumer, cons+i)
		atomic.StoreUint32(s.fill.producer, fillProd)
		if n > 0 {
			s.received.Add(uint64(n))
			return n, nil
		}
	}
}

// rxReady reports whether the receive ring holds frames.
func (s *xsk) rxReady() bool { return atomic.LoadUint32(s.rx.producer) != *s.rx.consumer }

// parseESPFrame fills m from an Ethernet frame that a ring took: IPv4 or
// IPv6 carrying ESP, or ESP in UDP (then m.Src has the source port and
// m.DstPort the destination port). It copies the ESP packet (the UDP
// payload) into m.Buf.
func parseESPFrame(f []byte, m *Message) bool {
	if len(f) < ethHeaderLen+ipv4MinHeaderLen {
		return false
	}
	ip := f[ethHeaderLen:]
	var payload []byte
	var proto byte
	switch ip[0] >> 4 {
	case 4:
		ihl := int(ip[0]&0x0f) * 4
		total := int(ip[2])<<8 | int(ip[3])
		if ihl < ipv4MinHeaderLen || total < ihl || total > len(ip) {
			return false
		}
		m.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), 0)
		m.Dst = netip.AddrFrom4([4]byte(ip[16:20]))
		m.TOS = ip[1]
		proto, payload = ip[9], ip[ihl:total]
	case 6:
		if len(ip) < ipv6HeaderLen {
			return false
		}
		plen := int(ip[4])<<8 | int(ip[5])
		if ipv6HeaderLen+plen > len(ip) {
			return false
		}
		m.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip[8:24])), 0)
		m.Dst = netip.AddrFrom16([16]byte(ip[24:40]))
		m.TOS = ip[0]<<4 | ip[1]>>4
		proto, payload = ip[6], ip[ipv6HeaderLen:ipv6HeaderLen+plen]
	default:
		return false
	}
	m.SegmentSize, m.DstPort = 0, 0
	switch proto {
	case ipProtoESP:
	case ipProtoUDP:
		if len(payload) < 8 {
			return false
		}
		ulen := int(payload[4])<<8 | int(payload[5])
		if ulen < 8 || ulen > len(payload) {
			return false
		}
		m.Src = netip.AddrPortFrom(m.Src.Addr(), uint16(payload[0])<<8|uint16(payload[1]))
		m.DstPort = uint16(payload[2])<<8 | uint16(payload[3])
		payload = payload[8:ulen]
	default:
		return false
	}
	m.take(payload)
	return true
}

// reclaim takes back the transmit frames the kernel is done with. The
// caller holds txMu.
func (s *xsk) reclaim() {
	cons := *s.comp.consumer
	prod := atomic.LoadUint32(s.comp.producer)
	for i := cons; i != prod; i++ {
		s.txFree = append(s.txFree, *s.comp.addr(i))
	}
	atomic.StoreUint32(s.comp.consumer, prod)
}

// send is transmit under txMu.
func (s *xsk) send(pkts [][]byte, eths []*[ethHeaderLen]byte) int {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	return s.transmit(pkts, eths)
}

// transmit queues frames (Ethernet header eth, then the IP packet) and
// has the kernel send them. It returns how many were queued; the rest
// found no free frame. The caller holds txMu.
func (s *xsk) transmit(pkts [][]byte, eths []*[ethHeaderLen]byte) int {
	if s.umem == nil {
		return 0 // released: the caller falls back to the raw socket
	}
	s.reclaim()
	prod := *s.tx.producer
	room := xskRingSize - (prod - atomic.LoadUint32(s.tx.consumer))
	n := 0
	for i, p := range pkts {
		if len(s.txFree) == 0 || uint32(n) >= room || ethHeaderLen+len(p) > xskFrameSize {
			break
		}
		addr := s.txFree[len(s.txFree)-1]
		s.txFree = s.txFree[:len(s.txFree)-1]
		frame := s.umem[addr : addr+xskFrameSize]
		copy(frame, eths[i][:])
		l := copy(frame[ethHeaderLen:], p)
		*s.tx.desc(prod + uint32(n)) = unix.XDPDesc{Addr: addr, Len: uint32(ethHeaderLen + l)}
		n++
	}
	if n == 0 {
		return 0
	}
	atomic.StoreUint32(s.tx.producer, prod+uint32(n))
	s.kick(prod + uint32(n))
	return n
}

// kick has the kernel take the transmit ring up to end. In copy mode
// (veth and most drivers without zero-copy) each sendto sends a bounded
// batch and says EAGAIN when more remain.
//
// Frames left in the ring go out only with the next kick, which in a
// quiet moment may be much later (the likely cause of an e2e run under
// heavy load where gw1 decrypted 94 of gw2's packets only along with the
// next pings): when the quick tries do not drain the ring (the peer's
// queue is full), it keeps trying with short pauses, for up to
// kickPatience. The counters (txStats) say how often that happens, for
// how long, and how often it gives up.
//
// It pauses blind rather than poll(2) the transmit socket for POLLOUT: in
// copy mode POLLOUT says the transmit ring is at most half full, not that
// the peer has room, so with a few hundred frames left poll returns at
// once (in a test against a peer's NAPI thread, 99% of the polls did) and
// the wait becomes a spin of poll and sendto taking the CPU the peer needs
// to drain. Nothing signals the completion ring's progress either.
func (s *xsk) kick(end uint32) {
	var paused time.Time // when the first pause began
	try, pauses := 0, uint64(0)
	for ; ; try++ {
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(s.txFd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
		if atomic.LoadUint32(s.tx.consumer) == end {
			break
		}
		if !kickAgain(e) {
			s.gaveUp(end)
			break
		}
		if try < kickQuickTries {
			continue
		}
		if now := time.Now(); paused.IsZero() {
			paused = now
		} else if now.Sub(paused) > kickPatience {
			s.gaveUp(end)
			break
		}
		time.Sleep(kickPause)
		pauses++
	}
	s.txStats.kicks.Add(1)
	s.txStats.sendtos.Add(uint64(try) + 1)
	if !paused.IsZero() {
		s.txStats.waits.Add(1)
		s.txStats.pauses.Add(pauses)
		s.txStats.waitNs.Add(uint64(time.Since(paused)))
	}
}

// kickAgain reports whether a sendto's errno leaves the ring worth
// kicking again: none, or the peer's queue (or the socket's send
// buffer) full for now.
func kickAgain(e unix.Errno) bool {
	switch e {
	case 0, unix.EAGAIN, unix.EBUSY, unix.ENOBUFS, unix.EINTR:
		return true
	}
	return false
}

// gaveUp counts a kick that returns with frames still in the ring before
// end: they go out with the next kick, late but not lost.
func (s *xsk) gaveUp(end uint32) {
	s.txStats.gaveUp.Add(1)
	s.txStats.left.Add(uint64(end - atomic.LoadUint32(s.tx.consumer)))
}

const (
	// kickQuickTries is how many sendto calls a kick makes back to back
	// before it pauses: enough for a whole ring at the 32 frames a call
	// that copy mode sends on kernels before Linux 6.17.
	kickQuickTries = xskRingSize / 32
	// kickPause is the pause between the slow tries. time.Sleep may
	// make it much longer (about a millisecond in an otherwise idle
	// process, the runtime's poller timing out in milliseconds): the
	// pause counter beside the wait time shows it.
	kickPause = 50 * time.Microsecond
	// kickPatience bounds how long a transmit waits for a full peer
	// queue.
	kickPatience = 20 * time.Millisecond
)

func (s *xsk) Close() error {
	s.wait.stop()
	return nil
}

// close releases everything; only once no goroutine reads the socket.
// Transmitters are kept out by txMu.
func (s *xsk) close() {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	for _, r := range []*xskRing{&s.fill, &s.comp, &s.rx, &s.tx} {
		if r.mem != nil {
			unix.Munmap(r.mem)
			r.mem = nil
		}
	}
	if s.wait != nil {
		s.wait.release()
	}
	if s.fd >= 0 {
		unix.Close(s.fd)
	}
	s.fd = -1
	if s.txFd >= 0 {
		unix.Close(s.txFd)
		s.txFd = -1
	}
	if s.umem != nil {
		unix.Munmap(s.umem)
		s.umem = nil
	}
}

// ReadFrames is ReadBatch with the ESP packets left in the ring's frames
// (FrameReceiver): each message's Lent is its packet in UMEM.
func (s *xsk) ReadFrames(msgs []Message) (int, error) {
	return s.read(msgs, true)
}

// ReleaseFrames gives the frames ReadFrames lent back to the kernel's
// fill ring, each once.
func (s *xsk) ReleaseFrames() {
	if len(s.lent) == 0 || s.fill.mem == nil {
		s.lent = s.lent[:0]
		return
	}
	prod := *s.fill.producer
	for _, a := range s.lent {
		*s.fill.addr(prod) = a
		prod++
	}
	atomic.StoreUint32(s.fill.producer, prod)
	s.lent = s.lent[:0]
}

// rxFrames says where the receive half of UMEM is: frames the kernel holds
// (given through the fill ring, not yet taken back through the receive
// ring) and frames lent out by ReadFrames. Together they are always the
// whole receive half; the tests check that no frame is lost or given
// twice.
func (s *xsk) rxFrames() (kernel, lent int) {
	return int(atomic.LoadUint32(s.fill.producer) - atomic.LoadUint32(s.rx.consumer)), len(s.lent)
}
