package ikev1

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
	"ipsecgw/transform"
)

// Quick Mode (RFC 2409 §5.5): one IPsec SA pair per exchange, with PFS
// when the IPsec policy names a group.
//
//	HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ])
//	HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ])
//	HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//
// The initiator installs the pair when message 2 checks out, the responder
// when message 3 does. A rekey (rekeyOf) is make-before-break: the old
// pair is deleted a moment after the new one is in. Ours are rekeys by
// construction; a peer's Quick Mode is one when it is for the traffic of a
// pair we hold (replacedBy), as IKEv1 has no other way to say so.

type quickMode struct {
	msgID     uint32
	initiator bool
	iv        []byte
	inSPI     uint32
	peerSPI   uint32
	offer     *v1.SA
	suite     espSuite
	ni, nr    []byte
	kex       transform.KeyExchange
	gqm       []byte
	idci      *v1.Identification
	idcr      *v1.Identification
	rekeyOf   *ike.ChildSA
	staged    *ike.ChildSA // the pair with only its inbound SA in (install.go)
	lastSent  []byte
	sends     int
	timer     clock.Timer
	lastRecv  []byte
	lastReply []byte

	// vpn is the VPN the exchange is for (vpns.go): its proposals, PFS
	// group, lifetimes and proxy identities.
	vpn *peer
}

// stop ends the exchange's retransmission or give-up timer.
func (qm *quickMode) stop() {
	if qm.timer != nil {
		qm.timer.Stop()
	}
}

// startQuickMode negotiates an IPsec SA pair (rekeyOf: to replace it;
// nil: the first VPN's).
func (sa *isakmpSA) startQuickMode(rekeyOf *ike.ChildSA) {
	sa.startQuickModeFor(sa.peer.vpnOf(rekeyOf), rekeyOf)
}

// startQuickModeFor negotiates an IPsec SA pair of VPN p (vpns.go).
func (sa *isakmpSA) startQuickModeFor(p *peer, rekeyOf *ike.ChildSA) {
	for _, qm := range sa.qms {
		// A finished exchange stays a while (lastReply set) to answer a
		// repeated message 2; it is not under way.
		if qm.initiator && qm.rekeyOf == rekeyOf && qm.vpn == p && qm.lastReply == nil {
			return // already under way
		}
	}
	id, err := sa.e.newMessageID()
	if err != nil {
		return
	}
	inSPI, err := sa.e.installer.AllocateSPI()
	if err != nil {
		return
	}
	qm := &quickMode{msgID: id, initiator: true, inSPI: inSPI, rekeyOf: rekeyOf, iv: sa.cipher.phase2IV(sa.iv, id), vpn: p}
	if qm.offer, err = espOffer(p.ESPProposals, p.PFSGroup, inSPI, sa.natT, p.ChildLifetime, p.ChildLifeKilobytes); err != nil {
		sa.e.log.Error("Quick Mode offer", "err", err)
		return
	}
	if qm.ni, err = sa.e.random(nonceSize); err != nil {
		return
	}
	ps := []v1.Payload{v1.ReserveHash(sa.chosen.Hash.OutputSize), qm.offer, &v1.Nonce{Data: qm.ni}}
	if g := p.PFSGroup; g != nil {
		if qm.kex, err = g.NewKeyExchange(sa.e.rand); err != nil {
			return
		}
		ps = append(ps, &v1.KE{Data: qm.kex.PublicKey()})
	}
	idci, idcr := v1.IDFromPrefix(p.localTS), v1.IDFromPrefix(p.remoteTS)
	qm.idci, qm.idcr = &idci, &idcr
	ps = append(ps, qm.idci, qm.idcr)
	c, err := v1.BuildChain(ps)
	if err != nil {
		return
	}
	if err := c.SetHash(0, sa.prf(sa.keys.A, msgIDBytes(id), c.RawAfter(0))); err != nil {
		return
	}
	b, next, err := sa.sealChain(sa.header(v1.QuickMode, id, true), c, qm.iv)
	if err != nil {
		return
	}
	qm.iv = next
	sa.qms[id] = qm
	sa.e.log.Info("IKEv1 Quick Mode started", "vpn", p.VPN, "in", spiHex(inSPI), "rekey", rekeyOf != nil)
	qm.lastSent = b
	sa.resendQM(qm)
}

