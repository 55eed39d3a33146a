// Package dataplane is the userspace ESP engine: the SA database, the
// tunnel interfaces (st0.N) bound to SAs, and the two packet paths.
//
// Outbound, per tunnel interface:
//
//	TUN batch read → outbound SA by traffic selector → tunnel MTU: fragment
//	(IPv4, DF clear) or ICMP too-big back to the sender → sequence number
//	→ [workers] ESP seal in place → outer IPv4/IPv6 header (DSCP/ECN
//	copied out, DF per df-bit) → UDP header when encapsulating →
//	[in order] batched send
//
// Inbound, per receiving socket (raw ESP, UDP 4500, a configured
// encapsulation port):
//
//	batched receive → NAT keepalive / IKE marker sorted out → SPI lookup →
//	encapsulation check → replay pre-check → [workers] ICV and decryption,
//	trailer → inner header check → traffic selector check → RFC 6040
//	ECN/DSCP → [in order] replay window update → batched write to the SA's
//	tunnel interface
//
// The bracketed stages are the pipeline of pipeline.go: crypto on every
// core, packets released in the order they came (on one or two cores the
// reader runs them itself, one batch after the other). Buffers are allocated
// once per pipeline with headroom for the outer headers, so a packet is
// encrypted and framed where the TUN wrote it. The inbound SA lookup is
// one atomic map load; counters are atomic.
package dataplane

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// Buffer geometry shared by both paths.
const (
	// bufSize holds the largest packet a TUN or socket hands over (64 KiB)
	// plus headroom and ESP tailroom.
	bufSize = 1<<16 + 256
	// headroom in front of an inner packet: IPv6 (40) + UDP (8) + ESP
	// header (8) + the largest IV (16), rounded up.
	headroom = 128
	// writeOffset is where decrypted packets are moved for the TUN write:
	// the wireguard-go TUN needs room for its virtio-net header in front.
	writeOffset = 16
	// maxBatch bounds one batch of packets per system call.
	maxBatch = 128
)

// Config configures an Engine.
type Config struct {
	Logger *slog.Logger
	// Send4 and Send6 send complete outer IP packets.
	Send4, Send6 netio.Sender
	// IKE, when set, receives the IKE messages that arrive on UDP 4500
	// behind the non-ESP marker (RFC 3948 §2.2), marker removed.
	IKE func(msg []byte, from netip.AddrPort, to netip.Addr)
	// NoSA, when set, hears (at most once a second per tunnel) that a
	// tunnel had a packet to send and no SA for it: the trigger of
	// establish-tunnels on-traffic. It runs on the packet path's goroutine
	// and must not block.
	NoSA func(tunnel string)
	// UDPViaSend sends ESP in UDP through Send4 and Send6 too (the xdp
	// data plane's rings), not in runs through the UDP sockets.
	UDPViaSend bool
	// Pipeline chooses inline or parallel packet paths (pipeline.go);
	// the zero value decides by the number of cores.
	Pipeline PipelineMode
}

// Engine is the ESP data plane of one gateway.
type Engine struct {
	log   *slog.Logger
	send4 netio.Sender
	send6 netio.Sender
	ike   func([]byte, netip.AddrPort, netip.Addr)
	noSA  func(string)

	// inbound maps SPI → SA: read without locking, written under mu.
	inbound *saTable
	// segSenders are the UDP sockets that can send a run of ESP packets in
	// one call (UDP GSO), by family and local port; copy on write.
	segSenders atomic.Pointer[map[segKey]netio.SegmentSender]
	ipID       atomic.Uint32 // outer IPv4 identification
	tcpMSS     atomic.Uint32 // tcp-mss ipsec-vpn (tcpmss.go); 0: off
	udpViaSend bool          // Config.UDPViaSend

	mu        sync.Mutex // guards the fields below and inbound updates
	tunnels   map[string]*Tunnel
	receivers []netio.Receiver
	closed    bool

	wg    sync.WaitGroup
	work  *workerPool
	Stats Counters

	seqKick atomic.Pointer[chan struct{}] // told when an SA reaches its mark (seqmark.go)
}

