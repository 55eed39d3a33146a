package netio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"ipsecgw/header"
)

// PacketRing is the outer side of the packet-ring data plane, for hosts
// without AF_XDP: on each interface that carries ESP, an AF_PACKET
// socket with a receive ring and a transmit ring (frames sent with one
// sendto per batch), both TPACKET_V2 (frames handed over one by one: see
// packetframe_linux.go) or both TPACKET_V3 (whole blocks of frames
// handed over at once, a block retired when full or after ringRetireMs;
// transmit since Linux 4.11): one version for both, as the kernel wants,
// chosen at OpenPacketRing (ringVersion). A classic BPF filter
// (ringFilter) lets only this host's unfragmented ESP, raw or in UDP to
// the ports of SetUDPPorts, into the ring, behind IPv4 options or IPv6
// extension headers too (ringext_linux.go). Packets leave with the
// Ethernet header from the kernel's route and neighbour tables
// (nextHops), as on the xdp data plane, and through the raw socket while
// a neighbour is unknown.
//
// Unlike XDP, a packet socket is a tap: the kernel still delivers what
// the ring took to its own stack, and so to the raw ESP and UDP sockets.
// Those (PacketRing.ListenESP, PacketRing.ListenUDP) therefore skip the
// ESP of the rings' interfaces and addresses that the kernel did not
// reassemble, and keep the rest (IKE, keepalives, fragments the kernel
// put together, ESP arriving elsewhere).
// Being a tap, the rings leave packet captures (tcpdump, tshark) seeing
// every ESP packet in both directions.
//
// The rings follow their interface's MTU: one whose frames no longer fit
// is made again (packetmtu_linux.go).
type PacketRing struct {
	version int    // unix.TPACKET_V2 or unix.TPACKET_V3
	why     string // why version is what it is
	hops    *nextHops
	netns   *os.File // the network namespace OpenPacketRing ran in
	done    chan struct{}
	wg      sync.WaitGroup

	received, sent, viaKernel, malformed, ringFull, truncated, resized atomic.Uint64
	resizeErr                                                          atomic.Pointer[string] // the last failure to remake a ring

	mu    sync.Mutex // guards rings, modes and ports; taken writes taken
	rings map[int]*packetRing
	modes []string
	ports []uint16 // UDP encapsulation ports the filters take (SetUDPPorts)
	// taken is, per interface with a ring, the addresses its filter
	// takes: what the raw ESP and UDP sockets leave to the ring. Copy on
	// write.
	taken atomic.Pointer[map[int][]netip.Addr]
	// udpTaken is ports, for the UDP sockets' readers. Copy on write.
	udpTaken atomic.Pointer[[]uint16]
}

// Ring geometry. Receive: ringBlocks blocks of ringBlockSize (V2: in
// frames sized for the MTU); transmit: ringTxBlocks blocks of
// ringBlockSize in frames sized for the MTU, ringTxMinFrame at least
// (1024 frames for MTU 1500, 256 for 9000). The memory stays the same
// whatever the MTU: larger frames, fewer of them.
const (
	ringBlockSize   = 1 << 17
	ringBlocks      = 32 // 4 MiB
	ringRetireMs    = 1  // a block not yet full is handed over after this
	ringRxFrameSize = 2048
	ringTxMinFrame  = 4096
	ringTxBlocks    = 32 // 4 MiB
)

// txLayout is where the fields of a transmit frame are, by version.
type txLayout struct{ status, len, snapLen, data int }

var (
	// TPACKET3_HDRLEN - sizeof(struct sockaddr_ll) for the data.
	txV3 = txLayout{status: pktStatus, len: pktLen, snapLen: pktSnapLen, data: pktHeaderLen}
	txV2 = txLayout{status: v2Status, len: v2Len, snapLen: v2SnapLen, data: v2HeaderLen}
)

// RingVersionEnv, set to "v2" or "v3", has OpenPacketRing use that
// TPACKET version (or fail): for tests of either path on one kernel.
const RingVersionEnv = "IPSECGW_PACKET_RING_VERSION"

