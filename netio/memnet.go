package netio

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"ipsecgw/header"
)

const (
	// memQueueLen is how many packets a fake receiver holds, in the
	// order of what a socket's default receive buffer holds.
	memQueueLen = 1024

	// DefaultMemMTU is a MemNetwork's MTU until SetMTU: Ethernet's.
	DefaultMemMTU = 1500
)

// MemNetwork is an in-memory IP network joining any number of fake hosts
// in one process. A packet a host's Sender writes goes to the host that
// owns its destination address, and there to the receivers the kernel
// would give it to: protocol 50 to every ESP receiver of that family (raw
// sockets each get a copy), UDP to the one UDP receiver of its destination
// port. Receivers see what the Linux ones would: headers stripped, Src,
// Dst and TOS from the packet.
//
// Like a real network it drops rather than blocks: a packet to an address
// nobody owns or a port nobody listens on, a receiver's full queue, a bad
// UDP checksum: each is counted in MemNetworkStats. Unlike the kernel it
// does not reassemble IPv4 fragments or walk IPv6 extension headers; such
// packets are counted as Undeliverable, since the data plane never sends
// them outward.
type MemNetwork struct {
	mu    sync.RWMutex
	hosts map[netip.Addr]*MemHost // every address of every host
	mtu   int

	sent          atomic.Uint64
	refused       atomic.Uint64
	delivered     atomic.Uint64
	noListener    atomic.Uint64
	queueFull     atomic.Uint64
	undeliverable atomic.Uint64
}

// MemNetworkStats are a MemNetwork's counters, in packets.
type MemNetworkStats struct {
	Sent          uint64 // taken by WriteBatch
	Refused       uint64 // refused by WriteBatch with an error, as the kernel would refuse them
	Delivered     uint64 // queued on a receiver; a packet two ESP receivers get counts twice
	NoListener    uint64 // dropped: no host owns the destination, or none of its receivers wants the packet
	QueueFull     uint64 // dropped: the receiver's queue was full
	Undeliverable uint64 // dropped: bad UDP length or checksum, an IPv4 fragment, an IPv6 extension header
}

// MemHost is one host on a MemNetwork: a set of addresses and the outer
// sockets opened on them. It implements Network.
type MemHost struct {
	net   *MemNetwork
	addrs []netip.Addr

	// Guarded by net.mu. Index 0 is IPv4, 1 is IPv6.
	esp [2][]*memReceiver
	udp [2]map[uint16]*memReceiver
}

// NewMemNetwork returns an empty network with MTU DefaultMemMTU.
func NewMemNetwork() *MemNetwork {
	return &MemNetwork{hosts: make(map[netip.Addr]*MemHost), mtu: DefaultMemMTU}
}

// SetMTU sets the largest packet a Sender may write; a longer one is
// refused with EMSGSIZE, as a raw socket refuses a packet longer than its
// route's MTU.
func (n *MemNetwork) SetMTU(mtu int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mtu = mtu
}

// AddHost adds a host owning addrs. It fails when an address is invalid,
// zoned, unspecified, or owned by another host.
func (n *MemNetwork) AddHost(addrs ...netip.Addr) (*MemHost, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := &MemHost{net: n, udp: [2]map[uint16]*memReceiver{{}, {}}}
	for _, a := range addrs {
		switch {
		case !a.IsValid() || a.IsUnspecified() || a.Zone() != "":
			return nil, fmt.Errorf("netio: host address %q; expected a unicast address without zone", a)
		case n.hosts[a] != nil || h.owns(a):
			return nil, fmt.Errorf("netio: host address %s is already on the network", a)
		}
		h.addrs = append(h.addrs, a)
	}
	for _, a := range h.addrs {
		n.hosts[a] = h
	}
	return h, nil
}

func (h *MemHost) owns(a netip.Addr) bool {
	for _, b := range h.addrs {
		if a == b {
			return true
		}
	}
	return false
}

