package ikev2

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// peer is a resolved peer and what IKEv2 makes of it once: its IKE offer,
// identities and traffic selectors in wire form.
type peer struct {
	*ike.Peer
	ikeOffer          []wire.Proposal
	localID, remoteID wire.Identification
	// vpns are the VPNs on the gateway, each with its Child SAs'
	// settings (vpns.go); the first is the embedded Peer's.
	vpns []*vpn
}

// Engine runs the IKE SAs of one gateway. It is the single owner of their
// state: every message and timer is handled under mu, one at a time, so an
// exchange reads as straight-line code.
type Engine struct {
	log       *slog.Logger
	transport ike.Transport
	installer ike.Installer
	clock     clock.Clock
	rand      io.Reader

	mu    sync.Mutex          // guards everything below
	peers map[peerKey][]*peer // by local and remote address (peers.go)
	sas   map[uint64]*ikeSA   // by our SPI
	// halfOpen counts responder SAs that have not finished IKE_AUTH;
	// byInit finds them by the initiator's SPI and address, so a
	// retransmitted IKE_SA_INIT is answered from cache in one lookup.
	halfOpen int
	byInit   map[initKey]*ikeSA
	// failures keeps the last IKE SAs that failed, with their reasons.
	failures ike.FailureLog
	closed   bool
	// cookieSecret keys the stateless cookies (§2.6), drawn on first use.
	cookieSecret []byte
	events       func(ike.Event)
	// roles counts each peer's live IKE SAs by our role in them, so that
	// looking for duplicates (dedupe) costs nothing unless both roles
	// exist: with 100,000 SAs a scan per new SA would be quadratic.
	roles map[*peer]*[2]int
	drops ike.Drops
	// abandoned counts our initiations given up for the peer's IKE SA
	// (abandoninit.go).
	abandoned atomic.Uint64

	frags fragCounters // RFC 7383 fragmentation (fragment.go)

	// superseded are the Child SAs a rekey replaced, whose removal is not
	// a ChildDown (childdown.go).
	superseded ike.Superseded

	// lifetimes are the moments each Child SA's timers are armed for
	// (lifetime.go).
	lifetimes ike.ChildLifetimes
}

// NewEngine returns an engine with no peers.
func NewEngine(c ike.Config) *Engine {
	e := &Engine{log: c.Logger, transport: c.Transport, installer: c.Installer, clock: c.Clock, rand: c.Rand, events: c.Events,
		peers: map[peerKey][]*peer{}, sas: map[uint64]*ikeSA{}, byInit: map[initKey]*ikeSA{}, roles: map[*peer]*[2]int{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.clock == nil {
		e.clock = clock.Real{}
	}
	if e.rand == nil {
		e.rand = rand.Reader
	} else {
		// A reader a test injects need not be safe for the concurrent
		// responders; crypto/rand is.
		e.rand = &lockedReader{r: e.rand}
	}
	return e
}

// AddPeer configures a peer; messages from its addresses are answered.
// It fails when the peer asks for what IKEv2 cannot do.
func (e *Engine) AddPeer(p *ike.Peer) error {
	ep, err := newPeer(p)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.joinPeer(ep) { // vpns.go: another VPN on a gateway already here
		return nil
	}
	e.addPeerKeys(ep)
	return nil
}

// newSPI draws a fresh, unused, non-zero IKE SPI.
func (e *Engine) newSPI() (uint64, error) {
	var b [8]byte
	for {
		if _, err := io.ReadFull(e.rand, b[:]); err != nil {
			return 0, fmt.Errorf("ikev2: SPI: %w", err)
		}
		spi := binary.BigEndian.Uint64(b[:])
		if spi != 0 && e.sas[spi] == nil {
			return spi, nil
		}
	}
}

func (e *Engine) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.rand, b); err != nil {
		return nil, fmt.Errorf("ikev2: random: %w", err)
	}
	return b, nil
}

