package ikev2

import (
	"errors"
	"fmt"
	"sync/atomic"

	"ipsecgw/clock"
	"ipsecgw/ike/fragment"
	"ipsecgw/ike/wire"
)

// IKEv2 fragmentation (RFC 7383). Both sides say IKEV2_FRAGMENTATION_SUPPORTED
// in IKE_SA_INIT; from then on a protected message too big for one datagram
// of the gateway's fragmentation size goes as Encrypted Fragment (SKF)
// payloads, each in its own message, each encrypted and integrity-protected
// on its own. The hooks elsewhere are few:
//
//	init.go        offerFragmentation, acceptFragmentation, answerFragmentation
//	sa.go          request and respond keep the fragments of what they send
//	               (fragmentsOf); resend and respond transmit them all; info
//	               reports; a request never answered says why (unansweredHint);
//	               close lets go of the fragments (dropFragments)
//	exchange.go    open instead of in.open: an SKF goes to the reassembly and
//	               errPartial says the message is not whole yet;
//	               resendResponse answers a retransmitted request
//	createchild.go an IKE SA made by a rekey keeps fragmentation on
//	engine.go      the counters (FragmentStats), added to Drops
//
// Fragmenting where request and respond are, not where each exchange seals
// its message, means every exchange is fragmented alike, those added later
// too (IKE_INTERMEDIATE's large key exchanges). The message was sealed as
// one SK payload by then, so the fragmenter opens it again with our own
// key to get the inner payload chain back: one more decryption, for the
// rare message that does not fit.

// errPartial is what open returns for a fragment taken into reassembly, or
// dropped and counted: there is no message to process yet.
var errPartial = errors.New("ikev2: fragment of a message not yet whole")

// fragState is an IKE SA's fragmentation state; the Engine's mutex guards
// it.
type fragState struct {
	// on: both sides sent IKEV2_FRAGMENTATION_SUPPORTED (an IKE SA made by
	// a rekey inherits it).
	on bool
	// request and response are the outstanding request and the cached
	// response as fragments, nil when they went whole: a retransmission
	// sends every fragment again (§2.6.1).
	request, response [][]byte
	// reasm holds what the peer sent in fragments; made at the first one.
	reasm *fragment.Reassembler
	timer clock.Timer // expires a half-received message
	// in and out count the fragments received (authenticated) and sent.
	in, out uint64
}

// fragCounters count the engine's fragmentation, for metrics and show
// commands (FragmentStats); the drops are also in Drops.
type fragCounters struct {
	messagesSent, fragmentsSent, wholeTooBig atomic.Uint64
	received, reassembled, badICV            atomic.Uint64
	unexpected, invalid, duplicate, stale    atomic.Uint64
	tooMany, tooLarge, expired, evicted      atomic.Uint64
	superseded, restarted                    atomic.Uint64
}

// FragmentStats is what an engine counted of IKEv2 fragmentation since it
// started.
type FragmentStats struct {
	// MessagesSent were sent as fragments, FragmentsSent fragments (with
	// retransmissions). WholeTooBig messages did not fit one datagram
	// but went whole (IP-fragmented): the peer had not negotiated
	// fragmentation.
	MessagesSent  uint64 `json:"messages-sent"`
	FragmentsSent uint64 `json:"fragments-sent"`
	WholeTooBig   uint64 `json:"whole-too-big"`
	// Received fragments authenticated; Reassembled messages were made
	// whole from them; BadICV fragments failed the integrity check.
	Received    uint64 `json:"received"`
	Reassembled uint64 `json:"reassembled"`
	BadICV      uint64 `json:"bad-icv"`
	// Fragments dropped: Unexpected on an IKE SA that did not negotiate
	// fragmentation or in IKE_SA_INIT; Invalid numbering or padding;
	// Duplicate; Stale (fewer Total Fragments than those held); TooMany
	// (above the limit).
	Unexpected uint64 `json:"unexpected"`
	Invalid    uint64 `json:"invalid"`
	Duplicate  uint64 `json:"duplicate"`
	Stale      uint64 `json:"stale"`
	TooMany    uint64 `json:"too-many"`
	// Messages dropped half-received: TooLarge (past the size limit),
	// Expired (not whole in time), Evicted (no room), Superseded (a newer
	// Message ID came), Restarted (the peer cut it again).
	TooLarge   uint64 `json:"too-large"`
	Expired    uint64 `json:"expired"`
	Evicted    uint64 `json:"evicted"`
	Superseded uint64 `json:"superseded"`
	Restarted  uint64 `json:"restarted"`
}

