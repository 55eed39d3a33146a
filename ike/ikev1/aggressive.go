package ikev1

import (
	"bytes"
	"net/netip"

	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
)

// Aggressive Mode with pre-shared keys (RFC 2409 §5.4), both roles: three
// messages instead of six, identities in the clear.
//
//	HDR, SA, KE, Ni, IDii, VID...              -->
//	                 <--  HDR, SA, KE, Nr, IDir, HASH_R, NAT-D, NAT-D, VID...
//	HDR*, HASH_I, NAT-D, NAT-D                 -->   (on UDP 4500 after a NAT)
//
// The key exchange goes in the first message, so the initiator offers one
// group: its first proposal's. The third message is encrypted, as the
// implementations we meet send it; a plain one is taken too.

// initiateAggressive starts Aggressive Mode to p (message 1).
func (e *Engine) initiateAggressive(p *peer) error {
	cky, err := e.newCookie()
	if err != nil {
		return err
	}
	sa := &isakmpSA{e: e, peer: p, initiator: true, aggressive: true, ckyI: cky, local: netip.AddrPortFrom(p.Local, 500),
		remote: netip.AddrPortFrom(p.Current(), 500), state: stateAMSent, qms: map[uint32]*quickMode{}, infoIVs: map[uint32][]byte{}, started: e.clock.Now()}
	group := p.phase1[0].Group
	var offer []Phase1Proposal
	for _, pp := range p.phase1 {
		if pp.Group == group {
			offer = append(offer, pp)
		}
	}
	if sa.kex, err = group.NewKeyExchange(e.rand); err != nil {
		return err
	}
	if sa.ni, err = e.random(nonceSize); err != nil {
		return err
	}
	sa.gxi = sa.kex.PublicKey()
	id := sa.localID()
	sa.idiB = id.AppendBody(nil)
	ps := append([]v1.Payload{phase1Offer(offer), &v1.KE{Data: sa.gxi}, &v1.Nonce{Data: sa.ni}, &id}, vendorIDs(p)...)
	b, c, err := sa.plain(sa.header(v1.AggressiveMode, 0, false), ps)
	if err != nil {
		return err
	}
	sa.saiB = append([]byte(nil), c.RawBody(0)...)
	e.sas[sa.key()] = sa
	e.log.Info("IKEv1 Aggressive Mode started", "gateway", p.Gateway, "peer", p.Remote)
	sa.send(b, true)
	return nil
}

// respondAggressive answers message 1 (message 2). Only a peer whose
// policy says mode aggressive is answered: Junos does not fall back.
func (e *Engine) respondAggressive(msg *v1.Message, from, to netip.AddrPort) {
	p := e.peers[from.Addr()]
	if p == nil || !p.Aggressive {
		e.log.Info("IKEv1 Aggressive Mode from a peer not configured for it; dropped", "from", from)
		return
	}
	offered, i := v1.Find[*v1.SA](msg.Payloads)
	ke, _ := v1.Find[*v1.KE](msg.Payloads)
	ni, _ := v1.Find[*v1.Nonce](msg.Payloads)
	id, _ := v1.Find[*v1.Identification](msg.Payloads)
	if offered == nil || ke == nil || ni == nil || id == nil {
		return
	}
	chosen, pp, err := selectPhase1(offered, p.phase1)
	if err == nil {
		err = aggressiveAuth(pp) // sigauth.go
	}
	if err != nil {
		e.log.Warn("IKEv1 Aggressive Mode: no proposal chosen", "gateway", p.Gateway, "peer", from.Addr(), "err", err)
		e.noProposal(p, from.Addr(), err)
		e.notifyPlain(msg.Header.InitiatorCookie, v1.NO_PROPOSAL_CHOSEN, from, to)
		return
	}
	ckyR, err := e.newCookie()
	if err != nil {
		return
	}
	local := to
	if !local.Addr().IsValid() {
		local = netip.AddrPortFrom(p.Local, 500)
	}
	sa := &isakmpSA{e: e, peer: p, aggressive: true, ckyI: msg.Header.InitiatorCookie, ckyR: ckyR, local: local, remote: from,
		state: stateAMReplied, chosen: pp, saiB: append([]byte(nil), msg.RawBody(i)...),
		gxi: append([]byte(nil), ke.Data...), ni: append([]byte(nil), ni.Data...), idiB: id.AppendBody(nil),
		qms: map[uint32]*quickMode{}, infoIVs: map[uint32][]byte{}, started: e.clock.Now()}
	sa.noteVendorIDs(msg.Payloads)
	if !sa.remoteIDOK(*id) {
		sa.failure = ike.Failf(ike.CauseAuthentication, "peer identity %s is not the configured remote-identity", id).Sent(uint16(v1.INVALID_ID_INFORMATION))
		e.log.Warn("IKEv1 Aggressive Mode refused", "gateway", p.Gateway, "reason", sa.failure.Message)
		e.notifyPlain(msg.Header.InitiatorCookie, v1.INVALID_ID_INFORMATION, from, to)
		return
	}
	if sa.kex, err = pp.Group.NewKeyExchange(e.rand); err != nil {
		return
	}
	if sa.nr, err = e.random(nonceSize); err != nil {
		return
	}
	sa.gxr = sa.kex.PublicKey()
	if err := sa.deriveKeys(); err != nil {
		e.log.Info("IKEv1 Aggressive Mode", "peer", from, "err", err)
		return
	}
	mine := sa.localID()
	hashR := sa.prf(sa.keys.SKEYID, sa.gxr, sa.gxi, cookies(sa.ckyR, sa.ckyI), sa.saiB, mine.AppendBody(nil))
	ps := []v1.Payload{&v1.SA{DOI: v1.DOIIPsec, Situation: v1.SIT_IDENTITY_ONLY, Proposals: []v1.Proposal{chosen}},
		&v1.KE{Data: sa.gxr}, &v1.Nonce{Data: sa.nr}, &mine, &v1.Hash{Data: hashR}}
	ps = append(append(ps, sa.natDPayloads()...), vendorIDs(p)...)
	b, _, err := sa.plain(sa.header(v1.AggressiveMode, 0, false), ps)
	if err != nil {
		return
	}
	e.sas[sa.key()] = sa
	sa.remember(msg.Received, b)
	sa.send(b, false)
}