func (sa *isakmpSA) resendQM(qm *quickMode) {
	if qm.sends >= ike.MaxSends {
		delete(sa.qms, qm.msgID)
		sa.e.log.Warn("IKEv1 Quick Mode unanswered; given up", "vpn", qm.vpn.VPN)
		if qm.rekeyOf == nil && len(sa.children) == 0 {
			sa.fail(ike.Failf(ike.CauseTimeout, "Quick Mode unanswered after %d transmissions", qm.sends))
		}
		return
	}
	qm.sends++
	sa.transmit(qm.lastSent)
	sent := qm.lastSent
	qm.timer = sa.e.clock.AfterFunc(ike.Backoff(qm.sends), func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state == stateEstablished && sa.qms[qm.msgID] == qm && bytes.Equal(qm.lastSent, sent) {
			sa.resendQM(qm)
		}
	})
}

// quickMode takes a Quick Mode message: the peer's message 1 (a new
// exchange), or the next message of one under way.
func (sa *isakmpSA) quickMode(msg *v1.Message) {
	id := msg.Header.MessageID
	qm := sa.qms[id]
	if qm != nil && qm.lastRecv != nil && bytes.Equal(qm.lastRecv, msg.Received) {
		if qm.lastReply != nil {
			sa.transmit(qm.lastReply) // a retransmission: the same answer
		}
		return
	}
	iv := sa.cipher.phase2IV(sa.iv, id)
	if qm != nil {
		iv = qm.iv
	}
	c, next, err := sa.openMessage(msg, iv)
	if err != nil {
		sa.e.drops.Unauthenticated.Add(1)
		sa.e.log.Info("Quick Mode message does not decrypt; dropped", "peer", sa.remote, "err", err)
		return
	}
	hash, ok := c.Payloads[0].(*v1.Hash)
	if !ok {
		sa.e.log.Info("Quick Mode message without HASH first; dropped", "peer", sa.remote)
		return
	}
	sa.lastHeard, sa.dpdUnanswered = sa.e.clock.Now(), 0
	switch {
	case qm == nil:
		if !bytes.Equal(hash.Data, sa.prf(sa.keys.A, msgIDBytes(id), c.RawAfter(0))) {
			sa.e.drops.Unauthenticated.Add(1)
			sa.e.log.Warn("Quick Mode HASH(1) does not verify; dropped", "peer", sa.remote)
			return
		}
		sa.respondQuickMode(id, c, next, msg.Received)
	case qm.initiator:
		sa.quickMode2(qm, c, hash, next, msg.Received)
	default:
		sa.quickMode3(qm, c, hash)
	}
}

