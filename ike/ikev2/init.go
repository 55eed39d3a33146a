package ikev2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// IKE_SA_INIT (§1.2): SA, KE and nonces, in the clear.
//
//	Initiator                         Responder
//	HDR, SAi1, KEi, Ni           -->
//	                             <--  HDR, SAr1, KEr, Nr

const nonceSize = 32

func (e *Engine) initiate(p *peer) error { return e.initiateVPN(p, nil) }

// initiateVPN starts an IKE SA whose IKE_AUTH makes v's Child SA (nil: the
// gateway's first VPN kept up, vpns.go).
func (e *Engine) initiateVPN(p *peer, v *vpn) error {
	spi, err := e.newSPI()
	if err != nil {
		return err
	}
	group, err := firstGroup(p.ikeOffer)
	if err != nil {
		return err
	}
	sa := &ikeSA{e: e, peer: p, initiator: true, spiI: spi, hs: &handshake{vpn: v},
		local: netip.AddrPortFrom(p.Local, 500), remote: netip.AddrPortFrom(p.Current(), 500)}
	e.sas[spi] = sa
	e.track(sa)
	return sa.sendInit(group)
}

// sendInit sends (or, after a COOKIE or INVALID_KE_PAYLOAD answer, sends
// again) the IKE_SA_INIT request. A retry keeps the nonce, and the key
// exchange unless the group changed: the cookie covers Ni (§2.6).
func (sa *ikeSA) sendInit(group *transform.Transform) error {
	if sa.hs.kex == nil || sa.group != group {
		kex, err := group.NewKeyExchange(sa.e.rand)
		if err != nil {
			return err
		}
		sa.hs.kex, sa.group = kex, group
	}
	if sa.hs.ni == nil {
		ni, err := sa.e.random(nonceSize)
		if err != nil {
			return err
		}
		sa.hs.ni = ni
	}
	kex, ni := sa.hs.kex, sa.hs.ni
	sa.state = stateInitSent
	var ps []wire.Payload
	if sa.hs.cookie != nil {
		ps = append(ps, &wire.Notify{Type: wire.COOKIE, Data: sa.hs.cookie})
	}
	ps = append(ps, &wire.SA{Proposals: sa.peer.ikeOffer}, &wire.KE{Group: group.ID, Data: kex.PublicKey()}, &wire.Nonce{Data: ni})
	ps = sa.ppkUseNotify(ps)       // ppk.go
	ps = sa.intermediateNotify(ps) // intermediate.go
	if sa.peer.NATTraversal {
		src, dst := NATDetectionNotifies(sa.spiI, 0, sa.local, sa.remote, sa.peer.ForceNAT)
		ps = append(ps, src, dst)
	}
	ps = append(ps, sa.initCertPayloads()...)
	ps = append(ps, sa.offerFragmentation()...)
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, Exchange: wire.IKE_SA_INIT, Flags: wire.FlagInitiator}, Payloads: ps}
	b, err := msg.Marshal()
	if err != nil {
		return err
	}
	sa.hs.initReq = b
	sa.request(b, 0)
	return nil
}

