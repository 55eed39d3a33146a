package netio

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// XDP is the outer side of the xdp data plane: an XDP program on the
// interfaces that carry raw ESP steers the ESP addressed to this host
// into AF_XDP sockets, one per receive queue, and packets leave through
// the same sockets with an Ethernet header taken from the kernel's route
// and neighbour tables. Everything else (IKE, UDP encapsulation,
// fragments, other hosts' ESP) goes on to the kernel, so the raw ESP
// socket stays open beside it for the fragments it reassembles.
//
// Only the interfaces that hold a local tunnel address get the program
// (Attach): on a veth an XDP program turns off the segmentation offloads
// of its peer, which would cost every other flow through the host.
//
// On veth (this project's test networks) the program runs in native mode
// and the sockets in copy mode; where a driver has no native XDP the
// program runs in generic (SKB) mode, which works everywhere but costs an
// skb per packet.
type XDP struct {
	addr4, addr6 *ebpf.Map
	ports        *ebpf.Map   // UDP encapsulation ports steered (SetUDPPorts)
	objs         []io.Closer // programs and socket maps, one of each per interface
	links        []link.Link
	socks        []*xsk
	attached     map[int]bool // interface indexes with the program
	modes        []string     // "eth0 native 1 queue"
	done         chan struct{}
	wg           sync.WaitGroup
	hops         *nextHops // and its netlink handle, of the namespace OpenXDP ran in

	received, sent, viaKernel atomic.Uint64

	mu sync.Mutex   // guards tx and modes, and socks' growth
	tx map[int]*xsk // transmit socket by interface index
}

// OpenXDP checks that the kernel and the privileges allow XDP and AF_XDP
// (it loads the program once and opens a socket) and prepares the maps;
// Attach then puts the program on interfaces.
func OpenXDP() (_ *XDP, err error) {
	x := &XDP{tx: map[int]*xsk{}, attached: map[int]bool{}, done: make(chan struct{})}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	if x.hops, err = newNextHops(); err != nil {
		return nil, err
	}
	if x.addr4, x.addr6, x.ports, err = newAddrMaps(); err != nil {
		return nil, fmt.Errorf("XDP maps: %w", err)
	}
	prog, xsks, err := newSteering(x.addr4, x.addr6, x.ports)
	if err != nil {
		return nil, fmt.Errorf("loading the XDP program: %w", err)
	}
	prog.Close()
	xsks.Close()
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_XDP socket: %w", err)
	}
	unix.Close(fd)
	if err := watchTables(x.done, &x.wg, x.hops, x.setAddr, nil); err != nil {
		return nil, err
	}
	return x, nil
}

// Attach puts the program on the interfaces that hold the given local
// addresses (those not yet attached) and returns the sockets it opened,
// to be read as raw ESP receivers. An address on no interface, or an
// interface that refuses, is reported in the error; the others are
// attached all the same. It must run in the network namespace OpenXDP
// ran in: interface indexes and sockets are the calling thread's
// namespace's.
func (x *XDP) Attach(local []netip.Addr) ([]Receiver, error) {
	links, errs := x.hops.ethernetLinks(local)
	var recv []Receiver
	for _, l := range links {
		if x.attached[l.attrs.Index] {
			continue
		}
		socks, err := x.attach(l.attrs)
		for _, s := range socks {
			recv = append(recv, s)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", l.attrs.Name, err))
		}
	}
	return recv, errors.Join(errs...)
}

func (x *XDP) attach(a *netlink.LinkAttrs) ([]*xsk, error) {
	x.attached[a.Index] = true
	prog, xsks, err := newSteering(x.addr4, x.addr6, x.ports)
	if err != nil {
		return nil, fmt.Errorf("loading the XDP program: %w", err)
	}
	x.objs = append(x.objs, prog, xsks)
	mode := "native"
	l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: a.Index, Flags: link.XDPDriverMode})
	if err != nil {
		mode = "generic"
		if l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: a.Index, Flags: link.XDPGenericMode}); err != nil {
			return nil, fmt.Errorf("attaching XDP: %w", err)
		}
	}
	x.links = append(x.links, l)
	// NumRxQueues is what the device was made with; fewer may be in use
	// (a veth has as many as CPUs, one active): binding to a queue past
	// the active ones fails, and there the list ends.
	var socks []*xsk
	for q := 0; q < min(max(a.NumRxQueues, 1), maxQueues); q++ {
		s, err := newXSK(a.Index, q, &x.received)
		if err != nil {
			if q > 0 {
				break
			}
			return nil, err
		}
		x.mu.Lock() // Stats reads socks
		x.socks = append(x.socks, s)
		x.mu.Unlock()
		if err := xsks.Put(uint32(q), uint32(s.fd)); err != nil {
			return socks, fmt.Errorf("XSK map: %w", err)
		}
		socks = append(socks, s)
	}
	x.mu.Lock()
	x.tx[a.Index] = socks[0]
	x.modes = append(x.modes, fmt.Sprintf("%s %s %d queue(s)", a.Name, mode, len(socks)))
	x.mu.Unlock()
	x.hops.flush()
	return socks, nil
}

// SetUDPPorts has the program steer ESP in UDP to these ports (4500 and
// the configured encapsulation ports) into the sockets too, the IKE
// messages among it excepted; it replaces the ports set before.
func (x *XDP) SetUDPPorts(ports []uint16) error {
	var errs []error
	var key [2]byte
	it := x.ports.Iterate()
	var old []uint16
	var v uint8
	for it.Next(&key, &v) {
		old = append(old, uint16(key[0])<<8|uint16(key[1]))
	}
	for _, p := range old {
		if !slices.Contains(ports, p) {
			key = [2]byte{byte(p >> 8), byte(p)}
			errs = append(errs, x.ports.Delete(key))
		}
	}
	for _, p := range ports {
		key = [2]byte{byte(p >> 8), byte(p)}
		errs = append(errs, x.ports.Put(key, uint8(1)))
	}
	return errors.Join(errs...)
}

