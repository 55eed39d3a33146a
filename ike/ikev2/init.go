package ikev2

import (
	"encoding/binary"
	"net/netip"

	"ipsecgw/ike/transform"
	"ipsecgw/ike/wire"
)

// IKE_SA_INIT (§1.2): SA, KE and nonces, in the clear.
//
//	Initiator                         Responder
//	HDR, SAi1, KEi, Ni           -->
//	                             <--  HDR, SAr1, KEr, Nr

const nonceSize = 32

func (e *Engine) initiate(p *Peer) error {
	spi, err := e.newSPI()
	if err != nil {
		return err
	}
	group, err := firstGroup(p.IKEOffer)
	if err != nil {
		return err
	}
	sa := &ikeSA{e: e, peer: p, initiator: true, spiI: spi,
		local: netip.AddrPortFrom(p.Local, 500), remote: netip.AddrPortFrom(p.Remote, 500)}
	e.sas[spi] = sa
	return sa.sendInit(group)
}

// sendInit sends (or, after a COOKIE or INVALID_KE_PAYLOAD answer, sends
// again) the IKE_SA_INIT request. A retry keeps the nonce, and the key
// exchange unless the group changed: the cookie covers Ni (§2.6).
func (sa *ikeSA) sendInit(group *transform.Transform) error {
	if sa.kex == nil || sa.group != group {
		kex, err := group.NewKeyExchange(sa.e.rand)
		if err != nil {
			return err
		}
		sa.kex, sa.group = kex, group
	}
	if sa.ni == nil {
		ni, err := sa.e.random(nonceSize)
		if err != nil {
			return err
		}
		sa.ni = ni
	}
	kex, ni := sa.kex, sa.ni
	sa.state = stateInitSent
	var ps []wire.Payload
	if sa.cookie != nil {
		ps = append(ps, &wire.Notify{Type: wire.COOKIE, Data: sa.cookie})
	}
	ps = append(ps, &wire.SA{Proposals: sa.peer.IKEOffer}, &wire.KE{Group: group.ID, Data: kex.PublicKey()}, &wire.Nonce{Data: ni})
	if sa.peer.NATTraversal {
		src, dst := NATDetectionNotifies(sa.spiI, 0, sa.local, sa.remote, sa.peer.ForceNAT)
		ps = append(ps, src, dst)
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, Exchange: wire.IKE_SA_INIT, Flags: wire.FlagInitiator}, Payloads: ps}
	b, err := msg.Marshal()
	if err != nil {
		return err
	}
	sa.initReq = b
	sa.request(b, 0)
	return nil
}