// aggressive2: the initiator checks the responder's answer and HASH_R,
// sends HASH_I (message 3), and phase 1 is done.
func (sa *isakmpSA) aggressive2(msg *v1.Message) {
	ps := msg.Payloads
	chosen, _ := v1.Find[*v1.SA](ps)
	ke, _ := v1.Find[*v1.KE](ps)
	nr, _ := v1.Find[*v1.Nonce](ps)
	id, _ := v1.Find[*v1.Identification](ps)
	hash, _ := v1.Find[*v1.Hash](ps)
	if chosen == nil || ke == nil || nr == nil || id == nil || hash == nil ||
		len(chosen.Proposals) != 1 || len(chosen.Proposals[0].Transforms) != 1 {
		sa.fail(ike.Failf(ike.CauseOther, "Aggressive Mode message 2 lacks SA, KE, nonce, ID or HASH"))
		return
	}
	pp, err := phase1Of(chosen.Proposals[0].Transforms[0])
	if err != nil || pp.Group != sa.peer.phase1[0].Group {
		sa.fail(ike.Failf(ike.CauseOther, "responder chose an unusable transform: %v", err))
		return
	}
	ok := false
	for _, mine := range sa.peer.phase1 {
		if mine.Encryption == pp.Encryption && mine.Hash == pp.Hash && mine.Group == pp.Group {
			ok, pp.Lifetime = true, shorter(pp.Lifetime, mine.Lifetime)
		}
	}
	if !ok {
		sa.fail(ike.Failf(ike.CauseOther, "responder chose %s, which we did not offer", phase1Name(pp)))
		return
	}
	sa.answered()
	sa.ckyR, sa.chosen = msg.Header.ResponderCookie, pp
	sa.noteVendorIDs(ps)
	sa.gxr, sa.nr = append([]byte(nil), ke.Data...), append([]byte(nil), nr.Data...)
	if err := sa.deriveKeys(); err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	want := sa.prf(sa.keys.SKEYID, sa.gxr, sa.gxi, cookies(sa.ckyR, sa.ckyI), sa.saiB, id.AppendBody(nil))
	if !bytes.Equal(want, hash.Data) {
		sa.e.notifyPlainSA(sa, v1.AUTHENTICATION_FAILED)
		sa.fail(ike.Failf(ike.CauseAuthentication, "authentication of the peer failed: wrong pre-shared key (HASH_R does not verify)"))
		return
	}
	if !sa.remoteIDOK(*id) {
		sa.fail(ike.Failf(ike.CauseAuthentication, "peer identity %s is not the configured remote-identity", id))
		return
	}
	sa.checkNAT(ps)
	if sa.natT {
		sa.local = netip.AddrPortFrom(sa.local.Addr(), 4500)
		sa.remote = netip.AddrPortFrom(sa.remote.Addr(), 4500)
	}
	hashI := sa.prf(sa.keys.SKEYID, sa.gxi, sa.gxr, cookies(sa.ckyI, sa.ckyR), sa.saiB, sa.idiB)
	out := append([]v1.Payload{&v1.Hash{Data: hashI}}, sa.natDPayloads()...)
	c, err := v1.BuildChain(out)
	if err != nil {
		return
	}
	b, next, err := sa.sealChain(sa.header(v1.AggressiveMode, 0, true), c, sa.iv)
	if err != nil {
		return
	}
	sa.iv = next
	sa.remember(msg.Received, b)
	sa.send(b, false)
	sa.establish()
	sa.startQuickModes() // vpns.go
}

// aggressive3: the responder checks HASH_I; phase 1 is done.
func (sa *isakmpSA) aggressive3(msg *v1.Message, from, to netip.AddrPort) {
	ps := msg.Payloads
	if msg.Header.Encrypted() {
		c, next, err := sa.openMessage(msg, sa.iv)
		if err != nil {
			sa.e.notifyPlainSA(sa, v1.AUTHENTICATION_FAILED)
			sa.fail(ike.Failf(ike.CauseAuthentication, "authentication of the peer failed: Aggressive Mode message 3 does not decrypt (wrong pre-shared key)"))
			return
		}
		ps, sa.iv = c.Payloads, next
	}
	hash, _ := v1.Find[*v1.Hash](ps)
	if hash == nil {
		return
	}
	want := sa.prf(sa.keys.SKEYID, sa.gxi, sa.gxr, cookies(sa.ckyI, sa.ckyR), sa.saiB, sa.idiB)
	if !bytes.Equal(want, hash.Data) {
		sa.fail(ike.Failf(ike.CauseAuthentication, "authentication of the peer failed: wrong pre-shared key (HASH_I does not verify)"))
		return
	}
	sa.checkNAT(ps)
	sa.remote = from
	if to.IsValid() && to.Addr().IsValid() {
		sa.local = to
	}
	sa.establish()
}
