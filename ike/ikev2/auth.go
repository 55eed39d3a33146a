package ikev2

import (
	"encoding/binary"
	mathrand "math/rand/v2"
	"net/netip"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// IKE_AUTH (§1.2): identities, AUTH, and the first Child SA, encrypted.
//
//	HDR, SK {IDi, AUTH, SAi2, TSi, TSr}  -->
//	                                     <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}

func (sa *ikeSA) sendAuth() error {
	inSPI, err := sa.e.installer.AllocateSPI()
	if err != nil {
		return err
	}
	sa.hs.childInSPI = inSPI
	id, certs, auth, err := sa.localAuth()
	if err != nil {
		return err
	}
	idi := wire.IDi(id)
	inner := append([]wire.Payload{&idi}, certs...)
	if sa.peer.remoteID.Type != 0 {
		idr := wire.IDr(sa.peer.remoteID)
		inner = append(inner, &idr)
	}
	sa.hs.vpn = sa.initiatedVPN()
	if sa.hs.sentESP, err = sa.hs.vpn.espOffer(inSPI); err != nil {
		return err
	}
	policy := sa.hs.vpn.policy[0]
	inner = append(inner,
		auth,
		&wire.SA{Proposals: sa.hs.sentESP},
		&wire.TSi{Selectors: policy.Local},
		&wire.TSr{Selectors: policy.Remote},
	)
	if inner, err = sa.ppkAuthNotifies(inner, id); err != nil { // ppk.go
		return err
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.IKE_AUTH,
		Flags: wire.FlagInitiator, MessageID: sa.nextID}} // 1, or after the IKE_INTERMEDIATE exchanges
	b, err := sa.out.seal(msg, inner)
	if err != nil {
		return err
	}
	sa.state = stateAuthSent
	sa.request(b, sa.nextID)
	return nil
}

func (sa *ikeSA) handleAuthResponse(ps []wire.Payload) {
	if !sa.ppkAuthResponse(ps) { // ppk.go
		return
	}
	if t, ok := errorNotify(ps); ok && t == wire.AUTHENTICATION_FAILED {
		sa.fail(sa.refusedFailure().Received(uint16(t)))
		return
	}
	sa.takeCerts(ps)
	idr, okID := wire.Find[*wire.IDr](ps)
	auth, _ := wire.Find[*wire.Auth](ps)
	if !okID || !sa.verifyAuth(wire.Identification(*idr), auth) {
		sa.tellAuthFailed()
		sa.fail(sa.authFailure())
		return
	}
	if !sa.checkRemoteID(wire.Identification(*idr)) {
		sa.fail(ike.Failf(ike.CauseAuthentication, "peer identity %v is not the configured remote-identity", wire.Identification(*idr)))
		return
	}
	hs := sa.doneHandshake()
	sa.state, sa.established = stateEstablished, sa.e.clock.Now()
	sa.emit(ike.IKEUp, sa.ikeSPIs(), ike.Failure{})
	sa.expectID = 0
	sa.startKeepalive()
	sa.ikeTimers()
	sa.e.log.Info("IKE SA up", "gateway", sa.peer.Gateway, "peer", sa.remote.Addr(), "role", "initiator")
	if t, ok := errorNotify(ps); ok {
		sa.childFailed(hs.vpn.VPN, ike.Failf(notifyCause(t), "Child SA refused: %v", t).Received(uint16(t)))
		return
	}
	chosen, okSA := wire.Find[*wire.SA](ps)
	tsi, okI := wire.Find[*wire.TSi](ps)
	tsr, okR := wire.Find[*wire.TSr](ps)
	if !okSA || !okI || !okR {
		sa.childFailed(hs.vpn.VPN, ike.Failf(ike.CauseOther, "IKE_AUTH response lacks SA or traffic selectors"))
		return
	}
	sel, err := CheckESPChosen(hs.sentESP, chosen.Proposals, wire.IKE_AUTH)
	if err == nil {
		policy := hs.vpn.policy[0]
		err = CheckNarrowed(policy.Local, policy.Remote, tsi.Selectors, tsr.Selectors)
	}
	if err != nil {
		sa.childFailed(hs.vpn.VPN, failureOf(err))
		return
	}
	if sa.installChild(newChild{weInitiated: true, suite: sel.Suite, esn: sel.ESN, inSPI: hs.childInSPI, outSPI: sel.PeerSPI,
		tsi: tsi.Selectors, tsr: tsr.Selectors, ni: hs.ni, nr: hs.nr, vpn: hs.vpn}) {
		sa.e.expireGivenUp(sa.peer) // abandoninit.go: a half-open SA of the peer's that gave its initiation up
		sa.e.dedupe(sa.peer)
		sa.startVPNChildrenAsRole() // vpnchild.go: the gateway's other VPNs
	}
}