// XDPStats count the packets of the xdp data plane's rings.
type XDPStats struct {
	Received  uint64 `json:"received"`   // ESP packets read from the rings
	Sent      uint64 `json:"sent"`       // packets queued on the rings
	ViaKernel uint64 `json:"via-kernel"` // packets sent by the raw socket: neighbour unknown, or no free frame
	Malformed uint64 `json:"malformed"`  // frames the sockets' readers refused (not ESP to parse), dropped
	// The kernel's drops, from the sockets' XDP_STATISTICS. RingFull:
	// frames dropped for a full receive ring (rx_ring_full; before Linux
	// 5.9 counted in Dropped). FillEmpty: the times the kernel found no
	// frame in a fill ring (rx_fill_ring_empty_descs; in copy mode each
	// is a frame dropped, counted in Dropped too). Dropped: frames the
	// kernel could not give a socket (rx_dropped: no fill frame, too
	// long). InvalidDescriptors: descriptors the kernel refused
	// (rx_invalid_descs plus tx_invalid_descs).
	RingFull           uint64 `json:"ring-full"`
	FillEmpty          uint64 `json:"fill-empty"`
	Dropped            uint64 `json:"dropped"`
	InvalidDescriptors uint64 `json:"invalid-descriptors"`
	// The transmit side's waits for the kernel to take the transmit
	// rings. TransmitKicks: the transmits that had it take a ring;
	// TransmitSendtos: the sendto calls they made (copy mode takes a
	// bounded batch a call). TransmitWaits: the kicks whose quick tries
	// found the peer's queue full, so that they paused and tried again;
	// TransmitWaitNs: the time they spent so, in nanoseconds, in
	// TransmitPauses pauses.
	// TransmitGaveUp: the kicks that stopped waiting (after 20 ms, or
	// refused by the kernel) with frames still in a ring, and
	// TransmitLeft those frames: they are not dropped but sent late, with
	// the next transmit.
	TransmitKicks   uint64 `json:"transmit-kicks"`
	TransmitSendtos uint64 `json:"transmit-sendto-calls"`
	TransmitWaits   uint64 `json:"transmit-waits"`
	TransmitWaitNs  uint64 `json:"transmit-wait-ns"`
	TransmitPauses  uint64 `json:"transmit-pauses"`
	TransmitGaveUp  uint64 `json:"transmit-gave-up"`
	TransmitLeft    uint64 `json:"transmit-left-in-ring"`
}

// Stats reads the counters, the kernel's too.
func (x *XDP) Stats() XDPStats {
	x.mu.Lock()
	socks := x.socks[:len(x.socks):len(x.socks)]
	x.mu.Unlock()
	var k xskKernelStats
	var tx xskTxStats
	var malformed uint64
	for _, s := range socks {
		k = k.add(s.kernelStats())
		tx = tx.add(s.txStats.read())
		malformed += s.malformed.Load()
	}
	return XDPStats{Received: x.received.Load(), Sent: x.sent.Load(), ViaKernel: x.viaKernel.Load(), Malformed: malformed,
		RingFull: k.RingFull, FillEmpty: k.FillEmpty, Dropped: k.Dropped, InvalidDescriptors: k.InvalidRx + k.InvalidTx,
		TransmitKicks: tx.Kicks, TransmitSendtos: tx.Sendtos, TransmitWaits: tx.Waits, TransmitWaitNs: tx.WaitNs,
		TransmitPauses: tx.Pauses, TransmitGaveUp: tx.GaveUp, TransmitLeft: tx.Left}
}

// Describe says where the program runs, for the log and the status.
func (x *XDP) Describe() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.modes) == 0 {
		return "no interface yet"
	}
	return strings.Join(x.modes, ", ")
}

func (x *XDP) setAddr(ip net.IP, present bool) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return
	}
	a = a.Unmap()
	m, key := x.addr4, a.AsSlice()
	if a.Is6() {
		m = x.addr6
	}
	if present {
		m.Put(key, uint8(1))
	} else {
		m.Delete(key)
	}
}

// Sender returns a Sender for complete IP packets of one family that
// transmits through the AF_XDP sockets, and through fallback (the raw
// socket) while a destination's neighbour is unknown: the kernel then
// resolves it, and the next packets take the ring.
func (x *XDP) Sender(fallback Sender) Sender {
	return &ringSender{hops: x.hops, sink: x.sink, fallback: fallback, sent: &x.sent, viaKernel: &x.viaKernel}
}

func (x *XDP) sink(ifindex int) frameSink {
	x.mu.Lock()
	defer x.mu.Unlock()
	if s := x.tx[ifindex]; s != nil {
		return s
	}
	return nil
}

// Close detaches the program and releases the sockets. The data plane's
// loops must have ended (Engine.Close closes the receivers first).
func (x *XDP) Close() error {
	select {
	case <-x.done:
		return nil
	default:
	}
	close(x.done)
	x.wg.Wait()
	var errs []error
	for _, l := range x.links {
		errs = append(errs, l.Close())
	}
	for _, s := range x.socks {
		s.Close()
		s.close()
	}
	x.hops.close()
	for _, c := range x.objs {
		errs = append(errs, c.Close())
	}
	for _, m := range []*ebpf.Map{x.addr4, x.addr6, x.ports} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}
