package netio

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
)

// The ring data planes (AF_XDP, AF_PACKET) write the Ethernet header of
// every packet they send themselves. nextHops finds it in the kernel's
// route and neighbour tables, once per destination, and forgets what it
// found whenever a route, neighbour or link changes (watchTables).

// hop is how a packet to one destination leaves: by interface ifindex
// with the Ethernet header eth, or (ok false, until some time) through
// the kernel, which resolves the neighbour.
type hop struct {
	ok      bool
	ifindex int
	eth     [ethHeaderLen]byte
	until   time.Time // for a miss: when to ask the kernel again
}

// missRetry is how long a destination without a neighbour entry goes
// through the kernel's socket (which resolves the neighbour) before the
// tables are read again.
const missRetry = 200 * time.Millisecond

// nextHops caches the hop of each destination.
type nextHops struct {
	nl *netlink.Handle // of the namespace the data plane was opened in

	mu   sync.Mutex // guards hops
	hops map[netip.Addr]hop
}

func newNextHops() (*nextHops, error) {
	// A handle of this namespace: lookups later run on threads that may
	// be in another one (tests move only one thread into a namespace).
	nl, err := netlink.NewHandle()
	if err != nil {
		return nil, err
	}
	return &nextHops{nl: nl, hops: map[netip.Addr]hop{}}, nil
}

func (n *nextHops) close() {
	if n != nil && n.nl != nil {
		n.nl.Close()
	}
}

func (n *nextHops) flush() {
	n.mu.Lock()
	clear(n.hops)
	n.mu.Unlock()
}

// lookup returns the hop to dst. The caller holds n.mu.
func (n *nextHops) lookup(dst netip.Addr) hop {
	h, ok := n.hops[dst]
	if ok && (h.ok || time.Now().Before(h.until)) {
		return h
	}
	h = n.resolve(dst)
	n.hops[dst] = h
	return h
}