// FragmentStats reads the engine's fragmentation counters.
func (e *Engine) FragmentStats() FragmentStats {
	c := &e.frags
	return FragmentStats{
		MessagesSent: c.messagesSent.Load(), FragmentsSent: c.fragmentsSent.Load(), WholeTooBig: c.wholeTooBig.Load(),
		Received: c.received.Load(), Reassembled: c.reassembled.Load(), BadICV: c.badICV.Load(),
		Unexpected: c.unexpected.Load(), Invalid: c.invalid.Load(), Duplicate: c.duplicate.Load(), Stale: c.stale.Load(),
		TooMany: c.tooMany.Load(), TooLarge: c.tooLarge.Load(), Expired: c.expired.Load(), Evicted: c.evicted.Load(),
		Superseded: c.superseded.Load(), Restarted: c.restarted.Load(),
	}
}

// withFragmentDrops adds the fragments and half-received messages dropped
// to the engine's drops, by reason (Engine.Drops).
func (e *Engine) withFragmentDrops(d map[string]uint64) map[string]uint64 {
	s := e.FragmentStats()
	for reason, n := range map[string]uint64{
		"fragment-unexpected": s.Unexpected, "fragment-invalid": s.Invalid, "fragment-duplicate": s.Duplicate,
		"fragment-stale": s.Stale, "fragment-too-many": s.TooMany, "fragment-unauthenticated": s.BadICV,
		"reassembly-too-large": s.TooLarge, "reassembly-timeout": s.Expired, "reassembly-evicted": s.Evicted,
		"reassembly-superseded": s.Superseded, "reassembly-restarted": s.Restarted,
	} {
		d[reason] = n
	}
	return d
}

// count adds what a reassembler counted between two readings.
func (c *fragCounters) count(before, after fragment.Stats) {
	c.reassembled.Add(after.Completed - before.Completed)
	c.invalid.Add(after.Invalid - before.Invalid)
	c.duplicate.Add(after.Duplicates - before.Duplicates)
	c.stale.Add(after.Stale - before.Stale)
	c.tooMany.Add(after.TooMany - before.TooMany)
	c.tooLarge.Add(after.TooLarge - before.TooLarge)
	c.expired.Add(after.Expired - before.Expired)
	c.evicted.Add(after.Evicted - before.Evicted)
	c.superseded.Add(after.Superseded - before.Superseded)
	c.restarted.Add(after.Restarted - before.Restarted)
}

// Negotiation (§2.3).

// offerFragmentation is the notification an IKE_SA_INIT request carries
// unless the gateway has fragmentation disable.
func (sa *ikeSA) offerFragmentation() []wire.Payload {
	if sa.peer.NoFragmentation {
		return nil
	}
	return []wire.Payload{&wire.Notify{Type: wire.IKEV2_FRAGMENTATION_SUPPORTED}}
}

// acceptFragmentation reads the peer's IKE_SA_INIT message: fragmentation
// is on when the peer supports it and we allow it. A responder answers
// with answerFragmentation.
func (sa *ikeSA) acceptFragmentation(ps []wire.Payload) {
	_, supported := wire.FindNotify(ps, wire.IKEV2_FRAGMENTATION_SUPPORTED)
	sa.frag.on = supported && !sa.peer.NoFragmentation
}

// answerFragmentation is the notification of a responder's IKE_SA_INIT
// response when fragmentation is on.
func (sa *ikeSA) answerFragmentation() []wire.Payload {
	if !sa.frag.on {
		return nil
	}
	return []wire.Payload{&wire.Notify{Type: wire.IKEV2_FRAGMENTATION_SUPPORTED}}
}

// Sending (§2.5).

// fragmentPath is what surrounds our messages on the way to the peer.
func (sa *ikeSA) fragmentPath() wire.FragmentPath {
	return wire.FragmentPath{IPv6: sa.remote.Addr().Unmap().Is6(), NonESPMarker: sa.local.Port() == 4500,
		Datagram: sa.peer.FragmentSize}
}