// handleAuthRequest is the responder's IKE_AUTH.
func (sa *ikeSA) handleAuthRequest(id uint32, ps []wire.Payload) {
	sa.takeCerts(ps)
	if !sa.intermediateDone(id) || !sa.ppkAuthRequest(id, ps) { // intermediate.go, ppk.go
		return
	}
	idi, okID := wire.Find[*wire.IDi](ps)
	auth, _ := wire.Find[*wire.Auth](ps)
	if !okID || !sa.verifyAuth(wire.Identification(*idi), auth) || !sa.checkRemoteID(wire.Identification(*idi)) {
		sa.answer(id, wire.IKE_AUTH, []wire.Payload{&wire.Notify{Type: wire.AUTHENTICATION_FAILED}})
		sa.fail(sa.authFailure().Sent(uint16(wire.AUTHENTICATION_FAILED)))
		return
	}
	sa.e.halfOpen--
	delete(sa.e.byInit, sa.byInitKey)
	sa.state, sa.established = stateEstablished, sa.e.clock.Now()
	sa.emit(ike.IKEUp, sa.ikeSPIs(), ike.Failure{})
	sa.startKeepalive()
	sa.ikeTimers()
	sa.e.log.Info("IKE SA up", "gateway", sa.peer.Gateway, "peer", sa.remote.Addr(), "role", "responder")
	myID, certs, authR, err := sa.localAuth()
	if err != nil {
		sa.fail(failureOf(err))
		return
	}
	hs := sa.doneHandshake()
	idr := wire.IDr(myID)
	out := append(append([]wire.Payload{&idr}, certs...), authR)
	out = sa.ppkAnswer(out) // ppk.go
	offered, okSA := wire.Find[*wire.SA](ps)
	tsi, okI := wire.Find[*wire.TSi](ps)
	tsr, okR := wire.Find[*wire.TSr](ps)
	if !okSA || !okI || !okR {
		sa.answer(id, wire.IKE_AUTH, append(out, &wire.Notify{Type: wire.INVALID_SYNTAX}))
		return
	}
	inSPI, err := sa.e.installer.AllocateSPI()
	if err != nil {
		sa.answer(id, wire.IKE_AUTH, append(out, &wire.Notify{Type: wire.TEMPORARY_FAILURE}))
		return
	}
	// The traffic selectors tell which VPN on the gateway the Child SA is
	// for (vpns.go); its IPsec policy answers the offer.
	v, nar, err := sa.peer.narrow(tsi.Selectors, tsr.Selectors)
	if err != nil {
		sa.childFailed(sa.peer.VPN, failureOf(err).Sent(uint16(wire.TS_UNACCEPTABLE))) // no VPN fits: the gateway's
		sa.answer(id, wire.IKE_AUTH, append(out, &wire.Notify{Type: wire.TS_UNACCEPTABLE}))
		return
	}
	mine, err := v.espOffer(inSPI)
	if err != nil {
		sa.answer(id, wire.IKE_AUTH, append(out, &wire.Notify{Type: wire.TEMPORARY_FAILURE}))
		return
	}
	sel, err := SelectESP(offered.Proposals, mine, wire.IKE_AUTH)
	if err != nil {
		sa.childFailed(v.VPN, failureOf(err).Sent(uint16(wire.NO_PROPOSAL_CHOSEN)))
		sa.answer(id, wire.IKE_AUTH, append(out, &wire.Notify{Type: wire.NO_PROPOSAL_CHOSEN}))
		return
	}
	if !sa.installChild(newChild{suite: sel.Suite, esn: sel.ESN, inSPI: inSPI, outSPI: sel.PeerSPI,
		tsi: nar.TSi, tsr: nar.TSr, ni: hs.ni, nr: hs.nr, vpn: v}) {
		sa.answer(id, wire.IKE_AUTH, append(out, &wire.Notify{Type: wire.TEMPORARY_FAILURE}))
		return
	}
	chosen := sel.Proposal
	out = append(out, &wire.SA{Proposals: []wire.Proposal{chosen}}, &wire.TSi{Selectors: nar.TSi}, &wire.TSr{Selectors: nar.TSr})
	sa.answer(id, wire.IKE_AUTH, out)
	sa.e.abandonUnanswered(sa) // abandoninit.go: our own IKE_SA_INIT to the gateway, if unanswered
	sa.e.dedupe(sa.peer)
	sa.startVPNChildrenAsRole() // vpnchild.go: the gateway's other VPNs
}