func (sa *ikeSA) handleInitResponse(msg *wire.Message, from, to netip.AddrPort) {
	ps := msg.Payloads
	if n, ok := wire.FindNotify(ps, wire.INVALID_KE_PAYLOAD); ok && len(n.Data) == 2 {
		// §1.2: retry with the group the responder asked for, if offered.
		id := transform.ID(binary.BigEndian.Uint16(n.Data))
		g, ok := transform.Lookup(transform.TypeKE, id, 0)
		if !ok || !offersGroup(sa.peer.ikeOffer, id) || id == sa.group.ID {
			sa.fail(ike.Failf(ike.CauseOther, "peer asked for key exchange group %d, which we do not offer", id))
			return
		}
		sa.e.log.Info("peer asked for another key exchange group", "gateway", sa.peer.Gateway, "group", g.Display)
		if err := sa.sendInit(g); err != nil {
			sa.fail(failureOf(err))
		}
		return
	}
	if n, ok := wire.FindNotify(ps, wire.COOKIE); ok {
		sa.hs.cookie = append([]byte(nil), n.Data...)
		if err := sa.sendInit(sa.group); err != nil {
			sa.fail(failureOf(err))
		}
		return
	}
	if t, ok := errorNotify(ps); ok {
		sa.fail(ike.Failf(notifyCause(t), "peer refused IKE_SA_INIT: %v", t).Received(uint16(t)))
		return
	}
	chosen, okSA := wire.Find[*wire.SA](ps)
	ke, okKE := wire.Find[*wire.KE](ps)
	nr, okN := wire.Find[*wire.Nonce](ps)
	if !okSA || !okKE || !okN || msg.Header.ResponderSPI == 0 {
		sa.fail(ike.Failf(ike.CauseOther, "IKE_SA_INIT response lacks SA, KE, nonce or responder SPI"))
		return
	}
	suite, group, err := checkIKE(sa.peer.ikeOffer, chosen)
	if err != nil {
		sa.fail(failureOf(err))
		return
	}
	if group.ID != sa.group.ID || ke.Group != sa.group.ID {
		sa.fail(ike.Failf(ike.CauseOther, "responder chose key exchange group %d but we sent group %d", ke.Group, sa.group.ID))
		return
	}
	shared, err := sa.hs.kex.SharedSecret(ke.Data)
	if err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "peer's key exchange value: %v", err))
		return
	}
	if sa.peer.NATTraversal {
		nat, err := CheckNATDetection(ps, sa.spiI, msg.Header.ResponderSPI, from, to)
		if err != nil {
			sa.fail(ike.Failf(causeOf(err), "IKE_SA_INIT response: %v", err))
			return
		}
		if nat.Detected() || sa.peer.ForceNAT && nat.Supported {
			// §2.23: from here on IKE runs on port 4500 and ESP is
			// encapsulated in UDP.
			sa.natT = true
			sa.local = netip.AddrPortFrom(sa.local.Addr(), 4500)
			sa.remote = netip.AddrPortFrom(sa.remote.Addr(), 4500)
		}
	}
	sa.spiR, sa.suite, sa.hs.nr = msg.Header.ResponderSPI, suite, append([]byte(nil), nr.Data...)
	sa.takeSignatureHashes(ps)
	sa.acceptFragmentation(ps)
	sa.hs.initResp = append([]byte(nil), msg.Raw...)
	if err := sa.deriveKeys(shared, sa.hs.ni, sa.hs.nr); err != nil {
		sa.fail(failureOf(err))
		return
	}
	clear(shared)
	if !sa.ppkInitResponse(ps) { // ppk.go
		return
	}
	sa.afterInit(ps, chosen) // intermediate.go: IKE_INTERMEDIATE, then IKE_AUTH
}

// respondInit answers a new IKE_SA_INIT request from a configured peer, in
// three steps: under the engine's lock the checks, the choice of proposal
// and an SPI reserved for the SA; without it the key exchange and key
// derivation (the expensive part, so concurrent requests use every core);
// under the lock again the SA completed and the answer sent.
func (e *Engine) respondInit(msg *wire.Message, from, to netip.AddrPort) {
	e.mu.Lock()
	sa, ke, chosen := e.acceptInit(msg, from, to)
	e.mu.Unlock()
	if sa == nil {
		return
	}
	resp, keys, err := sa.computeInit(msg, ke, chosen)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || sa.state != stateComputing || e.sas[sa.spiR] != sa {
		return // closed, or given up, while we computed
	}
	if err != nil {
		e.log.Info("IKE_SA_INIT", "peer", from.Addr(), "err", err)
		sa.close()
		if errors.Is(err, errBadKE) {
			e.answerInitError(msg, from, to, wire.INVALID_SYNTAX, nil)
		}
		return
	}
	// The responder's key exchange is done: its private value goes.
	sa.keys, sa.out, sa.in, sa.hs.nr, sa.natT = keys.keys, keys.out, keys.in, keys.nr, keys.natT
	sa.hs.initReq, sa.hs.initResp = append([]byte(nil), msg.Raw...), resp
	sa.takeSignatureHashes(msg.Payloads)
	sa.state = stateInitReplied
	sa.expireHalfOpen()
	sa.expireIfGivenUp() // abandoninit.go: an initiation the peer gave up for ours
	sa.respond(resp, 0)
}