// OpenPacketRing checks that the kernel and the privileges allow AF_PACKET
// sockets with receive and transmit rings (it sets up a small pair on a
// socket bound to nothing), chooses their TPACKET version and starts
// watching the route and neighbour tables; Attach then opens the rings on
// interfaces. The version is TPACKET_V2 unless RingVersionEnv says v3.
func OpenPacketRing() (_ *PacketRing, err error) {
	p := &PacketRing{done: make(chan struct{}), rings: map[int]*packetRing{}}
	none := map[int][]netip.Addr{}
	p.taken.Store(&none)
	p.udpTaken.Store(&[]uint16{})
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.version, p.why, err = ringVersion(os.Getenv(RingVersionEnv)); err != nil {
		return nil, err
	}
	if p.netns, err = os.Open("/proc/thread-self/ns/net"); err != nil {
		return nil, fmt.Errorf("network namespace: %w", err)
	}
	if p.hops, err = newNextHops(); err != nil {
		return nil, err
	}
	if err := watchTables(p.done, &p.wg, p.hops, nil, p.linkChanged); err != nil {
		return nil, err
	}
	return p, nil
}

// ringVersion chooses the TPACKET version of the rings: the one forced
// ("v2", "v3"), else V2 (see packetframe_linux.go), trying each on a
// small pair of rings on a socket bound to nothing. It says why.
func ringVersion(force string) (version int, why string, err error) {
	try := func(version int) error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		defer unix.Close(fd)
		return setupRings(fd, version, ringRxFrameSize, ringTxMinFrame, 1, 1)
	}
	switch force {
	case "v3":
		return unix.TPACKET_V3, RingVersionEnv + "=v3", try(unix.TPACKET_V3)
	case "v2":
		return unix.TPACKET_V2, RingVersionEnv + "=v2", try(unix.TPACKET_V2)
	case "":
		return unix.TPACKET_V2, "frames handed over one by one, with no block retire delay", try(unix.TPACKET_V2)
	}
	return 0, "", fmt.Errorf("%s=%q: want v2 or v3", RingVersionEnv, force)
}

// setupRings asks for TPACKET version and a receive and a transmit ring
// of the given numbers of blocks, receive frames of rxFrameSize (V2) and
// transmit frames of txFrameSize.
func setupRings(fd, version, rxFrameSize, txFrameSize, rxBlocks, txBlocks int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, version); err != nil {
		return fmt.Errorf("TPACKET_V%d: %w", version+1, err)
	}
	if version == unix.TPACKET_V2 {
		rx := unix.TpacketReq{Block_size: ringBlockSize, Block_nr: uint32(rxBlocks), Frame_size: uint32(rxFrameSize),
			Frame_nr: uint32(rxBlocks * ringBlockSize / rxFrameSize)}
		if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &rx); err != nil {
			return fmt.Errorf("TPACKET_V2 receive ring: %w", err)
		}
		tx := unix.TpacketReq{Block_size: ringBlockSize, Block_nr: uint32(txBlocks), Frame_size: uint32(txFrameSize),
			Frame_nr: uint32(txBlocks * ringBlockSize / txFrameSize)}
		if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &tx); err != nil {
			return fmt.Errorf("TPACKET_V2 transmit ring: %w", err)
		}
		return nil
	}
	rx := unix.TpacketReq3{Block_size: ringBlockSize, Block_nr: uint32(rxBlocks), Frame_size: ringRxFrameSize,
		Frame_nr: uint32(rxBlocks * ringBlockSize / ringRxFrameSize), Retire_blk_tov: ringRetireMs}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &rx); err != nil {
		return fmt.Errorf("TPACKET_V3 receive ring: %w", err)
	}
	// A V3 transmit ring is frames, as V2's: the kernel refuses a retire
	// timeout or private area on it.
	tx := unix.TpacketReq3{Block_size: ringBlockSize, Block_nr: uint32(txBlocks), Frame_size: uint32(txFrameSize),
		Frame_nr: uint32(txBlocks * ringBlockSize / txFrameSize)}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &tx); err != nil {
		return fmt.Errorf("TPACKET_V3 transmit ring (Linux 4.11 and later): %w", err)
	}
	return nil
}