// New returns an engine with no tunnels, receivers or SAs.
func New(cfg Config) *Engine {
	e := &Engine{log: cfg.Logger, send4: cfg.Send4, send6: cfg.Send6, ike: cfg.IKE, noSA: cfg.NoSA, tunnels: map[string]*Tunnel{}, work: newWorkerPool(cfg.Pipeline),
		udpViaSend: cfg.UDPViaSend}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log.Info("data plane packet paths", "pipeline", e.Pipeline().String(), "cores", runtime.GOMAXPROCS(0),
		"aead", esp.AEADImplementation())
	e.inbound = newSATable()
	noSenders := map[segKey]netio.SegmentSender{}
	e.segSenders.Store(&noSenders)
	return e
}

// Pipeline reports the mode the packet paths run in (inline or parallel).
func (e *Engine) Pipeline() PipelineMode {
	if e.work.inline {
		return PipelineInline
	}
	return PipelineParallel
}

type segKey struct {
	v6   bool
	port uint16
}

// ErrClosed is returned by operations on a closed engine.
var ErrClosed = errors.New("dataplane: engine closed")

// AddTunnel binds a tunnel interface and starts its outbound loop. icmpFrom
// are the interface's own addresses, used as the source of ICMP errors.
func (e *Engine) AddTunnel(dev netio.TUN, icmpFrom []netip.Addr) (*Tunnel, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if _, ok := e.tunnels[dev.Name()]; ok {
		return nil, fmt.Errorf("dataplane: tunnel %s already exists", dev.Name())
	}
	t := &Tunnel{name: dev.Name(), dev: dev, engine: e, icmpFrom: icmpFrom}
	empty := []*OutboundSA{}
	t.outbound.Store(&empty)
	batch := dev.BatchSize()
	if batch <= 0 || batch > maxBatch {
		batch = maxBatch
	}
	t.free = make(chan *outBatch, pipelineDepth)
	t.ordered = make(chan *outBatch, pipelineDepth)
	for range e.work.depth() {
		t.free <- newOutBatch(e, batch)
	}
	e.tunnels[t.name] = t
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		t.outboundLoop()
	}()
	if !e.work.inline {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			t.releaseLoop()
		}()
	}
	return t, nil
}

// RemoveTunnel takes a tunnel interface out: its SAs are uninstalled and
// the device is closed (closing a TUN removes the interface, and with it
// the kernel's routes through it).
func (e *Engine) RemoveTunnel(name string) error {
	e.mu.Lock()
	t := e.tunnels[name]
	if t == nil {
		e.mu.Unlock()
		return fmt.Errorf("dataplane: no tunnel %s", name)
	}
	delete(e.tunnels, name)
	e.inbound.remove(func(_ uint32, sa *InboundSA) bool { return sa.Tunnel() == name }, nil)
	none := []*OutboundSA{}
	t.outbound.Store(&none)
	t.removed.Store(true)
	e.mu.Unlock()
	return t.dev.Close()
}

// AddReceiver starts an inbound loop on a socket of the given family (4 or
// 6). udpPort is the port it listens on (0 for raw ESP). A UDP socket that
// can send segmented runs (netio.SegmentSender) also becomes the way out
// for the UDP-encapsulated SAs from its port.
func (e *Engine) AddReceiver(r netio.Receiver, family int, udpPort uint16) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if ss, ok := r.(netio.SegmentSender); ok && udpPort != 0 {
		old := *e.segSenders.Load()
		next := make(map[segKey]netio.SegmentSender, len(old)+1)
		for k, v := range old {
			next[k] = v
		}
		next[segKey{v6: family == 6, port: udpPort}] = ss
		e.segSenders.Store(&next)
	}
	e.receivers = append(e.receivers, r)
	free := make(chan *inBatch, pipelineDepth)
	ordered := make(chan *inBatch, pipelineDepth)
	inflight := new(atomic.Int32)
	for range e.work.depth() {
		free <- newInBatch(e, udpPort)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.inboundLoop(r, udpPort, free, ordered, inflight)
	}()
	if !e.work.inline {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.releaseInbound(free, ordered, inflight)
		}()
	}
	return nil
}

func (e *Engine) tunnel(name string) (*Tunnel, error) {
	t := e.tunnels[name]
	if t == nil {
		return nil, fmt.Errorf("dataplane: no tunnel interface %s", name)
	}
	return t, nil
}