// Stats returns the counters.
func (n *MemNetwork) Stats() MemNetworkStats {
	return MemNetworkStats{
		Sent:          n.sent.Load(),
		Refused:       n.refused.Load(),
		Delivered:     n.delivered.Load(),
		NoListener:    n.noListener.Load(),
		QueueFull:     n.queueFull.Load(),
		Undeliverable: n.undeliverable.Load(),
	}
}

// Addrs returns the host's addresses.
func (h *MemHost) Addrs() []netip.Addr { return append([]netip.Addr(nil), h.addrs...) }

// ListenESP returns a receiver of the ESP packets of the given family sent
// to any of the host's addresses. Every ESP receiver of a host gets its
// own copy of each packet, as every raw socket does.
func (h *MemHost) ListenESP(family int) (Receiver, error) {
	if err := checkFamily(family); err != nil {
		return nil, err
	}
	r := &memReceiver{host: h, family: family, esp: true, q: newPacketQueue(memQueueLen)}
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	fi := familyIndex(family)
	h.esp[fi] = append(h.esp[fi], r)
	return r, nil
}

// ListenUDP returns a receiver of the UDP datagrams of the given family
// sent to port on any of the host's addresses. As with a UDP socket, a
// port has one receiver per family; port 0 (pick one) is not supported,
// since a Receiver cannot say which it got.
func (h *MemHost) ListenUDP(family int, port uint16) (Receiver, error) {
	if err := checkFamily(family); err != nil {
		return nil, err
	}
	if port == 0 {
		return nil, errors.New("netio: fake UDP port 0; expected a fixed port")
	}
	r := &memReceiver{host: h, family: family, port: port, q: newPacketQueue(memQueueLen)}
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	fi := familyIndex(family)
	if h.udp[fi][port] != nil {
		return nil, fmt.Errorf("netio: fake UDP port %d (IPv%d) already has a receiver: %w", port, family, syscall.EADDRINUSE)
	}
	h.udp[fi][port] = r
	return r, nil
}

// NewRawSender returns a sender of complete packets of the given family.
// Source addresses are sent as written, whether the host owns them or
// not, as a raw socket does.
func (h *MemHost) NewRawSender(family int) (Sender, error) {
	if err := checkFamily(family); err != nil {
		return nil, err
	}
	return &memSender{net: h.net, family: family}, nil
}

func familyIndex(family int) int {
	if family == 6 {
		return 1
	}
	return 0
}

// memReceiver is a fake socket's receiving end.
type memReceiver struct {
	host   *MemHost
	family int
	esp    bool   // raw ESP; otherwise UDP on port
	port   uint16 // UDP only
	q      *packetQueue
	once   sync.Once
	closed atomic.Bool // SendSegments refuses once Close began
}

func (r *memReceiver) ReadBatch(msgs []Message) (int, error) { return r.q.readMessages(msgs) }

// Close unregisters the receiver, wakes its readers and discards what it
// had queued.
func (r *memReceiver) Close() error {
	r.once.Do(func() {
		r.closed.Store(true)
		n := r.host.net
		n.mu.Lock()
		fi := familyIndex(r.family)
		if r.esp {
			rs := r.host.esp[fi]
			for i, x := range rs {
				if x == r {
					r.host.esp[fi] = append(rs[:i:i], rs[i+1:]...)
					break
				}
			}
		} else {
			delete(r.host.udp[fi], r.port)
		}
		n.mu.Unlock()
		r.q.close()
	})
	return nil
}

// memSender is a fake raw socket's sending end.
type memSender struct {
	net    *MemNetwork
	family int
	closed atomic.Bool
}

func (s *memSender) WriteBatch(pkts [][]byte) (int, error) {
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	n := s.net
	n.mu.RLock()
	defer n.mu.RUnlock()
	sent := 0
	var first error
	for _, p := range pkts {
		if err := n.route(s.family, p); err != nil {
			n.refused.Add(1)
			if first == nil {
				first = err
			}
			continue
		}
		sent++
	}
	n.sent.Add(uint64(sent))
	return sent, first
}

