package netio

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	objs         []io.Closer // programs and socket maps, one of each per interface
	links        []link.Link
	socks        []*xsk
	attached     map[int]bool // interface indexes with the program
	modes        []string     // "eth0 native 1 queue"
	done         chan struct{}
	wg           sync.WaitGroup
	nl           *netlink.Handle // of the namespace OpenXDP ran in

	received, sent, viaKernel atomic.Uint64

	mu   sync.Mutex   // guards hops, tx and modes
	tx   map[int]*xsk // transmit socket by interface index
	hops map[netip.Addr]hop
}

// hop is how a packet to one destination leaves: the socket of the
// outgoing interface and the Ethernet header, or (ok false, until some
// time) through the kernel.
type hop struct {
	ok    bool
	sock  *xsk
	eth   [ethHeaderLen]byte
	until time.Time // for a miss: when to ask the kernel again
}

// missRetry is how long a destination without a neighbour entry goes
// through the kernel's socket (which resolves the neighbour) before the
// tables are read again.
const missRetry = 200 * time.Millisecond

// OpenXDP checks that the kernel and the privileges allow XDP and AF_XDP
// (it loads the program once and opens a socket) and prepares the maps;
// Attach then puts the program on interfaces.
func OpenXDP() (_ *XDP, err error) {
	x := &XDP{tx: map[int]*xsk{}, attached: map[int]bool{}, done: make(chan struct{}), hops: map[netip.Addr]hop{}}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	// A handle of this namespace: lookups later run on threads that may
	// be in another one (tests move only one thread into a namespace).
	if x.nl, err = netlink.NewHandle(); err != nil {
		return nil, err
	}
	if x.addr4, x.addr6, err = newAddrMaps(); err != nil {
		return nil, fmt.Errorf("XDP maps: %w", err)
	}
	prog, xsks, err := newSteering(x.addr4, x.addr6)
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
	if err := x.watch(); err != nil {
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
	addrs, err := x.nl.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	var recv []Receiver
	var errs []error
	for _, want := range local {
		index := 0
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == want {
				index = a.LinkIndex
			}
		}
		if index == 0 {
			errs = append(errs, fmt.Errorf("no interface holds %s", want))
			continue
		}
		if x.attached[index] {
			continue
		}
		l, err := x.nl.LinkByIndex(index)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a := l.Attrs()
		if a.EncapType != "ether" || len(a.HardwareAddr) != 6 {
			errs = append(errs, fmt.Errorf("%s (holding %s) is not an Ethernet interface", a.Name, want))
			continue
		}
		socks, err := x.attach(a)
		for _, s := range socks {
			recv = append(recv, s)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.Name, err))
		}
	}
	return recv, errors.Join(errs...)
}

func (x *XDP) attach(a *netlink.LinkAttrs) ([]*xsk, error) {
	x.attached[a.Index] = true
	prog, xsks, err := newSteering(x.addr4, x.addr6)
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
		x.socks = append(x.socks, s)
		if err := xsks.Put(uint32(q), uint32(s.fd)); err != nil {
			return socks, fmt.Errorf("XSK map: %w", err)
		}
		socks = append(socks, s)
	}
	x.mu.Lock()
	x.tx[a.Index] = socks[0]
	clear(x.hops)
	x.modes = append(x.modes, fmt.Sprintf("%s %s %d queue(s)", a.Name, mode, len(socks)))
	x.mu.Unlock()
	return socks, nil
}

// XDPStats count the packets of the xdp data plane's rings.
type XDPStats struct {
	Received  uint64 `json:"received"`   // ESP packets read from the rings
	Sent      uint64 `json:"sent"`       // packets queued on the rings
	ViaKernel uint64 `json:"via-kernel"` // packets sent by the raw socket: neighbour unknown, or no free frame
}

// Stats reads the counters.
func (x *XDP) Stats() XDPStats {
	return XDPStats{Received: x.received.Load(), Sent: x.sent.Load(), ViaKernel: x.viaKernel.Load()}
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

// watch keeps the address maps equal to the host's addresses and drops
// the cached hops whenever a route, neighbour or link changes.
func (x *XDP) watch() error {
	addrs := make(chan netlink.AddrUpdate, 64)
	neighs := make(chan netlink.NeighUpdate, 256)
	routes := make(chan netlink.RouteUpdate, 64)
	linksCh := make(chan netlink.LinkUpdate, 16)
	if err := netlink.AddrSubscribeWithOptions(addrs, x.done, netlink.AddrSubscribeOptions{ListExisting: true}); err != nil {
		return err
	}
	if err := netlink.NeighSubscribe(neighs, x.done); err != nil {
		return err
	}
	if err := netlink.RouteSubscribe(routes, x.done); err != nil {
		return err
	}
	if err := netlink.LinkSubscribe(linksCh, x.done); err != nil {
		return err
	}
	// The existing addresses are in before traffic can need them.
	x.loadAddrs()
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		for {
			select {
			case <-x.done:
				return
			case u, ok := <-addrs:
				if !ok {
					return
				}
				x.setAddr(u.LinkAddress.IP, u.NewAddr)
			// A subscription that ends closes its channel: it is then
			// left out (a nil channel never receives) and the cached hops
			// stay until the next change seen on another one.
			case _, ok := <-neighs:
				if !ok {
					neighs = nil
				}
				x.flushHops()
			case _, ok := <-routes:
				if !ok {
					routes = nil
				}
				x.flushHops()
			case _, ok := <-linksCh:
				if !ok {
					linksCh = nil
				}
				x.flushHops()
			}
		}
	}()
	return nil
}

