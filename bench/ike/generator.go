package ike

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
	"ipsecgw/ike/wire"
)

// The load generator: IKEv2 initiators from ipsecgw's own engine, on real
// UDP sockets in the generator's namespace.
//
//	launch ──Initiate──▶ shard engine ──Send──▶ socket (500 or 4500)
//	socket ──read──▶ demultiplex by initiator SPI ──▶ shard worker
//	shard worker ──HandleMessage──▶ engine ──InstallChild──▶ tunnel up
//
// The engine does every exchange under one mutex, so one engine is one
// core; the generator runs several (shards) behind the same sockets so that
// it is not the bottleneck. Each shard owns the IKE SAs it started, found
// again by their initiator SPI. A tunnel is pending from its first
// IKE_SA_INIT request until its IKE_AUTH answer installs the Child SA (up),
// or the answer brings none, or the engine records a failure, or the
// timeout passes (failed).

// Non-ESP marker and NAT keepalive on port 4500 (RFC 3948).
const (
	natTPort     = 4500
	nonESPMarker = 4
)

// generator is the sockets and shards of one run against one responder.
type generator struct {
	conns map[netip.AddrPort]*net.UDPConn // by local address
	owner sync.Map                        // initiator SPI (uint64) → *shard
	spi   atomic.Uint32                   // the no-op installer's SPIs

	shards  []*shard
	res     *results
	readers sync.WaitGroup // one per socket
	workers sync.WaitGroup // one per shard
}

// datagram is one received IKE message for a shard.
type datagram struct {
	b        []byte
	from, to netip.AddrPort
}

// shard is one initiator engine and the tunnels it has pending.
type shard struct {
	g      *generator
	engine *ikev2.Engine
	in     chan datagram
	// installed is set by InstallChild, which runs inside HandleMessage on
	// the worker goroutine (or an engine timer, under the engine's lock).
	installed atomic.Bool

	mu      sync.Mutex         // guards pending
	pending map[uint64]*tunnel // by initiator SPI
}

// tunnel is one IKE SA (and its Child SA) being set up.
type tunnel struct {
	start       time.Time
	initsSent   int // IKE_SA_INIT requests (more than one: cookie or resend)
	authsSent   int
	gotCookie   bool
	gotResponse bool
}

// newGenerator opens the sockets (created in the generator's namespace by
// listen) and starts shards engines, each with the peers given.
func newGenerator(listen func(netip.AddrPort) (*net.UDPConn, error), locals []netip.Addr, shards int, peers []*ike.Peer, res *results) (*generator, error) {
	g := &generator{conns: map[netip.AddrPort]*net.UDPConn{}, res: res}
	g.spi.Store(0x1000)
	for _, a := range locals {
		for _, port := range []uint16{500, natTPort} {
			ap := netip.AddrPortFrom(a, port)
			c, err := listen(ap)
			if err != nil {
				g.close()
				return nil, fmt.Errorf("generator socket %s: %w", ap, err)
			}
			g.conns[ap] = c
		}
	}
	for i := 0; i < shards; i++ {
		s := &shard{g: g, in: make(chan datagram, 1024), pending: map[uint64]*tunnel{}}
		s.engine = ikev2.NewEngine(ike.Config{Transport: s, Installer: s})
		for _, p := range peers {
			own := *p // each engine guards its peers' failover state
			if err := s.engine.AddPeer(&own); err != nil {
				return nil, err
			}
		}
		g.shards = append(g.shards, s)
		g.workers.Add(1)
		go func() {
			defer g.workers.Done()
			s.work()
		}()
	}
	for ap, c := range g.conns {
		g.readers.Add(1)
		go func() {
			defer g.readers.Done()
			g.read(ap, c)
		}()
	}
	return g, nil
}

// close closes the engines (their DELETEs are not waited for) and the
// sockets, and waits for the readers and then the workers to end.
func (g *generator) close() {
	for _, s := range g.shards {
		s.engine.Close()
	}
	for _, c := range g.conns {
		c.Close()
	}
	g.readers.Wait()
	for _, s := range g.shards {
		close(s.in)
	}
	g.workers.Wait()
}

// read receives on one socket and hands each IKE message to the shard
// that owns its IKE SA; anything else (ESP, keepalives, strays) is dropped.
func (g *generator) read(local netip.AddrPort, c *net.UDPConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return // closed
		}
		b := buf[:n]
		if local.Port() == natTPort {
			if n < nonESPMarker || b[0]|b[1]|b[2]|b[3] != 0 {
				continue // ESP or a NAT keepalive
			}
			b = b[nonESPMarker:]
		}
		h, err := wire.ParseHeader(b)
		if err != nil {
			continue
		}
		v, ok := g.owner.Load(h.InitiatorSPI)
		if !ok {
			continue
		}
		s := v.(*shard)
		d := datagram{b: append([]byte(nil), b...), from: netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), to: local}
		select {
		case s.in <- d:
		default:
			g.res.dropped.Add(1) // the shard is behind: a loss the engine retransmits
		}
	}
}