// quickMode2: the initiator checks the responder's answer, installs the
// pair and confirms (message 3).
func (sa *isakmpSA) quickMode2(qm *quickMode, c *v1.Chain, hash *v1.Hash, next, received []byte) {
	if qm.lastReply != nil {
		return // message 3 went out already; a different message 2 is not ours
	}
	if !bytes.Equal(hash.Data, sa.prf(sa.keys.A, msgIDBytes(qm.msgID), qm.ni, c.RawAfter(0))) {
		sa.e.drops.Unauthenticated.Add(1)
		sa.e.log.Warn("Quick Mode HASH(2) does not verify; dropped", "peer", sa.remote)
		return
	}
	chosen, _ := v1.Find[*v1.SA](c.Payloads)
	nr, _ := v1.Find[*v1.Nonce](c.Payloads)
	if chosen == nil || nr == nil || len(chosen.Proposals) != 1 || len(chosen.Proposals[0].Transforms) != 1 || len(chosen.Proposals[0].SPI) != 4 {
		sa.quickModeFailed(qm, ike.Failf(ike.CauseOther, "the answer lacks a single chosen transform or nonce"))
		return
	}
	suite, err := espOf(chosen.Proposals[0].Transforms[0])
	if err != nil {
		sa.quickModeFailed(qm, ike.Failf(ike.CauseOther, "the responder chose an unusable transform: %v", err))
		return
	}
	if _, _, err := selectESP(chosen, qm.offer); err != nil {
		sa.quickModeFailed(qm, ike.Failf(ike.CauseNoProposal, "the responder chose what we did not offer: %v", err))
		return
	}
	qm.suite, qm.peerSPI, qm.nr = suite, binary.BigEndian.Uint32(chosen.Proposals[0].SPI), append([]byte(nil), nr.Data...)
	if qm.kex != nil {
		ke, _ := v1.Find[*v1.KE](c.Payloads)
		if ke == nil {
			sa.quickModeFailed(qm, ike.Failf(ike.CauseOther, "PFS asked for and no KE in the answer"))
			return
		}
		if qm.gqm, err = qm.kex.SharedSecret(ke.Data); err != nil {
			sa.quickModeFailed(qm, ike.Failf(ike.CauseOther, "PFS key exchange: %v", err))
			return
		}
	}
	if qm.timer != nil {
		qm.timer.Stop()
	}
	local, remote, err := answeredIDs(c, qm)
	if err != nil {
		sa.quickModeFailed(qm, ike.Failure{Cause: ike.CauseSelectors, Message: err.Error()})
		return
	}
	qm.iv = next
	// Message 3, then the SA pair in. A responder that installs its pair
	// with message 3 (strongSwan does) drops what we send on the pair
	// before that, so ours goes in no earlier; with a staged installer our
	// inbound SA is in first (install.go), for a responder that sends at
	// once.
	c3, err := v1.BuildChain([]v1.Payload{&v1.Hash{Data: sa.prf(sa.keys.A, []byte{0}, msgIDBytes(qm.msgID), qm.ni, qm.nr)}})
	if err != nil {
		return
	}
	b, _, err := sa.sealChain(sa.header(v1.QuickMode, qm.msgID, true), c3, qm.iv)
	if err != nil {
		return
	}
	qm.lastRecv, qm.lastReply = append([]byte(nil), received...), b
	sa.stageInbound(qm, local, remote)
	sa.transmit(b)
	sa.installQuickMode(qm, local, remote)
	// The exchange is kept a while to answer a repeated message 2.
	sa.after(30*time.Second, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.qms != nil {
			delete(sa.qms, qm.msgID)
		}
	})
}

// answeredIDs are the traffic selectors of the pair the initiator
// installs: the responder's IDci and IDcr. RFC 2409 has them repeat ours,
// but strongSwan (and others) answer a wider proposal with their own
// narrower selectors; the peer then accepts only that traffic, and a later
// Quick Mode of the peer for it must be recognised as this pair's rekey
// (replacedBy). Selectors wider than ours are refused.
func answeredIDs(c *v1.Chain, qm *quickMode) (local, remote netip.Prefix, err error) {
	local, remote = p2(qm.idci), p2(qm.idcr)
	var ids []*v1.Identification
	for _, pl := range c.Payloads {
		if x, ok := pl.(*v1.Identification); ok {
			ids = append(ids, x)
		}
	}
	if len(ids) != 2 || qm.idci == nil {
		return local, remote, nil
	}
	l, r := p2(ids[0]), p2(ids[1])
	if !l.IsValid() || !r.IsValid() || !within(l, local) || !within(r, remote) {
		return local, remote, fmt.Errorf("the responder answered identities %s ↔ %s, not within the %s ↔ %s we proposed",
			ids[0], ids[1], qm.idci, qm.idcr)
	}
	return l, r, nil
}

func p2(id *v1.Identification) netip.Prefix {
	if id == nil {
		return netip.Prefix{}
	}
	if p, ok := id.Prefix(); ok {
		return p
	}
	if a, ok := id.Addr(); ok {
		return netip.PrefixFrom(a, a.BitLen())
	}
	return netip.Prefix{}
}