func (x *XDP) loadAddrs() {
	list, err := x.nl.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return
	}
	for _, a := range list {
		x.setAddr(a.IP, true)
	}
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

func (x *XDP) flushHops() {
	x.mu.Lock()
	clear(x.hops)
	x.mu.Unlock()
}

// lookup returns the hop to dst. The caller holds x.mu.
func (x *XDP) lookup(dst netip.Addr) hop {
	h, ok := x.hops[dst]
	if ok && (h.ok || time.Now().Before(h.until)) {
		return h
	}
	h = x.resolve(dst)
	x.hops[dst] = h
	return h
}

// resolve reads the kernel's route and neighbour tables for dst.
func (x *XDP) resolve(dst netip.Addr) hop {
	miss := hop{until: time.Now().Add(missRetry)}
	routes, err := x.nl.RouteGet(dst.AsSlice())
	if err != nil || len(routes) == 0 {
		return miss
	}
	r := routes[0]
	s := x.tx[r.LinkIndex]
	if s == nil {
		return miss
	}
	next := dst
	if gw, ok := netip.AddrFromSlice(r.Gw); ok && gw.IsValid() && !gw.IsUnspecified() {
		next = gw.Unmap()
	}
	family := netlink.FAMILY_V4
	if next.Is6() {
		family = netlink.FAMILY_V6
	}
	neighs, err := x.nl.NeighList(r.LinkIndex, family)
	if err != nil {
		return miss
	}
	l, err := x.nl.LinkByIndex(r.LinkIndex)
	if err != nil || len(l.Attrs().HardwareAddr) != 6 {
		return miss
	}
	const usable = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE | netlink.NUD_PERMANENT
	for _, n := range neighs {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || ip.Unmap() != next || n.State&usable == 0 || len(n.HardwareAddr) != 6 {
			continue
		}
		h := hop{ok: true, sock: s}
		copy(h.eth[0:6], n.HardwareAddr)
		copy(h.eth[6:12], l.Attrs().HardwareAddr)
		if dst.Is4() {
			h.eth[12], h.eth[13] = ethTypeIPv4Hi, ethTypeIPv4Lo
		} else {
			h.eth[12], h.eth[13] = ethTypeIPv6Hi, ethTypeIPv6Lo
		}
		return h
	}
	return miss
}

// Sender returns a Sender for complete IP packets of one family that
// transmits through the AF_XDP sockets, and through fallback (the raw
// socket) while a destination's neighbour is unknown: the kernel then
// resolves it, and the next packets take the ring.
func (x *XDP) Sender(fallback Sender) Sender {
	return &xdpSender{x: x, fallback: fallback}
}

type xdpSender struct {
	x        *XDP
	fallback Sender

	mu   sync.Mutex // one batch at a time; guards the scratch below
	slow [][]byte
	run  [][]byte
	eths []*[ethHeaderLen]byte
	hops []hop
}

func (s *xdpSender) WriteBatch(pkts [][]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow, s.hops = s.slow[:0], s.hops[:0]
	s.x.mu.Lock()
	for _, p := range pkts {
		dst, ok := packetDestination(p)
		if !ok {
			s.hops = append(s.hops, hop{})
			continue
		}
		s.hops = append(s.hops, s.x.lookup(dst))
	}
	s.x.mu.Unlock()
	sent := 0
	for i := 0; i < len(pkts); {
		if !s.hops[i].ok {
			s.slow = append(s.slow, pkts[i])
			i++
			continue
		}
		// A run of packets leaving by one socket.
		sock := s.hops[i].sock
		s.run, s.eths = s.run[:0], s.eths[:0]
		j := i
		for ; j < len(pkts) && s.hops[j].ok && s.hops[j].sock == sock; j++ {
			s.run = append(s.run, pkts[j])
			s.eths = append(s.eths, &s.hops[j].eth)
		}
		sock.txMu.Lock()
		n := sock.transmit(s.run, s.eths)
		sock.txMu.Unlock()
		sent += n
		s.x.sent.Add(uint64(n))
		// What found no frame goes through the kernel rather than nowhere.
		s.slow = append(s.slow, s.run[n:]...)
		i = j
	}
	var err error
	if len(s.slow) > 0 {
		var n int
		n, err = s.fallback.WriteBatch(s.slow)
		sent += n
		s.x.viaKernel.Add(uint64(n))
	}
	clear(s.run)
	clear(s.slow)
	return sent, err
}

func (s *xdpSender) Close() error { return s.fallback.Close() }

// packetDestination reads the destination of an IP packet.
func packetDestination(p []byte) (netip.Addr, bool) {
	switch {
	case len(p) >= ipv4MinHeaderLen && p[0]>>4 == 4:
		return netip.AddrFrom4([4]byte(p[16:20])), true
	case len(p) >= ipv6HeaderLen && p[0]>>4 == 6:
		return netip.AddrFrom16([16]byte(p[24:40])), true
	}
	return netip.Addr{}, false
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
	if x.nl != nil {
		x.nl.Close()
	}
	for _, c := range x.objs {
		errs = append(errs, c.Close())
	}
	for _, m := range []*ebpf.Map{x.addr4, x.addr6} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}