// HandleMessage takes one received IKE message (after the non-ESP marker
// on port 4500). Anything malformed or unexpected is logged and dropped;
// nothing here panics on input.
func (e *Engine) HandleMessage(b []byte, from, to netip.AddrPort) {
	msg, err := wire.Parse(b)
	if err != nil {
		e.drops.Malformed.Add(1)
		e.log.Debug("dropping malformed IKE message", "from", from, "err", err)
		return
	}
	h := msg.Header
	if !h.IsResponse() && h.Exchange == wire.IKE_SA_INIT && h.ResponderSPI == 0 {
		// A new IKE SA: its key exchange runs outside the engine's lock,
		// so responders use every core.
		e.respondInit(msg, from, to)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return // shutting down: a peer re-initiating at once gets no answer
	}
	e.log.Debug("IKE message received", "from", from, "exchange", h.Exchange, "response", h.IsResponse(),
		"message-id", h.MessageID, "spi-i", fmt.Sprintf("%016x", h.InitiatorSPI), "spi-r", fmt.Sprintf("%016x", h.ResponderSPI), "length", len(b))
	if h.IsResponse() {
		// A response answers one of our requests: our SPI is the
		// initiator's when we initiated, the responder's otherwise.
		sa := e.sas[h.InitiatorSPI]
		if sa == nil || !sa.initiator {
			sa = e.sas[h.ResponderSPI]
		}
		if sa == nil {
			e.drops.NoSA.Add(1)
			e.log.Debug("response for no IKE SA", "from", from, "spi", fmt.Sprintf("%016x", h.InitiatorSPI))
			return
		}
		sa.handleResponse(msg, from, to)
		return
	}
	// A request to us as the IKE SA's responder names our SPI second; one
	// to us as its initiator (a rekey, DELETE or liveness check from the
	// original responder) names it first.
	sa := e.sas[h.ResponderSPI]
	if sa == nil || sa.initiator || sa.spiI != h.InitiatorSPI {
		sa = e.sas[h.InitiatorSPI]
		if sa == nil || !sa.initiator || sa.spiR != h.ResponderSPI {
			e.drops.NoSA.Add(1)
			e.log.Debug("request for no IKE SA", "from", from, "exchange", h.Exchange)
			return
		}
	}
	sa.handleRequest(msg, from, to)
}

// Initiate starts an IKE SA (and its Child SA) to the peer at remote, the
// only gateway with that address (else InitiateFrom).
func (e *Engine) Initiate(remote netip.Addr) error { return e.InitiateFrom(netip.Addr{}, remote) }

// InitiateFrom starts an IKE SA (and its Child SA) to the peer at remote
// whose gateway runs from local.
func (e *Engine) InitiateFrom(local, remote netip.Addr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.peerFor(local, remote)
	if err != nil {
		return err
	}
	if e.closed {
		return fmt.Errorf("ikev2: engine closed")
	}
	return e.initiate(p)
}

// SAs describes the IKE SAs, for show commands and tests.
func (e *Engine) SAs() []ike.SAInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []ike.SAInfo
	for spi, sa := range e.sas {
		if spi != sa.localSPI() {
			continue
		}
		out = append(out, sa.info())
	}
	return out
}

// espOffer is the VPN's Child SA offer in IKE_AUTH, carrying our inbound
// SPI.
func (v *vpn) espOffer(spi uint32) ([]wire.Proposal, error) {
	return ESPOffer(v.ESPProposals, nil, spi)
}

// Failures returns the last IKE SAs that failed, oldest first, each with
// its reason (shown by "show security ike security-associations detail"
// and "show security ipsec inactive-tunnels").
func (e *Engine) Failures() []ike.SAInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failures.List()
}

// InitiateIfIdle starts an IKE SA to the peer at remote unless one is
// already up or being negotiated: establish-tunnels on-traffic.
func (e *Engine) InitiateIfIdle(remote netip.Addr) error {
	return e.InitiateFromIfIdle(netip.Addr{}, remote)
}

// InitiateFromIfIdle is InitiateIfIdle for the peer at remote whose
// gateway runs from local.
func (e *Engine) InitiateFromIfIdle(local, remote netip.Addr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.peerFor(local, remote)
	if err != nil {
		return err
	}
	if e.closed {
		return fmt.Errorf("ikev2: engine closed")
	}
	for _, sa := range e.sas {
		if sa.peer == p && sa.state != stateDead {
			return nil
		}
	}
	return e.initiate(p)
}

type initKey struct {
	spiI   uint64
	remote netip.AddrPort
}

// lockedReader serialises reads of a reader.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(b)
}

// Drops reports the messages the engine dropped, by why.
func (e *Engine) Drops() map[string]uint64 { return e.withFragmentDrops(e.drops.Snapshot()) }