func (s *memSender) Close() error {
	s.closed.Store(true)
	return nil
}

// outer is what routing needs of an outer packet's IP header.
type outer struct {
	src, dst netip.Addr
	tos      uint8
	protocol uint8
	payload  []byte
	length   int  // of the whole packet, header included
	fragment bool // IPv4 fragment, or an IPv6 extension header in the way
}

// route takes one packet as a raw socket of family would, and delivers it.
// It returns an error only for a packet the kernel would refuse to send;
// a packet taken and then lost is counted, as on a real network. n.mu is
// read-locked.
func (n *MemNetwork) route(family int, p []byte) error {
	o, err := parseOuter(family, p)
	if err != nil {
		return err
	}
	if o.length > n.mtu {
		return fmt.Errorf("netio: %d-octet packet to %s exceeds the MTU of %d: %w", o.length, o.dst, n.mtu, syscall.EMSGSIZE)
	}
	if o.fragment {
		n.undeliverable.Add(1)
		return nil
	}
	h := n.hosts[o.dst]
	if h == nil {
		n.noListener.Add(1)
		return nil
	}
	fi := familyIndex(family)
	switch o.protocol {
	case header.IPProtoESP:
		if len(h.esp[fi]) == 0 {
			n.noListener.Add(1)
		}
		for _, r := range h.esp[fi] {
			n.count(r.q.push(o.payload, netip.AddrPortFrom(o.src, 0), o.dst, o.tos))
		}
	case header.IPProtoUDP:
		u, ok := header.ParseUDP(o.payload)
		if !ok || !u.ChecksumValid(o.src, o.dst) {
			n.undeliverable.Add(1)
			return nil
		}
		r := h.udp[fi][u.DestinationPort()]
		if r == nil {
			n.noListener.Add(1)
			return nil
		}
		n.count(r.q.push(u.Payload(), netip.AddrPortFrom(o.src, u.SourcePort()), o.dst, o.tos))
	default:
		n.noListener.Add(1)
	}
	return nil
}

func (n *MemNetwork) count(r pushResult) {
	switch r {
	case pushed:
		n.delivered.Add(1)
	case queueFull:
		n.queueFull.Add(1)
	case queueClosed:
		n.noListener.Add(1) // closed after we found it: as good as gone
	}
}

// errNotPacket is wrapped by the errors of packets a raw sender refuses.
var errNotPacket = errors.New("netio: not a complete IP packet")

// parseOuter reads the outer header of a packet written to a raw sender of
// family, through the header package's gates. The packet must be one
// whole IPv4 or IPv6 packet of that family; octets after the length its
// header gives are ignored (the kernel would cut them too).
func parseOuter(family int, p []byte) (outer, error) {
	switch family {
	case 4:
		h, ok := header.ParseIPv4(p)
		if !ok {
			return outer{}, fmt.Errorf("%w: want an IPv4 header whose Total Length fits the %d octets given", errNotPacket, len(p))
		}
		return outer{
			src: h.Source(), dst: h.Destination(), tos: h.TOS(),
			protocol: h.Protocol(), payload: h.Payload(), length: len(h), fragment: h.IsFragment(),
		}, nil
	default:
		h, ok := header.ParseIPv6(p)
		if !ok {
			return outer{}, fmt.Errorf("%w: want an IPv6 header whose Payload Length fits the %d octets given", errNotPacket, len(p))
		}
		nh := h.NextHeader()
		return outer{
			src: h.Source(), dst: h.Destination(), tos: h.TrafficClass(),
			protocol: nh, payload: h.Payload(), length: len(h), fragment: isIPv6Extension(nh),
		}, nil
	}
}

