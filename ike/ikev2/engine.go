package ikev2

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
)

// Peer is one configured IKE peer and the VPN it carries, in the form the
// exchanges need (the daemon builds it from the Junos model).
type Peer struct {
	Gateway, VPN  string
	Local, Remote netip.Addr
	// Backups are the gateway's addresses after the first: when the peer
	// at the current one is unreachable or dead, the next negotiation goes
	// to the next address, round the list.
	Backups []netip.Addr
	target  int // index into Remote + Backups of where we initiate
	PSK     []byte
	// LocalID and RemoteID: the zero value means "the address" for the
	// local identity and "any" for the remote one.
	LocalID, RemoteID wire.Identification
	// IKEOffer is the IKE SA's proposals in preference order; the Child
	// SA's are made from ESPProposals with each negotiation's SPI.
	IKEOffer     []wire.Proposal
	ESPProposals []*schema.IPsecProposal
	// PFSGroup is the IPsec policy's perfect-forward-secrecy group ("" for
	// none), used when Child SAs are created or rekeyed.
	PFSGroup string
	// Policy is the Child SA's traffic selectors (VPNSelectors): the
	// initiator proposes the first; as responder any may match.
	Policy []Selectors
	// NATTraversal sends and checks NAT detection (Junos: on unless
	// no-nat-traversal); ForceNAT claims a NAT so ESP goes in UDP anyway.
	NATTraversal, ForceNAT bool
	// DPDInterval, when set, probes a peer quiet for that long;
	// DPDThreshold unanswered probes declare it dead.
	DPDInterval  time.Duration
	DPDThreshold int
	// DPDMode is optimized (probe when traffic goes out and nothing comes
	// back), probe-idle-tunnel (probe when no traffic either way) or
	// always-send (probe every interval).
	DPDMode string
	// Reinitiate: keep the tunnel up (establish-tunnels immediately): after
	// a failure the SA is negotiated again.
	Reinitiate bool
	// NoRekey leaves every rekey to the peer (establish-tunnels
	// responder-only-no-rekey): our soft lifetimes start nothing, the hard
	// ones still remove.
	NoRekey bool
	// IKELifetime and ChildLifetime are the proposals' lifetime-seconds
	// (the first proposal's; 0: none).
	IKELifetime, ChildLifetime time.Duration
	// ChildLifeBytes is the IPsec proposal's lifetime-kilobytes in bytes
	// (0: none).
	ChildLifeBytes uint64
}

// Transport sends an IKE message. The daemon's is UDP port 500 (4500 after
// NAT traversal); tests join two engines directly.
type Transport interface {
	Send(msg []byte, from, to netip.AddrPort) error
}

// Engine runs the IKE SAs of one gateway. It is the single owner of their
// state: every message and timer is handled under mu, one at a time, so an
// exchange reads as straight-line code.
type Engine struct {
	log       *slog.Logger
	transport Transport
	installer Installer
	clock     clock.Clock
	rand      io.Reader

	mu    sync.Mutex           // guards everything below
	peers map[netip.Addr]*Peer // by remote address
	sas   map[uint64]*ikeSA    // by our SPI
	// halfOpen counts responder SAs that have not finished IKE_AUTH;
	// byInit finds them by the initiator's SPI and address, so a
	// retransmitted IKE_SA_INIT is answered from cache in one lookup.
	halfOpen int
	byInit   map[initKey]*ikeSA
	// failures keeps the last IKE SAs that failed, with their reasons.
	failures []SAInfo
	closed   bool
	// cookieSecret keys the stateless cookies (§2.6), drawn on first use.
	cookieSecret []byte
	events       func(Event)
	// roles counts each peer's live IKE SAs by our role in them, so that
	// looking for duplicates (dedupe) costs nothing unless both roles
	// exist: with 100,000 SAs a scan per new SA would be quadratic.
	roles map[*Peer]*[2]int
	drops Drops
}

// Config configures an Engine.
type Config struct {
	Logger    *slog.Logger
	Transport Transport
	Installer Installer
	Clock     clock.Clock // clock.Real{} when nil
	Rand      io.Reader   // crypto/rand when nil
	// Events, when set, hears of every SA coming up, going down, being
	// rekeyed, and of failed negotiations (see Event).
	Events func(Event)
}

// NewEngine returns an engine with no peers.
func NewEngine(c Config) *Engine {
	e := &Engine{log: c.Logger, transport: c.Transport, installer: c.Installer, clock: c.Clock, rand: c.Rand, events: c.Events,
		peers: map[netip.Addr]*Peer{}, sas: map[uint64]*ikeSA{}, byInit: map[initKey]*ikeSA{}, roles: map[*Peer]*[2]int{}}
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

// AddPeer configures a peer; messages from its address are answered.
func (e *Engine) AddPeer(p *Peer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range p.addresses() {
		e.peers[a] = p
	}
}

// addresses are the peer's primary address and its backups.
func (p *Peer) addresses() []netip.Addr { return append([]netip.Addr{p.Remote}, p.Backups...) }

// current is the address we initiate to.
func (p *Peer) current() netip.Addr { return p.addresses()[p.target%(1+len(p.Backups))] }

// failover moves the next initiation to the next address; it reports
// whether there is another one.
func (p *Peer) failover() bool {
	if len(p.Backups) == 0 {
		return false
	}
	p.target = (p.target + 1) % (1 + len(p.Backups))
	return true
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

// Initiate starts an IKE SA (and its Child SA) to the peer at remote.
func (e *Engine) Initiate(remote netip.Addr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[remote]
	if p == nil {
		return fmt.Errorf("ikev2: no peer %s", remote)
	}
	if e.closed {
		return fmt.Errorf("ikev2: engine closed")
	}
	return e.initiate(p)
}

// SAs describes the IKE SAs, for show commands and tests.
func (e *Engine) SAs() []SAInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []SAInfo
	for spi, sa := range e.sas {
		if spi != sa.localSPI() {
			continue
		}
		out = append(out, sa.info())
	}
	return out
}

// SAInfo is an IKE SA as show commands report it.
type SAInfo struct {
	Gateway        string
	Remote         netip.Addr
	State          string // "UP" once IKE_AUTH completed
	Initiator      bool
	InitiatorSPI   uint64
	ResponderSPI   uint64
	Encryption     string
	PRF, Integrity string
	Group          string
	Established    time.Time
	Children       int
	LastError      string
	// Ended is when the SA went down (failures only).
	Ended time.Time
}

// espOffer is the Child SA offer carrying our inbound SPI.
func (p *Peer) espOffer(spi uint32) ([]wire.Proposal, error) {
	return ESPOffer(p.ESPProposals, "", spi)
}

// Failures returns the last IKE SAs that failed, oldest first, each with
// its reason (shown by "show security ike security-associations detail"
// and "show security ipsec inactive-tunnels").
func (e *Engine) Failures() []SAInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]SAInfo(nil), e.failures...)
}

// InitiateIfIdle starts an IKE SA to the peer at remote unless one is
// already up or being negotiated: establish-tunnels on-traffic.
func (e *Engine) InitiateIfIdle(remote netip.Addr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[remote]
	if p == nil || e.closed {
		return fmt.Errorf("ikev2: no peer %s", remote)
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
func (e *Engine) Drops() map[string]uint64 { return e.drops.Snapshot() }