// respondQuickMode answers a verified message 1 (message 2).
func (sa *isakmpSA) respondQuickMode(id uint32, c *v1.Chain, next, received []byte) {
	offered, _ := v1.Find[*v1.SA](c.Payloads)
	ni, _ := v1.Find[*v1.Nonce](c.Payloads)
	if offered == nil || ni == nil {
		return
	}
	var ids []*v1.Identification
	for _, pl := range c.Payloads {
		if x, ok := pl.(*v1.Identification); ok {
			ids = append(ids, x)
		}
	}
	// The VPN whose proxy identities hold the peer's (vpns.go) answers
	// with its proposals; with none, the identities are refused.
	p := sa.peer.vpnList()[0]
	fit := p
	if len(ids) == 2 {
		if fit = sa.peer.fitting(ids[0], ids[1]); fit != nil {
			p = fit
		}
	}
	qm := &quickMode{msgID: id, iv: next, ni: append([]byte(nil), ni.Data...), vpn: p}
	if len(ids) == 2 {
		qm.idci, qm.idcr = ids[0], ids[1]
		// The initiator's IDci is traffic behind it, ours to reach.
		if fit == nil {
			reason := "traffic selectors: the peer proposed " + qm.idci.String() + " ↔ " + qm.idcr.String() +
				", we accept " + sa.peer.accepted()
			sa.e.log.Warn("IKEv1 Quick Mode refused", "vpn", p.VPN, "reason", reason)
			sa.failure = ike.Failure{Cause: ike.CauseSelectors, Message: reason}.Sent(uint16(v1.INVALID_ID_INFORMATION))
			sa.e.emit(ike.NegotiationFailed, p, sa.remote.Addr(), "", sa.failure)
			sa.sendInformational(&v1.Notify{DOI: v1.DOIIPsec, Protocol: v1.ProtocolESP, SPI: chosenSPI(offered), Type: v1.INVALID_ID_INFORMATION})
			return
		}
	}
	ours, err := espOffer(p.ESPProposals, p.PFSGroup, 1, sa.natT, p.ChildLifetime, p.ChildLifeKilobytes)
	if err != nil {
		return
	}
	chosen, suite, err := selectESP(offered, ours)
	if err != nil {
		sa.e.log.Warn("IKEv1 Quick Mode: no proposal chosen", "vpn", p.VPN, "err", err)
		sa.failure = ike.Failure{Cause: ike.CauseNoProposal, Message: err.Error()}.Sent(uint16(v1.NO_PROPOSAL_CHOSEN))
		sa.e.emit(ike.NegotiationFailed, p, sa.remote.Addr(), "", sa.failure)
		sa.sendInformational(&v1.Notify{DOI: v1.DOIIPsec, Protocol: v1.ProtocolESP, SPI: chosenSPI(offered), Type: v1.NO_PROPOSAL_CHOSEN})
		return
	}
	if qm.inSPI, err = sa.e.installer.AllocateSPI(); err != nil {
		return
	}
	if qm.nr, err = sa.e.random(nonceSize); err != nil {
		return
	}
	qm.suite, qm.peerSPI = suite, binary.BigEndian.Uint32(chosen.SPI)
	answer := chosen
	answer.SPI = binary.BigEndian.AppendUint32(nil, qm.inSPI)
	ps := []v1.Payload{v1.ReserveHash(sa.chosen.Hash.OutputSize),
		&v1.SA{DOI: v1.DOIIPsec, Situation: v1.SIT_IDENTITY_ONLY, Proposals: []v1.Proposal{answer}}, &v1.Nonce{Data: qm.nr}}
	if suite.Group != nil {
		ke, _ := v1.Find[*v1.KE](c.Payloads)
		if ke == nil {
			return
		}
		if qm.kex, err = suite.Group.NewKeyExchange(sa.e.rand); err != nil {
			return
		}
		if qm.gqm, err = qm.kex.SharedSecret(ke.Data); err != nil {
			return
		}
		ps = append(ps, &v1.KE{Data: qm.kex.PublicKey()})
	}
	if qm.idci != nil {
		ps = append(ps, qm.idci, qm.idcr)
	}
	c2, err := v1.BuildChain(ps)
	if err != nil {
		return
	}
	if err := c2.SetHash(0, sa.prf(sa.keys.A, msgIDBytes(id), qm.ni, c2.RawAfter(0))); err != nil {
		return
	}
	b, n2, err := sa.sealChain(sa.header(v1.QuickMode, id, true), c2, qm.iv)
	if err != nil {
		return
	}
	qm.iv = n2
	qm.lastRecv, qm.lastReply = append([]byte(nil), received...), b
	sa.qms[id] = qm
	// The initiator's IDci is the remote traffic for us.
	sa.stageInbound(qm, p2(qm.idcr), p2(qm.idci))
	sa.transmit(b)
	// Without message 3 the exchange is given up after a while.
	qm.timer = sa.e.clock.AfterFunc(30*time.Second, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.qms != nil && sa.qms[id] == qm {
			delete(sa.qms, id)
			sa.unstage(qm)
		}
	})
}