// acceptInit is respondInit's first step (under the lock): it answers a
// retransmission from cache, refuses what it must (no peer, a cookie
// needed, no proposal chosen, the wrong key exchange group), and otherwise
// returns the new SA, holding a reserved SPI, with the peer's KE payload
// and the proposal chosen.
func (e *Engine) acceptInit(msg *wire.Message, from, to netip.AddrPort) (*ikeSA, *wire.KE, wire.Proposal) {
	if e.closed {
		return nil, nil, wire.Proposal{}
	}
	// A retransmitted request gets the cached answer; one that comes while
	// the first is still being computed is dropped.
	if sa := e.byInit[initKey{msg.Header.InitiatorSPI, from}]; sa != nil {
		if sa.state == stateInitReplied && sa.hs != nil {
			if err := e.transport.Send(sa.hs.initResp, sa.local, sa.remote); err != nil {
				e.log.Debug("IKE send", "err", err)
			}
		}
		return nil, nil, wire.Proposal{}
	}
	p := e.peerOfInit(from, to) // peers.go
	if p == nil {
		e.log.Info("IKE_SA_INIT from an address no gateway is configured for", "from", from)
		return nil, nil, wire.Proposal{}
	}
	ps := msg.Payloads
	offered, okSA := wire.Find[*wire.SA](ps)
	ke, okKE := wire.Find[*wire.KE](ps)
	ni, okN := wire.Find[*wire.Nonce](ps)
	if !okSA || !okKE || !okN {
		e.answerInitError(msg, from, to, wire.INVALID_SYNTAX, nil)
		return nil, nil, wire.Proposal{}
	}
	if e.needCookie(msg, ni.Data, from, to) {
		return nil, nil, wire.Proposal{}
	}
	chosen, suite, group, err := selectIKE(offered.Proposals, p.ikeOffer)
	if err != nil {
		e.log.Warn("IKE_SA_INIT: no proposal chosen", "gateway", p.Gateway, "peer", from.Addr(), "err", err)
		f := ike.Failure{Cause: ike.CauseNoProposal, Message: err.Error()}.Sent(uint16(wire.NO_PROPOSAL_CHOSEN))
		e.failures.Add(ike.SAInfo{Gateway: p.Gateway, Remote: from.Addr(), State: "DOWN", Failure: f, Ended: e.clock.Now()})
		if e.events != nil {
			e.events(ike.Event{Kind: ike.NegotiationFailed, Time: e.clock.Now(), Gateway: p.Gateway, VPN: p.VPN, Remote: from.Addr(),
				Failure: f})
		}
		e.answerInitError(msg, from, to, wire.NO_PROPOSAL_CHOSEN, nil)
		return nil, nil, wire.Proposal{}
	}
	if ke.Group != group.ID {
		var d [2]byte
		binary.BigEndian.PutUint16(d[:], uint16(group.ID))
		e.answerInitError(msg, from, to, wire.INVALID_KE_PAYLOAD, d[:])
		return nil, nil, wire.Proposal{}
	}
	spi, err := e.newSPI()
	if err != nil {
		return nil, nil, wire.Proposal{}
	}
	sa := &ikeSA{e: e, peer: p, spiI: msg.Header.InitiatorSPI, spiR: spi, local: to, remote: from,
		hs: &handshake{ni: append([]byte(nil), ni.Data...)}, group: group, suite: suite, state: stateComputing}
	if !sa.local.Addr().IsValid() {
		sa.local = netip.AddrPortFrom(p.Local, 500)
	}
	sa.acceptFragmentation(ps)
	e.sas[spi] = sa
	e.track(sa)
	sa.byInitKey = initKey{sa.spiI, from}
	e.byInit[sa.byInitKey] = sa
	e.halfOpen++
	return sa, ke, chosen
}

// errBadKE marks a peer's key exchange value that does not work.
var errBadKE = errors.New("bad key exchange value")