// Attach opens a ring on each interface that holds one of the given local
// addresses (or widens the filter of an interface that has one) and
// returns the new rings, to be read as raw ESP receivers. An address on
// no interface, or an interface that refuses, is reported in the error;
// the others are attached all the same. It must run in the network
// namespace OpenPacketRing ran in.
func (p *PacketRing) Attach(local []netip.Addr) ([]Receiver, error) {
	links, errs := p.hops.ethernetLinks(local)
	var recv []Receiver
	p.mu.Lock()
	defer p.mu.Unlock()
	taken := maps.Clone(*p.taken.Load())
	for _, l := range links {
		index := l.attrs.Index
		want := slices.Clone(taken[index])
		for _, a := range l.addrs {
			if !slices.Contains(want, a) {
				want = append(want, a)
			}
		}
		if r := p.rings[index]; r != nil {
			if len(want) != len(taken[index]) {
				if err := r.filter(want, p.ports); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", l.attrs.Name, err))
					continue
				}
				taken[index] = want
			}
			continue
		}
		r, err := newPacketRing(p, index, l.attrs.MTU, want, p.ports)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", l.attrs.Name, err))
			continue
		}
		p.rings[index] = r
		taken[index] = want
		p.modes = append(p.modes, l.attrs.Name)
		recv = append(recv, r)
	}
	p.taken.Store(&taken)
	p.hops.flush()
	return recv, errors.Join(errs...)
}

// PacketRingStats count the packets of the packet-ring data plane.
type PacketRingStats struct {
	Received  uint64 `json:"received"`   // ESP packets read from the receive rings
	Sent      uint64 `json:"sent"`       // packets queued on the transmit rings
	ViaKernel uint64 `json:"via-kernel"` // packets sent by the raw socket: neighbour unknown, no free frame, larger than a frame or the MTU
	Malformed uint64 `json:"malformed"`  // frames or blocks of the rings that made no sense, dropped
	// Truncated counts the ESP packets the kernel cut to fit a receive
	// frame: the interface's MTU was raised past what the ring was made
	// for, and the ring not yet made again for it. Dropped.
	Truncated uint64 `json:"truncated"`
	// Resized counts the rings made again for a new interface MTU;
	// ResizeError is the last failure to (the old ring then stays).
	Resized     uint64 `json:"resized"`
	ResizeError string `json:"resize-error,omitempty"`
	// RingFull counts the ESP packets the kernel could not put in a
	// receive ring, every block still being read (PACKET_STATISTICS'
	// tp_drops): dropped.
	RingFull uint64 `json:"ring-full"`
	// Version is the rings' TPACKET version, 2 or 3.
	Version int `json:"tpacket-version"`
}

// Stats reads the counters.
func (p *PacketRing) Stats() PacketRingStats {
	p.mu.Lock()
	for _, r := range p.rings {
		// Reading the kernel's counters resets them: they are added up.
		if st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			p.ringFull.Add(uint64(st.Drops))
		}
	}
	p.mu.Unlock()
	st := PacketRingStats{Received: p.received.Load(), Sent: p.sent.Load(), ViaKernel: p.viaKernel.Load(), Malformed: p.malformed.Load(),
		RingFull: p.ringFull.Load(), Truncated: p.truncated.Load(), Resized: p.resized.Load(), Version: p.version + 1}
	if e := p.resizeErr.Load(); e != nil {
		st.ResizeError = *e
	}
	return st
}

// Describe says which interfaces have rings, for the log and the status.
func (p *PacketRing) Describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.modes) == 0 {
		return "no interface yet"
	}
	return fmt.Sprintf("TPACKET_V%d rx/tx on %s", p.version+1, strings.Join(p.modes, ", "))
}

// Version says which TPACKET version the rings use, and why, for the log.
func (p *PacketRing) Version() string {
	return fmt.Sprintf("TPACKET_V%d (%s)", p.version+1, p.why)
}

// Sender returns a Sender for complete IP packets of one family that
// transmits through the rings, and through fallback (the raw socket)
// while a destination's neighbour is unknown.
func (p *PacketRing) Sender(fallback Sender) Sender {
	return &ringSender{hops: p.hops, sink: p.sink, fallback: fallback, sent: &p.sent, viaKernel: &p.viaKernel}
}

func (p *PacketRing) sink(ifindex int) frameSink {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.rings[ifindex]; r != nil {
		return r
	}
	return nil
}