// newChild is what the exchange that created a Child SA (IKE_AUTH or
// CREATE_CHILD_SA) agreed on.
type newChild struct {
	// weInitiated says whether this side initiated the exchange (IKE_AUTH:
	// the IKE SA's initiator; CREATE_CHILD_SA: whoever sent the request),
	// whose keys come first.
	weInitiated   bool
	suite         keymat.ChildSuite
	esn           bool
	inSPI, outSPI uint32
	// tsi and tsr are the agreed selectors of the exchange's initiator and
	// responder.
	tsi, tsr []wire.TrafficSelector
	// gir is the PFS shared secret (nil without), ni and nr the exchange's
	// nonces.
	gir, ni, nr []byte
	// responderRekey: we answered a rekey; the outbound SA waits for the
	// initiator's DELETE of the old one (staged.go).
	responderRekey bool
	// vpn is the VPN the Child SA is for (vpns.go); nil: configured away
	// while the exchange ran, and nothing is installed.
	vpn *vpn
	// addKE names the additional key exchanges whose secrets follow nr
	// (followup.go).
	addKE []string
	// pfs is the key exchange method of gir (nil without PFS).
	pfs *transform.Transform
}

// installChild derives the Child SA keys (§2.17) and hands both directions
// to the data plane.
func (sa *ikeSA) installChild(x newChild) bool {
	weInitiated, suite, esn, inSPI, outSPI, tsi, tsr := x.weInitiated, x.suite, x.esn, x.inSPI, x.outSPI, x.tsi, x.tsr
	if x.vpn == nil {
		sa.failure = ike.Failf(ike.CauseLocal, "the Child SA's VPN was removed from the configuration")
		return false
	}
	keys, err := keymat.NewChildSAKeys(sa.suite.PRF, suite, sa.keys.D, x.gir, x.ni, x.nr)
	if err != nil {
		sa.failure = failureOf(err)
		return false
	}
	defer keys.Zero()
	c := &ike.ChildSA{InboundSPI: inSPI, OutboundSPI: outSPI, Encryption: suite.Encryption, Integrity: suite.Integrity, ESN: esn,
		Local: sa.local.Addr(), Remote: sa.remote.Addr(), LocalPort: sa.local.Port(), RemotePort: sa.remote.Port(),
		UDPEncapsulation: sa.natT, VPN: x.vpn.VPN, AddKE: x.addKE}
	if x.pfs != nil {
		c.PFSGroup = int(x.pfs.ID)
	}
	local, remote := tsi, tsr
	c.Outbound, c.Inbound = cloneKeys(keys.InitiatorToResponder), cloneKeys(keys.ResponderToInitiator)
	if !weInitiated {
		local, remote = tsr, tsi
		c.Outbound, c.Inbound = cloneKeys(keys.ResponderToInitiator), cloneKeys(keys.InitiatorToResponder)
	}
	c.LocalTS, c.RemoteTS = prefixes(local), prefixes(remote)
	if life := x.vpn.ChildLifeKilobytes * 1024; life > 0 {
		// Soft at 85-90 % (initiator) or 90-95 % (responder), as for
		// lifetime-seconds, so the two sides seldom rekey at once.
		lo := 0.85
		if !sa.initiator {
			lo = 0.90
		}
		c.SoftBytes, c.HardBytes = uint64(float64(life)*(lo+0.05*mathrand.Float64())), life
	}
	if err := sa.installPair(c, x.responderRekey); err != nil { // staged.go
		sa.failure = ike.Failf(ike.CauseOther, "installing the Child SA: %v", err)
		sa.e.log.Error("Child SA install", "gateway", sa.peer.Gateway, "err", err)
		return false
	}
	c.Born = sa.e.clock.Now()
	sa.children = append(sa.children, c)
	delete(sa.wanted, c.VPN) // vpnchild.go: the want is met
	sa.childTimers(c)
	sa.emitFor(c.VPN, ike.ChildUp, spiHex(inSPI), ike.Failure{})
	sa.e.log.Info("Child SA up", "vpn", c.VPN, "in", spiHex(inSPI), "out", spiHex(outSPI),
		"encryption", suite.Encryption.Display, "udp", c.UDPEncapsulation)
	return true
}