func chosenSPI(offered *v1.SA) []byte {
	if len(offered.Proposals) > 0 {
		return offered.Proposals[0].SPI
	}
	return nil
}

// within reports whether p lies in policy (an unset p or policy: any).
func within(p, policy netip.Prefix) bool {
	if !p.IsValid() || !policy.IsValid() {
		return true
	}
	return policy.Bits() <= p.Bits() && policy.Contains(p.Addr())
}

// quickMode3: the responder checks HASH(3) and installs the pair.
func (sa *isakmpSA) quickMode3(qm *quickMode, c *v1.Chain, hash *v1.Hash) {
	if !bytes.Equal(hash.Data, sa.prf(sa.keys.A, []byte{0}, msgIDBytes(qm.msgID), qm.ni, qm.nr)) {
		sa.e.drops.Unauthenticated.Add(1)
		sa.e.log.Warn("Quick Mode HASH(3) does not verify; dropped", "peer", sa.remote)
		return
	}
	qm.stop()
	delete(sa.qms, qm.msgID)
	// The initiator's IDci is the remote traffic for us.
	local, remote := p2(qm.idcr), p2(qm.idci)
	qm.rekeyOf = sa.replacedBy(qm.vpn, local, remote)
	sa.installQuickMode(qm, local, remote)
}

// replacedBy finds the IPsec SA a new pair for the same traffic replaces:
// IKEv1 does not say that a Quick Mode is a rekey, so a peer's new pair
// whose selectors are those of one we hold is taken as its rekey, as
// strongSwan and Junos take it. Without this the old pair lived on until
// its hard lifetime, and at its soft lifetime we negotiated yet another
// pair in its place. The oldest such pair is the one replaced; nil when
// none.
func (sa *isakmpSA) replacedBy(v *peer, local, remote netip.Prefix) *ike.ChildSA {
	if !local.IsValid() {
		local = v.localTS
	}
	if !remote.IsValid() {
		remote = v.remoteTS
	}
	for _, c := range sa.children {
		if sa.peer.vpnOf(c) == v && len(c.LocalTS) == 1 && len(c.RemoteTS) == 1 && c.LocalTS[0] == local && c.RemoteTS[0] == remote {
			return c
		}
	}
	return nil
}

func (sa *isakmpSA) quickModeFailed(qm *quickMode, f ike.Failure) {
	qm.stop()
	delete(sa.qms, qm.msgID)
	sa.failure = f
	sa.e.log.Warn("IKEv1 Quick Mode failed", "vpn", qm.vpn.VPN, "reason", f.Message)
	sa.e.emit(ike.NegotiationFailed, qm.vpn, sa.remote.Addr(), "", f)
}

// installQuickMode derives the pair's keys (one KEYMAT per SPI) and
// installs it; a rekey deletes the pair it replaces a moment later.
func (sa *isakmpSA) installQuickMode(qm *quickMode, local, remote netip.Prefix) {
	c, err := sa.installPair(qm, local, remote)
	if err != nil {
		sa.e.log.Error("IPsec SA install", "vpn", qm.vpn.VPN, "err", err)
		return
	}
	sa.children = append(sa.children, c)
	sa.e.log.Info("IKEv1 IPsec SA up", "vpn", qm.vpn.VPN, "in", spiHex(c.InboundSPI), "out", spiHex(c.OutboundSPI),
		"encryption", qm.suite.Encryption.Display, "pfs", qm.suite.Group != nil, "udp", c.UDPEncapsulation)
	kind := ike.ChildUp
	if old := qm.rekeyOf; old != nil {
		kind = ike.ChildRekeyed
		sa.e.superseded.Mark(old) // childdown.go
		by := "us"
		if !qm.initiator {
			by = "the peer"
		}
		sa.e.log.Info("IKEv1 IPsec SA rekeyed by "+by, "vpn", qm.vpn.VPN, "old-in", spiHex(old.InboundSPI), "new-in", spiHex(c.InboundSPI))
	}
	sa.e.emit(kind, qm.vpn, sa.remote.Addr(), spiHex(c.InboundSPI), ike.Failure{})
	life := qm.suite.Lifetime
	if life == 0 || qm.vpn.ChildLifetime != 0 && qm.vpn.ChildLifetime < life {
		life = qm.vpn.ChildLifetime
	}
	sa.childTimers(c, life, qm.initiator)
	if old := qm.rekeyOf; old != nil {
		// Not one of sa.timers: a phase 1 rekey within the second hands
		// the old pair to the new ISAKMP SA and closes this one, and the
		// old pair must still go.
		e := sa.e
		e.clock.AfterFunc(time.Second, func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if owner := e.ownerOf(old); owner != nil {
				owner.removeChild(old, true)
			}
		})
	}
}