// took reports whether a packet the raw ESP socket received, which came
// in on interface ifindex for dst and is one the filter's walk takes (not
// reassembled, not behind a longer chain of IPv6 extension headers: see
// arrival), is one the ring of that interface has taken.
func (p *PacketRing) took(ifindex int, dst netip.Addr) bool {
	return slices.Contains((*p.taken.Load())[ifindex], dst)
}

// ListenESP opens the raw ESP socket that goes with the rings (see
// PacketRing): it keeps only what the rings do not take.
func (p *PacketRing) ListenESP(family int) (Receiver, error) {
	return listenESP(family, func(ifindex int, m *Message) bool { return p.took(ifindex, m.Dst) })
}

// SetUDPPorts has the rings take ESP in UDP to these ports (4500 and the
// configured encapsulation ports) too, IKE messages and NAT keepalives
// excepted; it replaces the ports set before.
func (p *PacketRing) SetUDPPorts(ports []uint16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ports = slices.Clone(ports)
	var errs []error
	taken := *p.taken.Load()
	for index, r := range p.rings {
		errs = append(errs, r.filter(taken[index], ports))
	}
	p.ports = ports
	p.udpTaken.Store(&ports)
	return errors.Join(errs...)
}

// ListenUDP opens a UDP socket as ListenUDP does, that goes with the rings:
// it leaves them the ESP in UDP they take, and keeps IKE, keepalives,
// what the kernel reassembled and what arrived elsewhere. It reads one
// datagram per message (no UDP GRO): a coalesced run could mix both.
func (p *PacketRing) ListenUDP(family int, port uint16) (Receiver, error) {
	return listenUDP(family, port, func(ifindex int, m *Message) bool {
		if m.N < 4 || header.IsNonESPMarker(m.Buf[:m.N]) || !slices.Contains(*p.udpTaken.Load(), port) {
			return false
		}
		return p.took(ifindex, m.Dst)
	})
}

// Close releases the rings. The data plane's loops must have ended
// (Engine.Close closes the receivers first).
func (p *PacketRing) Close() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	close(p.done)
	p.wg.Wait()
	p.mu.Lock()
	for _, r := range p.rings {
		r.Close()
		r.release()
	}
	p.mu.Unlock()
	p.hops.close()
	if p.netns != nil {
		p.netns.Close()
	}
	return nil
}

// packetRing is one interface's AF_PACKET socket and its two rings,
// mapped together: the receive blocks, then the transmit frames.
type packetRing struct {
	p    *PacketRing
	fd   int
	wait *ringWaiter // owns fd once made
	mem  []byte
	v2   bool     // TPACKET_V2 rings, else V3
	tx   txLayout // where a transmit frame's fields are

	// The socket and rings made for a new MTU (packetmtu_linux.go),
	// until the reader moves to them; set and read under p.mu.
	next atomic.Pointer[packetRing]
	// waitMu guards wait against Close while the reader moves to next.
	waitMu  sync.Mutex
	closing bool

	// Reading: one ReadBatch at a time (the engine's reader).
	block int // V3: the receive block being read or waited for
	// V3: the sequence number the kernel gives block when it opens it
	// (blockSeq): the one after the last block read.
	blockSeq uint64
	cur      blockReader // V3: valid while reading
	in       bool        // V3: a block is being read
	frame    int         // V2: the receive frame being read or waited for
	// V2: the receive frames' size and number.
	frameSize, frames int

	txMu   sync.Mutex // guards txHead, the transmit frames and mtu
	txHead int        // the next transmit frame to fill; the kernel's head follows it
	// The transmit frames' size and number, and the interface's MTU:
	// a packet larger goes to the kernel, which fragments or refuses it
	// as it does on the raw socket (the ring would drop it unsaid).
	txFrameSize, txFrames, mtu int

	// Lending (ReadFrames, packetlend_linux.go): what the reader holds
	// for the caller until ReleaseFrames.
	lend       bool  // the read in progress lends
	lentFrom   int   // V2: the first receive frame held
	lentN      int   // V2: how many frames from lentFrom are held
	lentBlocks []int // V3: receive blocks read to their end, held
}