// isIPv6Extension reports whether next is an IPv6 extension header the
// kernel would walk past before delivering (RFC 8200 §4).
func isIPv6Extension(next uint8) bool {
	switch next {
	case header.IPProtoHopByHop, header.IPProtoRouting, header.IPProtoFragment, header.IPProtoDestOpts:
		return true
	}
	return false
}

// SendSegments sends buf as UDP datagrams of segSize octets from the
// receiver's port to dst, as the kernel's UDP GSO would: each segment
// becomes one UDP/IP packet from src (the host's first address of the
// family when src is unset) handed to the network like a raw sender's.
// Only UDP receivers send; a raw ESP receiver refuses, as the Linux one
// does.
func (r *memReceiver) SendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segSize int) error {
	if r.esp {
		return errors.New("netio: SendSegments on a fake raw ESP socket")
	}
	if segSize <= 0 || len(buf) == 0 || (len(buf)+segSize-1)/segSize > MaxSegments {
		return fmt.Errorf("netio: SendSegments: %d octets in segments of %d", len(buf), segSize)
	}
	if (r.family == 4) != dst.Addr().Is4() {
		return fmt.Errorf("netio: SendSegments: %s is not IPv%d", dst.Addr(), r.family)
	}
	if !src.IsValid() {
		for _, a := range r.host.addrs {
			if a.Is4() == (r.family == 4) {
				src = a
				break
			}
		}
	}
	if src.Is4() != dst.Addr().Is4() {
		return fmt.Errorf("netio: SendSegments: no IPv%d source address for %s", r.family, dst.Addr())
	}
	if r.closed.Load() {
		return net.ErrClosed
	}
	n := r.host.net
	n.mu.RLock()
	defer n.mu.RUnlock()
	for off := 0; off < len(buf); off += segSize {
		seg := buf[off:min(off+segSize, len(buf))]
		p, err := encodeUDPPacket(src, dst.Addr(), tos, r.port, dst.Port(), seg)
		if err != nil {
			n.refused.Add(1)
			return err
		}
		if err := n.route(r.family, p); err != nil {
			n.refused.Add(1)
			return err
		}
		n.sent.Add(1)
	}
	return nil
}

// encodeUDPPacket builds one IPv4 or IPv6 packet carrying a UDP datagram
// with its checksum.
func encodeUDPPacket(src, dst netip.Addr, tos uint8, sport, dport uint16, data []byte) ([]byte, error) {
	ulen := header.UDPMinimumSize + len(data)
	hlen := header.IPv4MinimumSize
	if dst.Is6() {
		hlen = header.IPv6MinimumSize
	}
	if hlen+ulen > 0xffff {
		return nil, fmt.Errorf("netio: SendSegments: %d-octet segment: %w", len(data), syscall.EMSGSIZE)
	}
	p := make([]byte, hlen+ulen)
	var ok bool
	if dst.Is4() {
		_, ok = header.EncodeIPv4(p, header.IPv4Fields{TOS: tos, TotalLength: uint16(hlen + ulen), TTL: 64,
			Protocol: header.IPProtoUDP, Source: src, Destination: dst})
	} else {
		_, ok = header.EncodeIPv6(p, header.IPv6Fields{TrafficClass: tos, PayloadLength: uint16(ulen),
			NextHeader: header.IPProtoUDP, HopLimit: 64, Source: src, Destination: dst})
	}
	if !ok {
		return nil, fmt.Errorf("netio: SendSegments: cannot encode a packet from %s to %s", src, dst)
	}
	copy(p[hlen+header.UDPMinimumSize:], data)
	u, ok := header.EncodeUDP(p[hlen:], header.UDPFields{SourcePort: sport, DestinationPort: dport, Length: uint16(ulen)})
	if !ok {
		return nil, fmt.Errorf("netio: SendSegments: cannot encode a UDP header for %d octets", len(data))
	}
	u.UpdateChecksum(src, dst)
	return p, nil
}