// fragmentSize is the datagram size fragments are cut for.
func (sa *ikeSA) fragmentSize() int {
	if p := sa.fragmentPath(); p.Datagram > 0 {
		return p.Datagram
	} else if p.IPv6 {
		return wire.FragmentDatagramIPv6
	}
	return wire.FragmentDatagramIPv4
}

// fragmentsOf returns the message b, sealed whole, as sealed fragments
// when it does not fit one datagram and fragmentation is on; nil when it
// goes whole. IKE_SA_INIT, in the clear, is never fragmented.
func (sa *ikeSA) fragmentsOf(b []byte) [][]byte {
	path := sa.fragmentPath()
	if path.Fits(len(b)) || sa.out == nil {
		return nil
	}
	if h, err := wire.ParseHeader(b); err != nil || h.Exchange == wire.IKE_SA_INIT {
		return nil
	}
	if !sa.frag.on {
		sa.e.frags.wholeTooBig.Add(1)
		sa.e.log.Info("IKE message larger than the fragmentation size sent whole: the peer did not negotiate IKE fragmentation (RFC 7383)",
			"gateway", sa.peer.Gateway, "peer", sa.remote, "bytes", len(b), "size", sa.fragmentSize())
		return nil
	}
	frags, err := sa.cut(b, path)
	if err != nil {
		sa.e.log.Warn("IKE message sent whole: cannot fragment it", "gateway", sa.peer.Gateway, "peer", sa.remote, "err", err)
		return nil
	}
	sa.e.frags.messagesSent.Add(1)
	sa.e.log.Debug("IKE message fragmented", "peer", sa.remote, "bytes", len(b), "fragments", len(frags), "size", sa.fragmentSize())
	return frags
}

// cut opens our own sealed message b again and seals its inner payload
// chain as fragments for path.
func (sa *ikeSA) cut(b []byte, path wire.FragmentPath) ([][]byte, error) {
	msg, err := wire.Parse(append([]byte(nil), b...))
	if err != nil {
		return nil, err
	}
	sk, ok := wire.Find[*wire.Encrypted](msg.Payloads)
	if !ok || len(msg.Payloads) != 1 {
		return nil, fmt.Errorf("%d payloads in the clear beside the SK payload", len(msg.Payloads)-1)
	}
	sizes := sa.out.sizes()
	r, err := msg.Regions(sizes)
	if err != nil {
		return nil, err
	}
	plain, err := sa.out.openRegions(r)
	if err != nil {
		return nil, err
	}
	chain, err := wire.TrimPadding(plain)
	if err != nil {
		return nil, err
	}
	size, err := wire.FragmentContentSize(path, sizes)
	if err != nil {
		return nil, err
	}
	layout := &wire.Message{Header: msg.Header}
	ss, err := layout.AppendChainFragments(sk.First, chain, size, sizes)
	if err != nil {
		return nil, err
	}
	frags := make([][]byte, len(ss))
	for i, s := range ss {
		if err := sa.out.sealRegions(s.Regions); err != nil {
			return nil, err
		}
		frags[i] = s.Message
	}
	return frags, nil
}

// transmit sends a message: its fragments when it has them, else whole.
func (sa *ikeSA) transmit(whole []byte, frags [][]byte) {
	if frags == nil {
		if err := sa.e.transport.Send(whole, sa.local, sa.remote); err != nil {
			sa.e.log.Debug("IKE send", "peer", sa.remote, "err", err)
		}
		return
	}
	for _, f := range frags {
		if err := sa.e.transport.Send(f, sa.local, sa.remote); err != nil {
			sa.e.log.Debug("IKE send", "peer", sa.remote, "err", err)
		}
	}
	sa.frag.out += uint64(len(frags))
	sa.e.frags.fragmentsSent.Add(uint64(len(frags)))
}

// resendResponse answers a retransmitted request with the cached
// response. A request that came in fragments is answered once, at its
// first fragment, not once per fragment (§2.6.1).
func (sa *ikeSA) resendResponse(msg *wire.Message) {
	if f, ok := skf(msg); ok && f.Number != 1 {
		return
	}
	sa.transmit(sa.lastResp, sa.frag.response)
}