func newPacketRing(p *PacketRing, ifindex, mtu int, local []netip.Addr, ports []uint16) (_ *packetRing, err error) {
	fd, err := p.packetSocket()
	if err != nil {
		return nil, err
	}
	// The kernel opens the first receive block as number 1 (init_prb_bdqc).
	r := &packetRing{p: p, fd: fd, v2: p.version == unix.TPACKET_V2, tx: txV3, frameSize: ringRxFrameSize, mtu: mtu, blockSeq: 1}
	if r.v2 {
		r.tx, r.frameSize = txV2, v2FrameSize(mtu)
		r.frames = ringBlocks * ringBlockSize / r.frameSize
	}
	r.txFrameSize = txFrameSize(r.tx, mtu)
	r.txFrames = ringTxBlocks * ringBlockSize / r.txFrameSize
	defer func() {
		if err != nil {
			r.release()
		}
	}()
	if err := r.filter(local, ports); err != nil {
		return nil, err
	}
	// A frame the kernel cannot send is skipped, not left to block the
	// transmit ring (set before the rings, or the kernel refuses).
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_LOSS, 1); err != nil {
		return nil, fmt.Errorf("PACKET_LOSS: %w", err)
	}
	if err := setupRings(fd, p.version, r.frameSize, r.txFrameSize, ringBlocks, ringTxBlocks); err != nil {
		return nil, err
	}
	size := (ringBlocks + ringTxBlocks) * ringBlockSize
	if r.mem, err = unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return nil, fmt.Errorf("mapping the rings: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return nil, fmt.Errorf("bind AF_PACKET socket to interface %d: %w", ifindex, err)
	}
	if r.wait, err = newRingWaiter(fd, fmt.Sprintf("AF_PACKET socket of interface %d", ifindex), r.rxReady); err != nil {
		r.fd = -1 // closed by newRingWaiter
		return nil, err
	}
	return r, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// filter sets the socket's filter to take the ESP to local, in UDP to
// ports too: that of the socket made for a new MTU, when there is one
// (the old one then takes nothing). The caller holds p.mu, or is
// newPacketRing.
func (r *packetRing) filter(local []netip.Addr, ports []uint16) error {
	prog, err := ringFilter(local, ports)
	if err != nil {
		return err
	}
	return attachFilter(r.currentFd(), prog)
}

func attachFilter(fd int, prog []unix.SockFilter) error {
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
		return fmt.Errorf("packet filter: %w", err)
	}
	return nil
}

// blockAt returns receive block i and its status word.
func (r *packetRing) blockAt(i int) ([]byte, *uint32) {
	b := r.mem[i*ringBlockSize : (i+1)*ringBlockSize]
	return b, (*uint32)(unsafe.Pointer(&b[blockStatusOffset]))
}

// ReadBatch receives ESP packets, as ListenESP's receivers do: each
// message gets the ESP packet from its SPI on, the outer addresses and
// the DS field. It blocks until there is at least one.
func (r *packetRing) ReadBatch(msgs []Message) (int, error) {
	return r.read(msgs, false)
}

// read is ReadBatch, and ReadFrames when lend is set.
func (r *packetRing) read(msgs []Message, lend bool) (int, error) {
	r.ReleaseFrames() // frames a careless caller kept are not lost
	if len(msgs) == 0 {
		return 0, nil
	}
	r.lend = lend
	defer func() { r.lend = false }()
	for {
		if r.wait.closed.Load() {
			return 0, net.ErrClosed
		}
		n, bad := r.fill(msgs)
		if bad > 0 {
			r.p.malformed.Add(uint64(bad))
		}
		if n > 0 {
			r.p.received.Add(uint64(n))
			return n, nil
		}
		if r.rxReady() {
			continue // all of it was bad: on to the next
		}
		if r.adopt() {
			continue
		}
		if err := r.wait.wait(); err != nil {
			return 0, err
		}
	}
}

// rxReady reports whether the kernel has handed over the block the
// reader is at (or the reader is in the middle of one).
func (r *packetRing) rxReady() bool {
	if r.v2 {
		_, status := r.frameAt(r.frame)
		return atomic.LoadUint32(status)&unix.TP_STATUS_USER != 0
	}
	_, status := r.blockAt(r.block)
	return r.in || atomic.LoadUint32(status)&unix.TP_STATUS_USER != 0
}