// byteLifetimes are an IPsec SA's soft and hard lifetimes in bytes: the
// shorter of the negotiated and the configured lifetime-kilobytes (0:
// none), soft at the same fractions as childTimers', for the same reason.
// The data plane reports them back through Engine.ChildBytesReached.
func byteLifetimes(negotiatedKB, configuredKB uint64, initiated bool) (soft, hard uint64) {
	kb := negotiatedKB
	if kb == 0 || configuredKB != 0 && configuredKB < kb {
		kb = configuredKB
	}
	if kb == 0 {
		return 0, 0
	}
	lo := 0.85
	if !initiated {
		lo = 0.92
	}
	hard = kb * 1024
	return uint64(float64(hard) * (lo + 0.05*rand.Float64())), hard
}

// childTimers rekeys an IPsec SA at its soft lifetime (85-90 % of it on
// the side that negotiated it, 92-97 % on the other, so the two seldom
// rekey at once: IKEv1 has no rule for simultaneous rekeys; never with
// responder-only-no-rekey, which leaves the rekey to the peer) and removes
// it at the hard one.
func (sa *isakmpSA) childTimers(c *ike.ChildSA, life time.Duration, initiated bool) {
	if life <= 0 {
		return
	}
	lo := 0.85
	if !initiated {
		lo = 0.92
	}
	soft := time.Duration(float64(life) * (lo + 0.05*rand.Float64()))
	sa.armChildTimers(c, sa.e.lifetimes.Schedule(c, sa.e.clock.Now(), soft, life))
}

// armChildTimers arms an IPsec SA's rekey and its removal for the moments
// scheduled (childTimers, and an imported SA's from its deadlines:
// export.go), which Export and ChildLifetimes report.
func (sa *isakmpSA) armChildTimers(c *ike.ChildSA, at ike.ChildLifetime) {
	e := sa.e
	soft, life := at.Delays(e.clock.Now())
	e.clock.AfterFunc(soft, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if owner := e.ownerOf(c); owner != nil && owner.state == stateEstablished && !owner.peer.NoRekey {
			owner.startQuickMode(c)
		}
	})
	e.clock.AfterFunc(life, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if owner := e.ownerOf(c); owner != nil {
			e.log.Warn("IKEv1 IPsec SA hard lifetime reached; removed", "vpn", owner.peer.vpnOf(c).VPN, "in", spiHex(c.InboundSPI))
			owner.removeChild(c, true)
		}
	})
}

// ChildLifetimes reports when each installed IPsec SA pair is to be
// rekeyed and removed, as its timers are armed; a pair without timers (no
// lifetime in seconds, or resumed from a record without deadlines) is not
// listed.
func (e *Engine) ChildLifetimes() []ike.ScheduledChild {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []ike.ScheduledChild
	for _, sa := range e.sas {
		for _, c := range sa.children {
			if t, ok := e.lifetimes[c]; ok {
				out = append(out, ike.ScheduledChild{VPN: sa.peer.vpnOf(c).VPN, InboundSPI: c.InboundSPI, OutboundSPI: c.OutboundSPI, ChildLifetime: t})
			}
		}
	}
	return out
}

// ownerOf finds the ISAKMP SA an IPsec SA belongs to now (phase 1 rekeys
// hand IPsec SAs over).
func (e *Engine) ownerOf(c *ike.ChildSA) *isakmpSA {
	for _, sa := range e.sas {
		if sa.hasChild(c) {
			return sa
		}
	}
	return nil
}
