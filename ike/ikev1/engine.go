package ikev1

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"

	"ipsecgw/clock"
	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
)

// Engine runs the IKEv1 SAs of one gateway. It is the single owner of
// their state: every message and timer is handled under mu, one at a time.
type Engine struct {
	log       *slog.Logger
	transport ike.Transport
	installer ike.Installer
	clock     clock.Clock
	rand      io.Reader
	events    func(ike.Event)

	mu    sync.Mutex
	peers map[netip.Addr]*peer
	// sas finds an ISAKMP SA by the initiator's cookie and the peer's
	// address (a responder learns its own cookie only with message 2).
	sas      map[saKey]*isakmpSA
	failures ike.FailureLog
	closed   bool
	drops    ike.Drops

	// lifetimes holds each IPsec SA's rekey and hard deadlines, as its
	// timers are armed (quickmode.go), for Export and ChildLifetimes.
	lifetimes ike.ChildLifetimes

	// superseded are the IPsec SAs a rekey replaced, whose removal is not
	// a ChildDown (childdown.go).
	superseded ike.Superseded
}

type saKey struct {
	ckyI   uint64
	remote netip.Addr
}

// NewEngine returns an engine with no peers.
func NewEngine(c ike.Config) *Engine {
	e := &Engine{log: c.Logger, transport: c.Transport, installer: c.Installer, clock: c.Clock, rand: c.Rand,
		events: c.Events, peers: map[netip.Addr]*peer{}, sas: map[saKey]*isakmpSA{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.clock == nil {
		e.clock = clock.Real{}
	}
	if e.rand == nil {
		e.rand = rand.Reader
	}
	return e
}

// AddPeer configures a peer; messages from its addresses are answered.
// It fails when the peer asks for what IKEv1 cannot do.
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
	for _, a := range p.Addresses() {
		e.peers[a] = ep
	}
	return nil
}

// RemovePeer forgets a peer: its SAs are deleted (the peer is told) and
// their IPsec SAs removed; nothing is negotiated again.
func (e *Engine) RemovePeer(remote netip.Addr) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[remote]
	if p == nil {
		return
	}
	for _, a := range p.Addresses() {
		delete(e.peers, a)
	}
	for _, sa := range e.sasOf(p) {
		sa.closing = true
		sa.failure = ike.Failf(ike.CauseLocal, "peer removed from the configuration")
		sa.deleteAndClose()
	}
}

func (e *Engine) sasOf(p *peer) []*isakmpSA {
	var out []*isakmpSA
	for _, sa := range e.sas {
		if sa.peer == p && sa.state != stateDead {
			out = append(out, sa)
		}
	}
	return out
}

// Initiate starts Main Mode (and then Quick Mode) to the peer at remote.
func (e *Engine) Initiate(remote netip.Addr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[remote]
	if p == nil || e.closed {
		return fmt.Errorf("ikev1: no peer %s", remote)
	}
	return e.initiate(p)
}

// InitiateIfIdle initiates unless an SA to the peer is up or negotiating.
func (e *Engine) InitiateIfIdle(remote netip.Addr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[remote]
	if p == nil || e.closed {
		return fmt.Errorf("ikev1: no peer %s", remote)
	}
	if len(e.sasOf(p)) > 0 {
		return nil
	}
	return e.initiate(p)
}

// HandleMessage takes one received IKEv1 message (after the non-ESP marker
// on port 4500). Anything malformed, unexpected or unauthenticated is
// logged and dropped; nothing here panics on input.
func (e *Engine) HandleMessage(b []byte, from, to netip.AddrPort) {
	msg, err := v1.Parse(b)
	if err != nil {
		e.drops.Malformed.Add(1)
		e.log.Debug("dropping malformed IKEv1 message", "from", from, "err", err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	h := msg.Header
	e.log.Debug("IKEv1 message received", "from", from, "exchange", h.Exchange, "message-id", h.MessageID,
		"cky-i", fmt.Sprintf("%016x", h.InitiatorCookie), "cky-r", fmt.Sprintf("%016x", h.ResponderCookie), "length", len(b))
	sa := e.sas[saKey{h.InitiatorCookie, from.Addr()}]
	if sa == nil {
		if h.ResponderCookie == 0 && h.MessageID == 0 && !h.Encrypted() {
			switch h.Exchange {
			case v1.MainMode:
				e.respondMainMode(msg, from, to)
				return
			case v1.AggressiveMode:
				e.respondAggressive(msg, from, to)
				return
			}
		}
		e.drops.NoSA.Add(1)
		e.log.Debug("IKEv1 message for no ISAKMP SA", "from", from, "exchange", h.Exchange)
		return
	}
	// The responder's cookie must be the SA's, once known: the initiator
	// learns it from message 2.
	if h.ResponderCookie != sa.ckyR && !((sa.state == stateMMSentSA || sa.state == stateAMSent) && sa.ckyR == 0) {
		// Without our cookie, message 1 again: the initiator did not take
		// our message 2 (lost, or, as strongSwan re-authenticating on
		// 4500, dropped for coming before its new SA was registered).
		// It is answered as before.
		if h.ResponderCookie == 0 && !sa.initiator {
			sa.duplicate(msg.Received)
		}
		return
	}
	sa.handle(msg, from, to)
}

// Close deletes every SA (the peers are told) and stops answering.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for _, sa := range e.sas {
		sa.closing = true
		sa.deleteAndClose()
	}
}