// fill reads frames from the blocks the kernel has handed over into msgs,
// giving each block back once read, and returns how many messages it
// filled and how many frames it dropped.
func (r *packetRing) fill(msgs []Message) (n, bad int) {
	if r.v2 {
		return r.fillV2(msgs)
	}
	for n < len(msgs) {
		b, status := r.blockAt(r.block)
		if !r.in {
			if atomic.LoadUint32(status)&unix.TP_STATUS_USER == 0 {
				return n, bad
			}
			var ok bool
			if r.cur, ok = readBlock(b); !ok {
				bad++
			}
			r.blockSeq = blockSeq(b) + 1
			r.in = true
		}
		frame, res := r.cur.next()
		switch res {
		case frameOK:
			if r.take(frame, &msgs[n]) {
				n++
			} else {
				bad++
			}
		case frameBad:
			bad++
		case frameCut:
			r.p.truncated.Add(1)
		case blockEnd:
			bad += int(r.cur.lost)
			// Everything in the block was copied out: back to the
			// kernel; or, lent, when the caller releases it.
			r.in, r.cur = false, blockReader{}
			if r.lend {
				r.lentBlocks = append(r.lentBlocks, r.block)
			} else {
				atomic.StoreUint32(status, unix.TP_STATUS_KERNEL)
			}
			r.block = (r.block + 1) % ringBlocks
		}
	}
	return n, bad
}

// send queues frames on the transmit ring and has the kernel send them.
// It returns how many were queued; the rest found no free frame.
func (r *packetRing) send(pkts [][]byte, eths []*[ethHeaderLen]byte) int {
	r.txMu.Lock()
	defer r.txMu.Unlock()
	if r.mem == nil {
		return 0 // released: the caller falls back to the raw socket
	}
	tx := r.mem[ringBlocks*ringBlockSize:]
	n := 0
	for i, p := range pkts {
		if r.tx.data+ethHeaderLen+len(p) > r.txFrameSize || len(p) > r.mtu {
			break
		}
		f := tx[r.txHead*r.txFrameSize : (r.txHead+1)*r.txFrameSize]
		status := (*uint32)(unsafe.Pointer(&f[r.tx.status]))
		if s := atomic.LoadUint32(status); s != unix.TP_STATUS_AVAILABLE && s != unix.TP_STATUS_WRONG_FORMAT {
			break // still the kernel's: the ring is full
		}
		copy(f[r.tx.data:], eths[i][:])
		l := copy(f[r.tx.data+ethHeaderLen:], p)
		if !r.v2 {
			binary.NativeEndian.PutUint32(f[pktNextOffset:], 0)
		}
		binary.NativeEndian.PutUint32(f[r.tx.len:], uint32(ethHeaderLen+l))
		binary.NativeEndian.PutUint32(f[r.tx.snapLen:], uint32(ethHeaderLen+l))
		atomic.StoreUint32(status, unix.TP_STATUS_SEND_REQUEST)
		r.txHead = (r.txHead + 1) % r.txFrames
		n++
	}
	if n > 0 {
		r.kick()
	}
	return n
}

// kick has the kernel send the frames marked for sending. It does not
// wait for them to leave (MSG_DONTWAIT); a frame the device could not
// take yet stays marked and goes with the next kick.
func (r *packetRing) kick() {
	for try := 0; try < 8; try++ {
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(r.fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case unix.EINTR, unix.EAGAIN, unix.ENOBUFS:
			continue
		}
		return
	}
}

// Close ends a blocked ReadBatch; release frees the ring once nothing
// reads it.
func (r *packetRing) Close() error {
	r.waitMu.Lock()
	defer r.waitMu.Unlock()
	r.closing = true
	r.wait.stop()
	return nil
}

func (r *packetRing) release() {
	if next := r.next.Swap(nil); next != nil {
		next.release()
	}
	r.txMu.Lock()
	defer r.txMu.Unlock()
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
	switch {
	case r.wait != nil:
		r.wait.release()
	case r.fd >= 0:
		unix.Close(r.fd)
	}
	r.fd = -1
}