// childFailed records why the Child SA of IKE_AUTH was not made: the IKE
// SA stays up without it, the reason shows in the show commands and the
// failure counts. A tunnel kept up (establish-tunnels immediately) tries
// again: the IKE SA is deleted a moment later and negotiated anew. vpn
// names the VPN whose Child SA it was.
func (sa *ikeSA) childFailed(vpn string, f ike.Failure) {
	sa.failure = f
	sa.e.log.Warn("Child SA not established", "gateway", sa.peer.Gateway, "vpn", vpn, "reason", f.Message)
	sa.emitFor(vpn, ike.NegotiationFailed, sa.ikeSPIs(), f)
	if !sa.initiator || !sa.peer.keepUp() {
		return
	}
	sa.after(ike.ReinitiateDelay, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state == stateEstablished && len(sa.children) == 0 && !sa.e.closed {
			sa.sendDelete()
			sa.closing = false // the delete is ours to retry, not a shutdown
			sa.close()
		}
	})
}

func cloneKeys(k keymat.DirectionKeys) keymat.DirectionKeys {
	return keymat.DirectionKeys{Encryption: append(keymat.Key(nil), k.Encryption...), Integrity: append(keymat.Key(nil), k.Integrity...)}
}

// answer encrypts and sends the response to request id.
func (sa *ikeSA) answer(id uint32, exchange wire.ExchangeType, ps []wire.Payload) {
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: exchange,
		Flags: sa.flags() | wire.FlagResponse, MessageID: id}}
	b, err := sa.out.seal(msg, ps)
	if err != nil {
		sa.e.log.Error("sealing IKE response", "err", err)
		return
	}
	sa.respond(b, id)
}

func spiBytes(spi uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, spi)
	return b
}

func spiHex(spi uint32) string {
	const hexdigits = "0123456789abcdef"
	b := []byte("0x00000000")
	for i := 9; i >= 2; i-- {
		b[i] = hexdigits[spi&0xf]
		spi >>= 4
	}
	return string(b)
}

// prefixes turns address-range selectors into the prefixes they cover
// exactly (a range that is no prefix becomes the smallest one covering it).
func prefixes(ts []wire.TrafficSelector) []netip.Prefix {
	var out []netip.Prefix
	for _, t := range ts {
		out = append(out, rangePrefix(t.Start, t.End))
	}
	return out
}

func rangePrefix(start, end netip.Addr) netip.Prefix {
	bits := start.BitLen()
	for l := 0; l <= bits; l++ {
		p, err := start.Prefix(l)
		if err != nil {
			continue
		}
		if p.Addr() == start && rangeEnd(p) == end {
			return p
		}
	}
	for l := bits; l >= 0; l-- {
		p, _ := start.Prefix(l)
		if p.Contains(end) {
			return p
		}
	}
	return netip.PrefixFrom(start, bits)
}

func rangeEnd(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	for i := p.Bits(); i < len(a)*8; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	r, _ := netip.AddrFromSlice(a)
	return r
}