// SAs describes the ISAKMP SAs, for show commands.
func (e *Engine) SAs() []ike.SAInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]ike.SAInfo, 0, len(e.sas))
	for _, sa := range e.sas {
		out = append(out, sa.info())
	}
	return out
}

// Failures returns the last SAs that ended, oldest first, with reasons.
func (e *Engine) Failures() []ike.SAInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failures.List()
}

// Clear deletes the ISAKMP SAs that match, with their IPsec SAs; a tunnel
// kept up is negotiated again.
func (e *Engine) Clear(match func(ike.SAInfo) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, sa := range e.sas {
		if sa.state == stateDead || !match(sa.info()) {
			continue
		}
		sa.failure = ike.Failf(ike.CauseLocal, "cleared by the operator")
		sa.deleteAndClose()
		n++
	}
	return n
}

// ChildBytesReached: lifetime-kilobytes for IKEv1 SAs; a soft limit
// rekeys with a new Quick Mode, a hard one removes the SA.
func (e *Engine) ChildBytesReached(c *ike.ChildSA, hard bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sa := range e.sas {
		if !sa.hasChild(c) {
			continue
		}
		if hard {
			sa.removeChild(c, true)
		} else if sa.state == stateEstablished && !sa.peer.NoRekey {
			// responder-only-no-rekey leaves the rekey to the peer.
			sa.startQuickMode(c)
		}
		return
	}
}

func (e *Engine) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.rand, b); err != nil {
		return nil, fmt.Errorf("ikev1: random: %w", err)
	}
	return b, nil
}

func (e *Engine) newCookie() (uint64, error) {
	b, err := e.random(8)
	if err != nil {
		return 0, err
	}
	if c := binary.BigEndian.Uint64(b); c != 0 {
		return c, nil
	}
	return e.newCookie()
}

func (e *Engine) newMessageID() (uint32, error) {
	b, err := e.random(4)
	if err != nil {
		return 0, err
	}
	if id := binary.BigEndian.Uint32(b); id != 0 {
		return id, nil
	}
	return e.newMessageID()
}

func (e *Engine) emit(kind ike.EventKind, p *peer, remote netip.Addr, spi string, f ike.Failure) {
	if e.events == nil {
		return
	}
	e.events(ike.Event{Kind: kind, Time: e.clock.Now(), Gateway: p.Gateway, VPN: p.VPN, Remote: remote, SPI: spi, Failure: f})
}

// noProposal records a phase 1 responder's refusal: no SA exists yet, so
// the failure goes straight to the log and the events.
func (e *Engine) noProposal(p *peer, remote netip.Addr, err error) {
	f := ike.Failure{Cause: ike.CauseNoProposal, Message: err.Error()}.Sent(uint16(v1.NO_PROPOSAL_CHOSEN))
	e.failures.Add(ike.SAInfo{Gateway: p.Gateway, Remote: remote, State: "DOWN", Failure: f, Ended: e.clock.Now()})
	e.emit(ike.NegotiationFailed, p, remote, "", f)
}

// notifyCause sorts an error notification the peer sent.
func notifyCause(t v1.NotifyType) ike.Cause {
	switch t {
	case v1.NO_PROPOSAL_CHOSEN:
		return ike.CauseNoProposal
	case v1.AUTHENTICATION_FAILED:
		return ike.CauseAuthentication
	}
	return ike.CausePeerDeleted
}

// nonceSize is the nonce we send (RFC 2409 §5: 8 to 256 bytes).
const nonceSize = 32

// Drops reports the messages the engine dropped, by why.
func (e *Engine) Drops() map[string]uint64 { return e.drops.Snapshot() }