// InstallOutbound adds an outbound SA to a tunnel. Several SAs on one
// tunnel are chosen by traffic selector, in installation order; installing
// an SA with the same selectors as an existing one puts it first, so a
// rekeyed SA takes over before the old one is removed.
func (e *Engine) InstallOutbound(tunnel string, p OutboundParams) (*OutboundSA, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.tunnel(tunnel)
	if err != nil {
		return nil, err
	}
	if p.Local.Is4() != p.Remote.Is4() || !p.Local.IsValid() {
		return nil, fmt.Errorf("dataplane: SA %#x: outer addresses %s and %s are not of one family", p.ESP.SPI, p.Local, p.Remote)
	}
	if p.Local.Is4() && e.send4 == nil || p.Local.Is6() && e.send6 == nil {
		return nil, fmt.Errorf("dataplane: SA %#x: no sender for the outer address family", p.ESP.SPI)
	}
	o, err := esp.NewOutbound(p.ESP)
	if err != nil {
		return nil, fmt.Errorf("dataplane: SA %#x: %w", p.ESP.SPI, err)
	}
	if len(p.Selectors) == 0 {
		p.Selectors = AnySelectors
	}
	sa := &OutboundSA{OutboundParams: p, esp: o, tunnel: t}
	if p.Remote.Is4() {
		proto := header.IPProtoESP
		if p.Encap.UDP {
			proto = header.IPProtoUDP
		}
		sa.outer4 = newOuterV4(p.Local, p.Remote, proto)
	}
	// The list is oldest first and the packet path searches it from the
	// end (the newest SA wins). Appending in place is safe for readers of
	// the old list, who never look past its length; removals copy. So an
	// install costs O(1), amortised, with any number of SAs per tunnel.
	next := append(*t.outbound.Load(), sa)
	t.outbound.Store(&next)
	return sa, nil
}

// InstallInbound adds an inbound SA delivering to a tunnel.
func (e *Engine) InstallInbound(tunnel string, p InboundParams) (*InboundSA, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.tunnel(tunnel)
	if err != nil {
		return nil, err
	}
	in, err := esp.NewInbound(p.ESP)
	if err != nil {
		return nil, fmt.Errorf("dataplane: SA %#x: %w", p.ESP.SPI, err)
	}
	if len(p.Selectors) == 0 {
		p.Selectors = AnySelectors
	}
	sa := &InboundSA{InboundParams: p, esp: in, tunnel: t}
	sa.wildcard = wildcardOf(p.Selectors)
	if !e.inbound.put(p.ESP.SPI, sa) {
		return nil, fmt.Errorf("dataplane: inbound SPI %#x is already installed", p.ESP.SPI)
	}
	return sa, nil
}

// RemoveInbound uninstalls an inbound SA.
func (e *Engine) RemoveInbound(spi uint32) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inbound.remove(func(k uint32, _ *InboundSA) bool { return k == spi }, &spi) > 0
}

// RemoveOutbound uninstalls an outbound SA.
func (e *Engine) RemoveOutbound(sa *OutboundSA) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if sa.removed.Swap(true) {
		return false
	}
	// The packet path skips a removed SA at once; the list is compacted
	// when half of it is removed ones, so removing is O(1), amortised.
	t := sa.tunnel
	t.dead++
	if old := *t.outbound.Load(); t.dead*2 > len(old) {
		next := make([]*OutboundSA, 0, len(old)-t.dead)
		for _, o := range old {
			if !o.removed.Load() {
				next = append(next, o)
			}
		}
		t.outbound.Store(&next)
		t.dead = 0
	}
	return true
}

// InboundSA returns the installed inbound SA with the given SPI, or nil.
func (e *Engine) InboundSA(spi uint32) *InboundSA { return e.inbound.get(spi) }

// InboundSAs lists the installed inbound SAs.
func (e *Engine) InboundSAs() []*InboundSA {
	return e.inbound.all()
}

// OutboundSAs lists the installed outbound SAs of every tunnel.
func (e *Engine) OutboundSAs() []*OutboundSA {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*OutboundSA
	for _, t := range e.tunnels {
		for _, sa := range *t.outbound.Load() {
			if !sa.removed.Load() {
				out = append(out, sa)
			}
		}
	}
	return out
}

// Close stops every loop and closes the tunnel interfaces and sockets.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	var errs []error
	for _, t := range e.tunnels {
		errs = append(errs, t.dev.Close())
	}
	for _, r := range e.receivers {
		errs = append(errs, r.Close())
	}
	e.mu.Unlock()
	e.wg.Wait()
	e.work.close()
	return errors.Join(errs...)
}