// initKeys are what computeInit makes: the keys, our nonce, and whether
// NAT traversal is on.
type initKeys struct {
	keys    *keymat.IKESAKeys
	out, in *messageCipher
	nr      []byte
	natT    bool
}

// computeInit is respondInit's second step, without the engine's lock: it
// touches only what acceptInit set and nobody else changes (the SA is not
// answerable before it is completed), and returns the response and keys.
func (sa *ikeSA) computeInit(msg *wire.Message, ke *wire.KE, chosen wire.Proposal) ([]byte, initKeys, error) {
	e := sa.e
	kex, err := sa.group.NewKeyExchange(e.rand)
	if err != nil {
		return nil, initKeys{}, err
	}
	shared, err := kex.SharedSecret(ke.Data)
	if err != nil {
		return nil, initKeys{}, fmt.Errorf("%w: %v", errBadKE, err)
	}
	defer clear(shared)
	nr, err := e.random(nonceSize)
	if err != nil {
		return nil, initKeys{}, err
	}
	p := sa.peer
	resp := &wire.Message{
		Header:   wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.IKE_SA_INIT, Flags: wire.FlagResponse},
		Payloads: []wire.Payload{&wire.SA{Proposals: []wire.Proposal{chosen}}, &wire.KE{Group: sa.group.ID, Data: kex.PublicKey()}, &wire.Nonce{Data: nr}},
	}
	resp.Payloads = sa.ppkInitAnswer(msg.Payloads, resp.Payloads) // ppk.go
	// intermediate.go: INTERMEDIATE_EXCHANGE_SUPPORTED and the ADDKEs.
	if resp.Payloads, err = sa.intermediateAnswer(msg.Payloads, resp.Payloads, chosen); err != nil {
		return nil, initKeys{}, err
	}
	natT := false
	if p.NATTraversal {
		nat, err := CheckNATDetection(msg.Payloads, sa.spiI, 0, sa.remote, sa.local)
		if err != nil {
			return nil, initKeys{}, fmt.Errorf("%w: NAT detection: %v", errBadKE, err)
		}
		if nat.Supported {
			src, dst := NATDetectionNotifies(sa.spiI, sa.spiR, sa.local, sa.remote, p.ForceNAT)
			resp.Payloads = append(resp.Payloads, src, dst)
			natT = nat.Detected() || p.ForceNAT
		}
	}
	resp.Payloads = append(resp.Payloads, sa.initCertPayloads()...)
	resp.Payloads = append(resp.Payloads, sa.answerFragmentation()...)
	b, err := resp.Marshal()
	if err != nil {
		return nil, initKeys{}, err
	}
	// The keys are derived on a scratch SA with the same inputs.
	scratch := &ikeSA{e: e, suite: sa.suite, spiI: sa.spiI, spiR: sa.spiR}
	if err := scratch.deriveKeys(shared, sa.hs.ni, nr); err != nil {
		return nil, initKeys{}, err
	}
	return b, initKeys{keys: scratch.keys, out: scratch.out, in: scratch.in, nr: nr, natT: natT}, nil
}

// answerInitError answers an IKE_SA_INIT request with one notification and
// keeps no state (§2.21.1).
func (e *Engine) answerInitError(req *wire.Message, from, to netip.AddrPort, t wire.NotifyType, data []byte) {
	resp := &wire.Message{
		Header:   wire.Header{InitiatorSPI: req.Header.InitiatorSPI, Exchange: wire.IKE_SA_INIT, Flags: wire.FlagResponse},
		Payloads: []wire.Payload{&wire.Notify{Type: t, Data: data}},
	}
	b, err := resp.Marshal()
	if err == nil {
		if err := e.transport.Send(b, to, from); err != nil {
			e.log.Debug("IKE send", "err", err)
		}
	}
}

// errorNotify returns the first error notification among ps.
func errorNotify(ps []wire.Payload) (wire.NotifyType, bool) {
	for _, p := range ps {
		if n, ok := p.(*wire.Notify); ok && n.Type.IsError() {
			return n.Type, true
		}
	}
	return 0, false
}