func (sa *ikeSA) handleInitResponse(msg *wire.Message, from, to netip.AddrPort) {
	ps := msg.Payloads
	if n, ok := wire.FindNotify(ps, wire.INVALID_KE_PAYLOAD); ok && len(n.Data) == 2 {
		// §1.2: retry with the group the responder asked for, if offered.
		id := transform.ID(binary.BigEndian.Uint16(n.Data))
		g, ok := transform.Lookup(transform.TypeKE, id, 0)
		if !ok || !offersGroup(sa.peer.IKEOffer, id) || id == sa.group.ID {
			sa.fail("peer asked for key exchange group %d, which we do not offer", id)
			return
		}
		sa.e.log.Info("peer asked for another key exchange group", "gateway", sa.peer.Gateway, "group", g.Display)
		if err := sa.sendInit(g); err != nil {
			sa.fail("%v", err)
		}
		return
	}
	if n, ok := wire.FindNotify(ps, wire.COOKIE); ok {
		sa.cookie = append([]byte(nil), n.Data...)
		if err := sa.sendInit(sa.group); err != nil {
			sa.fail("%v", err)
		}
		return
	}
	if t, ok := errorNotify(ps); ok {
		sa.fail("peer refused IKE_SA_INIT: %v", t)
		return
	}
	chosen, okSA := wire.Find[*wire.SA](ps)
	ke, okKE := wire.Find[*wire.KE](ps)
	nr, okN := wire.Find[*wire.Nonce](ps)
	if !okSA || !okKE || !okN || msg.Header.ResponderSPI == 0 {
		sa.fail("IKE_SA_INIT response lacks SA, KE, nonce or responder SPI")
		return
	}
	suite, group, err := checkIKE(sa.peer.IKEOffer, chosen)
	if err != nil {
		sa.fail("%v", err)
		return
	}
	if group.ID != sa.group.ID || ke.Group != sa.group.ID {
		sa.fail("responder chose key exchange group %d but we sent group %d", ke.Group, sa.group.ID)
		return
	}
	shared, err := sa.kex.SharedSecret(ke.Data)
	if err != nil {
		sa.fail("peer's key exchange value: %v", err)
		return
	}
	if sa.peer.NATTraversal {
		nat, err := CheckNATDetection(ps, sa.spiI, msg.Header.ResponderSPI, from, to)
		if err != nil {
			sa.fail("IKE_SA_INIT response: %v", err)
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
	sa.spiR, sa.suite, sa.nr = msg.Header.ResponderSPI, suite, append([]byte(nil), nr.Data...)
	sa.initResp = append([]byte(nil), msg.Raw...)
	if err := sa.deriveKeys(shared); err != nil {
		sa.fail("%v", err)
		return
	}
	clear(shared)
	if err := sa.sendAuth(); err != nil {
		sa.fail("%v", err)
	}
}

// respondInit answers a new IKE_SA_INIT request from a configured peer.
func (e *Engine) respondInit(msg *wire.Message, from, to netip.AddrPort) {
	// A retransmitted request gets the cached answer.
	if sa := e.byInit[initKey{msg.Header.InitiatorSPI, from}]; sa != nil && sa.state == stateInitReplied {
		if err := e.transport.Send(sa.initResp, sa.local, sa.remote); err != nil {
			e.log.Debug("IKE send", "err", err)
		}
		return
	}
	p := e.peers[from.Addr()]
	if p == nil {
		e.log.Info("IKE_SA_INIT from an address no gateway is configured for", "from", from)
		return
	}
	ps := msg.Payloads
	offered, okSA := wire.Find[*wire.SA](ps)
	ke, okKE := wire.Find[*wire.KE](ps)
	ni, okN := wire.Find[*wire.Nonce](ps)
	if !okSA || !okKE || !okN {
		e.answerInitError(msg, from, to, wire.INVALID_SYNTAX, nil)
		return
	}
	if e.needCookie(msg, ni.Data, from, to) {
		return
	}
	chosen, suite, group, err := selectIKE(offered.Proposals, p.IKEOffer)
	if err != nil {
		e.log.Warn("IKE_SA_INIT: no proposal chosen", "gateway", p.Gateway, "peer", from.Addr(), "err", err)
		e.failures = append(e.failures, SAInfo{Gateway: p.Gateway, Remote: from.Addr(), State: "DOWN", LastError: err.Error(), Ended: e.clock.Now()})
		if e.events != nil {
			e.events(Event{Kind: NegotiationFailed, Time: e.clock.Now(), Gateway: p.Gateway, VPN: p.VPN, Remote: from.Addr(),
				Reason: err.Error(), Cause: CauseNoProposal})
		}
		e.answerInitError(msg, from, to, wire.NO_PROPOSAL_CHOSEN, nil)
		return
	}
	if ke.Group != group.ID {
		var d [2]byte
		binary.BigEndian.PutUint16(d[:], uint16(group.ID))
		e.answerInitError(msg, from, to, wire.INVALID_KE_PAYLOAD, d[:])
		return
	}
	kex, err := group.NewKeyExchange(e.rand)
	if err != nil {
		e.log.Error("key exchange", "err", err)
		return
	}
	shared, err := kex.SharedSecret(ke.Data)
	if err != nil {
		e.log.Info("IKE_SA_INIT with a bad key exchange value", "peer", from.Addr(), "err", err)
		e.answerInitError(msg, from, to, wire.INVALID_SYNTAX, nil)
		return
	}
	spi, err := e.newSPI()
	if err != nil {
		return
	}
	nr, err := e.random(nonceSize)
	if err != nil {
		return
	}
	sa := &ikeSA{e: e, peer: p, spiI: msg.Header.InitiatorSPI, spiR: spi, local: to, remote: from,
		ni: append([]byte(nil), ni.Data...), nr: nr, kex: kex, group: group, suite: suite, state: stateInitReplied}
	if !sa.local.Addr().IsValid() {
		sa.local = netip.AddrPortFrom(p.Local, 500)
	}
	resp := &wire.Message{
		Header:   wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: spi, Exchange: wire.IKE_SA_INIT, Flags: wire.FlagResponse},
		Payloads: []wire.Payload{&wire.SA{Proposals: []wire.Proposal{chosen}}, &wire.KE{Group: group.ID, Data: kex.PublicKey()}, &wire.Nonce{Data: nr}},
	}
	if p.NATTraversal {
		nat, err := CheckNATDetection(ps, sa.spiI, 0, from, sa.local)
		if err != nil {
			e.answerInitError(msg, from, to, wire.INVALID_SYNTAX, nil)
			return
		}
		if nat.Supported {
			src, dst := NATDetectionNotifies(sa.spiI, spi, sa.local, from, p.ForceNAT)
			resp.Payloads = append(resp.Payloads, src, dst)
			sa.natT = nat.Detected() || p.ForceNAT
		}
	}
	b, err := resp.Marshal()
	if err != nil {
		e.log.Error("IKE_SA_INIT response", "err", err)
		return
	}
	sa.initReq, sa.initResp = append([]byte(nil), msg.Raw...), b
	if err := sa.deriveKeys(shared); err != nil {
		e.log.Error("IKE keys", "err", err)
		return
	}
	clear(shared)
	e.sas[spi] = sa
	sa.byInitKey = initKey{sa.spiI, from}
	e.byInit[sa.byInitKey] = sa
	e.halfOpen++
	sa.expireHalfOpen()
	sa.respond(b, 0)
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