// resolve reads the kernel's route and neighbour tables for dst.
func (n *nextHops) resolve(dst netip.Addr) hop {
	miss := hop{until: time.Now().Add(missRetry)}
	routes, err := n.nl.RouteGet(dst.AsSlice())
	if err != nil || len(routes) == 0 {
		return miss
	}
	r := routes[0]
	next := dst
	if gw, ok := netip.AddrFromSlice(r.Gw); ok && gw.IsValid() && !gw.IsUnspecified() {
		next = gw.Unmap()
	}
	family := netlink.FAMILY_V4
	if next.Is6() {
		family = netlink.FAMILY_V6
	}
	neighs, err := n.nl.NeighList(r.LinkIndex, family)
	if err != nil {
		return miss
	}
	l, err := n.nl.LinkByIndex(r.LinkIndex)
	if err != nil || len(l.Attrs().HardwareAddr) != 6 {
		return miss
	}
	const usable = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE | netlink.NUD_PERMANENT
	for _, ne := range neighs {
		ip, ok := netip.AddrFromSlice(ne.IP)
		if !ok || ip.Unmap() != next || ne.State&usable == 0 || len(ne.HardwareAddr) != 6 {
			continue
		}
		h := hop{ok: true, ifindex: r.LinkIndex}
		copy(h.eth[0:6], ne.HardwareAddr)
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

// watchTables flushes hops whenever a neighbour, route or link changes,
// tells onAddr (when not nil) of every local address there is and every
// one added or removed, and onLink (when not nil) of every link update,
// with the link's MTU, until done is closed.
func watchTables(done chan struct{}, wg *sync.WaitGroup, hops *nextHops, onAddr func(ip net.IP, present bool), onLink func(index, mtu int)) error {
	var addrs chan netlink.AddrUpdate
	neighs := make(chan netlink.NeighUpdate, 256)
	routes := make(chan netlink.RouteUpdate, 64)
	linksCh := make(chan netlink.LinkUpdate, 16)
	if onAddr != nil {
		addrs = make(chan netlink.AddrUpdate, 64)
		if err := netlink.AddrSubscribeWithOptions(addrs, done, netlink.AddrSubscribeOptions{ListExisting: true}); err != nil {
			return err
		}
	}
	if err := netlink.NeighSubscribe(neighs, done); err != nil {
		return err
	}
	if err := netlink.RouteSubscribe(routes, done); err != nil {
		return err
	}
	if err := netlink.LinkSubscribe(linksCh, done); err != nil {
		return err
	}
	if onAddr != nil {
		// The existing addresses are in before traffic can need them.
		if list, err := hops.nl.AddrList(nil, netlink.FAMILY_ALL); err == nil {
			for _, a := range list {
				onAddr(a.IP, true)
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case u, ok := <-addrs:
				if !ok {
					addrs = nil
					continue
				}
				onAddr(u.LinkAddress.IP, u.NewAddr)
			// A subscription that ends closes its channel: it is then
			// left out (a nil channel never receives) and the cached hops
			// stay until the next change seen on another one.
			case _, ok := <-neighs:
				if !ok {
					neighs = nil
				}
				hops.flush()
			case _, ok := <-routes:
				if !ok {
					routes = nil
				}
				hops.flush()
			case u, ok := <-linksCh:
				if !ok {
					linksCh = nil
				}
				hops.flush()
				if ok && onLink != nil && u.Link != nil {
					onLink(int(u.Index), u.Link.Attrs().MTU)
				}
			}
		}
	}()
	return nil
}

// linkAddrs is an Ethernet interface and the local addresses it holds
// that a ring data plane was asked to take.
type linkAddrs struct {
	attrs *netlink.LinkAttrs
	addrs []netip.Addr
}

// ethernetLinks groups local by the interface holding each address, in
// the order first met. An address on no interface, or on one that is not
// Ethernet (the rings write Ethernet headers), is an error; the others
// are returned all the same.
func (n *nextHops) ethernetLinks(local []netip.Addr) ([]linkAddrs, []error) {
	held, err := n.nl.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, []error{err}
	}
	var links []linkAddrs
	var errs []error
	for _, want := range local {
		index := 0
		for _, a := range held {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == want {
				index = a.LinkIndex
			}
		}
		if index == 0 {
			errs = append(errs, fmt.Errorf("no interface holds %s", want))
			continue
		}
		i := slices.IndexFunc(links, func(l linkAddrs) bool { return l.attrs.Index == index })
		if i >= 0 {
			links[i].addrs = append(links[i].addrs, want)
			continue
		}
		l, err := n.nl.LinkByIndex(index)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a := l.Attrs()
		if a.EncapType != "ether" || len(a.HardwareAddr) != 6 {
			errs = append(errs, fmt.Errorf("%s (holding %s) is not an Ethernet interface", a.Name, want))
			continue
		}
		links = append(links, linkAddrs{attrs: a, addrs: []netip.Addr{want}})
	}
	return links, errs
}

// frameSink is one ring that sends Ethernet frames: an AF_XDP socket or
// an AF_PACKET transmit ring. send queues the frames eths[i] + pkts[i]
// and has the kernel send them; it returns how many it queued (the rest
// found no free frame) and is safe for concurrent use.
type frameSink interface {
	send(pkts [][]byte, eths []*[ethHeaderLen]byte) int
}

// ringSender is the Sender of a ring data plane: packets to a destination
// whose Ethernet header is known leave by the ring of their interface,
// the others (neighbour unknown, no ring there, ring full) by fallback,
// the raw socket, so the kernel resolves the neighbour and the next
// packets take the ring.
type ringSender struct {
	hops      *nextHops
	sink      func(ifindex int) frameSink // nil: no ring on that interface
	fallback  Sender
	sent      *atomic.Uint64
	viaKernel *atomic.Uint64

	mu   sync.Mutex // one batch at a time; guards the scratch below
	slow [][]byte
	run  [][]byte
	eths []*[ethHeaderLen]byte
	hopv []hop
}

func (s *ringSender) WriteBatch(pkts [][]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow, s.hopv = s.slow[:0], s.hopv[:0]
	s.hops.mu.Lock()
	for _, p := range pkts {
		dst, ok := packetDestination(p)
		if !ok {
			s.hopv = append(s.hopv, hop{})
			continue
		}
		s.hopv = append(s.hopv, s.hops.lookup(dst))
	}
	s.hops.mu.Unlock()
	sent := 0
	for i := 0; i < len(pkts); {
		var ring frameSink
		if s.hopv[i].ok {
			ring = s.sink(s.hopv[i].ifindex)
		}
		if ring == nil {
			s.slow = append(s.slow, pkts[i])
			i++
			continue
		}
		// A run of packets leaving by one interface.
		ifindex := s.hopv[i].ifindex
		s.run, s.eths = s.run[:0], s.eths[:0]
		j := i
		for ; j < len(pkts) && s.hopv[j].ok && s.hopv[j].ifindex == ifindex; j++ {
			s.run = append(s.run, pkts[j])
			s.eths = append(s.eths, &s.hopv[j].eth)
		}
		n := ring.send(s.run, s.eths)
		sent += n
		s.sent.Add(uint64(n))
		// What found no frame goes through the kernel rather than nowhere.
		s.slow = append(s.slow, s.run[n:]...)
		i = j
	}
	var err error
	if len(s.slow) > 0 {
		var n int
		n, err = s.fallback.WriteBatch(s.slow)
		sent += n
		s.viaKernel.Add(uint64(n))
	}
	clear(s.run)
	clear(s.slow)
	return sent, err
}

func (s *ringSender) Close() error { return s.fallback.Close() }

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