// unansweredHint tells why a request may have gone unanswered: it was too
// big for one datagram and went whole.
func (sa *ikeSA) unansweredHint() string {
	if sa.pending == nil || sa.frag.request != nil || sa.fragmentPath().Fits(len(sa.pending)) {
		return ""
	}
	return fmt.Sprintf(" (the request was %d bytes, over the %d-byte fragmentation size, and went whole in IP fragments: the peer did not negotiate IKE fragmentation)",
		len(sa.pending), sa.fragmentSize())
}

// Receiving (§2.6).

// skf returns the message's Encrypted Fragment payload.
func skf(msg *wire.Message) (*wire.EncryptedFragment, bool) {
	if n := len(msg.Payloads); n > 0 {
		f, ok := msg.Payloads[n-1].(*wire.EncryptedFragment)
		return f, ok
	}
	return nil, false
}

// open checks and decrypts a protected message from the peer and returns
// its inner payloads. An SK payload is opened at once. An SKF fragment is
// checked and decrypted on its own and goes to the reassembly; until the
// message is whole open returns errPartial, having counted what it
// dropped. A fragment that fails its integrity check is errIntegrity,
// like an SK payload that does.
func (sa *ikeSA) open(msg *wire.Message) ([]wire.Payload, error) {
	f, ok := skf(msg)
	if !ok {
		return sa.in.open(msg)
	}
	c := &sa.e.frags
	if !sa.frag.on || msg.Header.Exchange == wire.IKE_SA_INIT {
		c.unexpected.Add(1)
		sa.e.log.Debug("IKE fragment without fragmentation negotiated; dropped", "peer", sa.remote)
		return nil, errPartial
	}
	r, err := msg.Regions(sa.in.sizes())
	if err != nil {
		c.invalid.Add(1)
		sa.e.log.Debug("malformed IKE fragment dropped", "peer", sa.remote, "err", err)
		return nil, errPartial
	}
	plain, err := sa.in.openRegions(r)
	if err != nil {
		c.badICV.Add(1)
		return nil, err
	}
	piece, err := wire.TrimPadding(plain)
	if err != nil {
		c.invalid.Add(1)
		sa.e.log.Debug("IKE fragment with bad padding dropped", "peer", sa.remote, "err", err)
		return nil, errPartial
	}
	c.received.Add(1)
	sa.frag.in++
	if sa.frag.reasm == nil {
		sa.frag.reasm = fragment.New(sa.e.clock, fragment.DefaultLimits)
	}
	before := sa.frag.reasm.Stats()
	m, err := sa.frag.reasm.Add(fragment.Fragment{MessageID: msg.Header.MessageID, Response: msg.Header.IsResponse(),
		Number: f.Number, Total: f.Total, First: f.First, Piece: piece})
	c.count(before, sa.frag.reasm.Stats())
	if err != nil {
		sa.e.log.Debug("IKE fragment dropped", "peer", sa.remote, "err", err)
	}
	if m == nil {
		sa.expireFragmentsLater()
		return nil, errPartial
	}
	sa.e.log.Debug("IKE message reassembled", "peer", sa.remote, "message-id", m.MessageID, "fragments", f.Total, "bytes", len(m.Chain))
	return wire.ParsePayloads(m.First, m.Chain)
}

// dropFragments lets go of what the closing SA holds of fragmentation: a
// half-received message never will be whole (counted as expired), and the
// fragments kept for retransmission.
func (sa *ikeSA) dropFragments() {
	if sa.frag.timer != nil {
		sa.frag.timer.Stop()
		sa.frag.timer = nil
	}
	if sa.frag.reasm != nil {
		sa.e.frags.expired.Add(uint64(sa.frag.reasm.Pending()))
		sa.frag.reasm = nil
	}
	sa.frag.request, sa.frag.response = nil, nil
}

// expireFragmentsLater arms a timer that drops a half-received message
// once the reassembly timeout passes, so that it does not wait for a next
// fragment that may never come to be let go.
func (sa *ikeSA) expireFragmentsLater() {
	if sa.frag.timer != nil || sa.frag.reasm.Pending() == 0 {
		return
	}
	sa.frag.timer = sa.e.clock.AfterFunc(fragment.DefaultLimits.Timeout, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		sa.frag.timer = nil
		if sa.frag.reasm == nil {
			return // the SA closed (dropFragments)
		}
		before := sa.frag.reasm.Stats()
		sa.frag.reasm.Expire()
		sa.e.frags.count(before, sa.frag.reasm.Stats())
		sa.expireFragmentsLater()
	})
}