// work feeds received messages to the engine and decides the tunnels that
// an IKE_AUTH answer completes.
func (s *shard) work() {
	for d := range s.in {
		h, err := wire.ParseHeader(d.b)
		if err != nil {
			continue
		}
		s.installed.Store(false)
		if h.Exchange == wire.IKE_SA_INIT && h.IsResponse() {
			s.noteInitResponse(h.InitiatorSPI, d.b)
		}
		s.engine.HandleMessage(d.b, d.from, d.to)
		if h.Exchange != wire.IKE_AUTH || !h.IsResponse() {
			continue
		}
		switch {
		case s.installed.Load():
			s.finish(h.InitiatorSPI, "")
		case fragmentBefore(d.b):
			// One fragment of a larger answer (RFC 7383: a certificate
			// row's IKE_AUTH does not fit 576 octets): wait for the rest.
		default:
			s.finish(h.InitiatorSPI, "IKE_AUTH answered without a Child SA (refused or not authenticated)")
		}
	}
}

// noteInitResponse records that the responder answered, and whether it
// asked for a cookie (§2.6: its half-open threshold).
func (s *shard) noteInitResponse(spi uint64, b []byte) {
	s.mu.Lock()
	t := s.pending[spi]
	s.mu.Unlock()
	if t == nil {
		return
	}
	cookie := false
	if m, err := wire.Parse(b); err == nil {
		_, cookie = wire.FindNotify(m.Payloads, wire.COOKIE)
	}
	s.mu.Lock()
	t.gotResponse = true
	if cookie && !t.gotCookie {
		t.gotCookie = true
		s.g.res.cookies.Add(1)
	}
	s.mu.Unlock()
}

// finish ends a pending tunnel: up when reason is empty, else failed.
func (s *shard) finish(spi uint64, reason string) {
	s.mu.Lock()
	t := s.pending[spi]
	delete(s.pending, spi)
	s.mu.Unlock()
	if t == nil {
		return // already decided (a duplicate answer)
	}
	s.g.owner.Delete(spi)
	s.g.res.done(time.Since(t.start), reason, t)
}

// sweep fails the tunnels the engine gave up on and those past the
// timeout; it is called periodically during a run.
func (s *shard) sweep(timeout time.Duration) {
	for _, f := range s.engine.Failures() {
		if f.Initiator {
			s.finish(f.InitiatorSPI, f.Failure.Message)
		}
	}
	now := time.Now()
	var late []uint64
	s.mu.Lock()
	for spi, t := range s.pending {
		if now.Sub(t.start) > timeout {
			late = append(late, spi)
		}
	}
	s.mu.Unlock()
	for _, spi := range late {
		s.finish(spi, fmt.Sprintf("not up within %v", timeout))
	}
}

// Send is the shard engine's Transport. It runs under the engine's lock,
// which orders the sends of one shard; the first IKE_SA_INIT request of an
// IKE SA starts its tunnel's clock.
func (s *shard) Send(msg []byte, from, to netip.AddrPort) error {
	if h, err := wire.ParseHeader(msg); err == nil && !h.IsResponse() {
		switch h.Exchange {
		case wire.IKE_SA_INIT:
			s.mu.Lock()
			t := s.pending[h.InitiatorSPI]
			if t == nil {
				t = &tunnel{start: time.Now()}
				s.pending[h.InitiatorSPI] = t
				s.g.owner.Store(h.InitiatorSPI, s)
			}
			t.initsSent++
			s.mu.Unlock()
		case wire.IKE_AUTH:
			s.mu.Lock()
			if t := s.pending[h.InitiatorSPI]; t != nil {
				t.authsSent++
			}
			s.mu.Unlock()
		}
	}
	c := s.g.conns[from]
	if c == nil {
		return fmt.Errorf("generator has no socket on %s", from)
	}
	if from.Port() == natTPort {
		msg = append(make([]byte, nonESPMarker, nonESPMarker+len(msg)), msg...)
	}
	_, err := c.WriteToUDPAddrPort(msg, to)
	return err
}

// AllocateSPI, InstallChild and RemoveChild make the shard the engine's
// no-op Installer: unique SPIs, nothing installed, the install noted.
func (s *shard) AllocateSPI() (uint32, error) { return s.g.spi.Add(1), nil }

func (s *shard) InstallChild(vpn string, c *ike.ChildSA) error {
	s.installed.Store(true)
	return nil
}

func (s *shard) RemoveChild(vpn string, c *ike.ChildSA) {}

// fragmentBefore reports whether b is an IKE fragment (SKF) other than
// the last of its message.
func fragmentBefore(b []byte) bool {
	m, err := wire.Parse(b)
	if err != nil {
		return false
	}
	for _, p := range m.Payloads {
		if f, ok := p.(*wire.EncryptedFragment); ok {
			return f.Number < f.Total
		}
	}
	return false
}
