package ikev2

import (
	"bytes"
	"encoding/binary"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// CREATE_CHILD_SA (§1.3), both roles: a new Child SA, a rekeyed Child SA
// (REKEY_SA), or a rekeyed IKE SA. A rekey is make-before-break: the new
// SA is installed before the answer goes out (responder) or the old one is
// deleted (initiator), and the old one stays until then, so no packet in
// flight is lost. Our side starts one when a lifetime says so
// (lifetime.go).
//
//	HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr}  -->
//	                                                  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
//	HDR, SK {SA, Ni, KEi}  -->                        (IKE SA rekey)
//	                       <--  HDR, SK {SA, Nr, KEr}
func (sa *ikeSA) handleCreateChild(id uint32, ps []wire.Payload) {
	offered, okSA := wire.Find[*wire.SA](ps)
	ni, okN := wire.Find[*wire.Nonce](ps)
	if !okSA || !okN || len(offered.Proposals) == 0 {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.INVALID_SYNTAX}})
		return
	}
	if sa.rekeyingInFollowups(id, offered, ps) { // followupcollide.go
		return
	}
	ke, _ := wire.Find[*wire.KE](ps)
	if offered.Proposals[0].Protocol == wire.ProtocolIKE {
		sa.rekeyIKE(id, offered, ni.Data, ke)
		return
	}
	tsi, okI := wire.Find[*wire.TSi](ps)
	tsr, okR := wire.Find[*wire.TSr](ps)
	if !okI || !okR {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.INVALID_SYNTAX}})
		return
	}
	// A rekey must name a Child SA of ours (the peer's inbound SPI, our
	// outbound one); one already gone is CHILD_SA_NOT_FOUND (§2.25).
	rekeyN, isRekey := wire.FindNotify(ps, wire.REKEY_SA)
	if !isRekey && sa.refuseCreateOnReplaced(id) { // rekeywindow.go
		return
	}
	var old *ike.ChildSA
	if isRekey {
		if len(rekeyN.SPI) == 4 {
			old = sa.childByOutbound(binary.BigEndian.Uint32(rekeyN.SPI))
		}
		if old == nil {
			sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Protocol: wire.ProtocolESP, SPI: rekeyN.SPI, Type: wire.CHILD_SA_NOT_FOUND}})
			return
		}
		if old == sa.deleting {
			// We rekeyed it already and our DELETE is out: a rekey of an SA
			// being closed gets TEMPORARY_FAILURE (§2.25), so no second
			// replacement is made that neither side would remove.
			sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
			return
		}
	}
	// A rekey keeps its Child SA's VPN; a new Child SA is for the VPN its
	// traffic selectors fit (vpns.go).
	v, nar, err := sa.childVPN(old, tsi.Selectors, tsr.Selectors)
	if err != nil {
		sa.failure = failureOf(err).Sent(uint16(wire.TS_UNACCEPTABLE))
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TS_UNACCEPTABLE}})
		return
	}
	inSPI, err := sa.e.installer.AllocateSPI()
	if err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	mine, err := ESPOffer(v.ESPProposals, v.PFSGroup, inSPI)
	if err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	mine = withAddKE(mine, v.PFSAddKE) // followup.go
	sel, err := SelectESP(offered.Proposals, mine, wire.CREATE_CHILD_SA)
	if err != nil {
		sa.failure = failureOf(err).Sent(uint16(wire.NO_PROPOSAL_CHOSEN))
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.NO_PROPOSAL_CHOSEN}})
		return
	}
	if sa.childAddKE(id, sel, ke, ni.Data, v, nar, inSPI, old) { // followup.go
		return
	}
	var gir []byte
	var keR *wire.KE
	if sel.KE != nil {
		var ok bool
		if keR, gir, ok = sa.answerKE(id, sel.KE, ke); !ok {
			return
		}
		defer clear(gir)
	}
	nr, err := sa.e.random(nonceSize)
	if err != nil {
		return
	}
	if !sa.installChild(newChild{suite: sel.Suite, esn: sel.ESN, inSPI: inSPI, outSPI: sel.PeerSPI,
		tsi: nar.TSi, tsr: nar.TSr, gir: gir, pfs: sel.KE, ni: ni.Data, nr: nr, responderRekey: isRekey, vpn: v}) {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	if !isRekey {
		sa.freshChild(sa.children[len(sa.children)-1], ni.Data, nr, false) // childdup.go
	}
	out := []wire.Payload{&wire.SA{Proposals: []wire.Proposal{sel.Proposal}}, &wire.Nonce{Data: nr}}
	if keR != nil {
		out = append(out, keR)
	}
	out = append(out, &wire.TSi{Selectors: nar.TSi}, &wire.TSr{Selectors: nar.TSr})
	if isRekey {
		sa.e.log.Info("Child SA rekeyed by the peer", "vpn", v.VPN, "old", spiHexBytes(rekeyN.SPI), "new-in", spiHex(inSPI))
		sa.emitFor(v.VPN, ike.ChildRekeyed, spiHex(inSPI), ike.Failure{})
		sa.e.superseded.Mark(old) // childdown.go
		if sa.rekey != nil && sa.rekey.old == old {
			// Our rekey of the same SA is in flight: a collision, settled
			// when our answer comes (§2.8.1).
			sa.rekey.collided = &collision{ni: append([]byte(nil), ni.Data...), nr: nr, child: sa.children[len(sa.children)-1]}
		}
	}
	sa.answer(id, wire.CREATE_CHILD_SA, out)
}

// rekeyIKE answers an IKE SA rekey (§1.3.2, §2.18): the new IKE SA takes
// over the Child SAs; the old one stays until the peer deletes it.
func (sa *ikeSA) rekeyIKE(id uint32, offered *wire.SA, ni []byte, ke *wire.KE) {
	if sa.refuseRekeyWhileClosing(id) || sa.refuseRekeyWhileCreating(id) { // ikerekeycollide.go
		return
	}
	spi, err := sa.e.newSPI()
	if err != nil {
		return
	}
	mine := make([]wire.Proposal, len(sa.peer.ikeOffer))
	for i, p := range sa.peer.ikeOffer {
		p.SPI = binary.BigEndian.AppendUint64(nil, spi)
		mine[i] = p
	}
	sel, err := SelectIKE(offered.Proposals, mine)
	if err != nil || len(sel.PeerSPI) != 8 {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.NO_PROPOSAL_CHOSEN}})
		return
	}
	if sa.rekeyIKEAddKE(id, sel, ni, ke, spi) { // followup.go
		return
	}
	keR, gir, ok := sa.answerKE(id, sel.KE, ke)
	if !ok {
		return
	}
	defer clear(gir)
	nr, err := sa.e.random(nonceSize)
	if err != nil {
		return
	}
	// The rekey's initiator is the new IKE SA's initiator (§2.18).
	n := &ikeSA{e: sa.e, peer: sa.peer, initiator: false, spiI: binary.BigEndian.Uint64(sel.PeerSPI), spiR: spi,
		local: sa.local, remote: sa.remote, natT: sa.natT,
		group: sel.KE, suite: sel.Suite, state: stateEstablished, established: sa.e.clock.Now()}
	n.frag.on = sa.frag.on // the new IKE SA keeps fragmentation (fragment.go)
	n.inheritAuth(sa)      // certauth.go
	skeyseed, err := keymat.RekeySKEYSEED(sa.suite.PRF, sa.keys.D, gir, ni, nr)
	if err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	if err := n.keysFromSKEYSEED(skeyseed, ni, nr); err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	if !sa.holdForCollision(n, ni, nr) { // ikerekeycollide.go
		sa.handOver(n)
	}
	sa.e.sas[spi] = n
	sa.e.track(n)
	sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.SA{Proposals: []wire.Proposal{sel.Proposal}},
		&wire.Nonce{Data: nr}, keR})
	sa.e.log.Info("IKE SA rekeyed by the peer", "gateway", sa.peer.Gateway, "new-spi", n.spiR)
	n.emit(ike.IKERekeyed, n.ikeSPIs(), ike.Failure{})
}

func spiHexBytes(b []byte) string {
	if len(b) != 4 {
		return "-"
	}
	return spiHex(binary.BigEndian.Uint32(b))
}

// answerKE is the responder's half of a CREATE_CHILD_SA key exchange in the
// group it selected: a KE payload missing or in another group is answered
// with INVALID_KE_PAYLOAD naming the group wanted (§1.3), a bad public
// value with INVALID_SYNTAX. On false that answer has been sent. The
// caller clears the shared secret gir.
func (sa *ikeSA) answerKE(id uint32, group *transform.Transform, ke *wire.KE) (keR *wire.KE, gir []byte, ok bool) {
	if ke == nil || ke.Group != group.ID {
		var d [2]byte
		binary.BigEndian.PutUint16(d[:], uint16(group.ID))
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.INVALID_KE_PAYLOAD, Data: d[:]}})
		return nil, nil, false
	}
	kex, err := group.NewKeyExchange(sa.e.rand)
	if err == nil {
		gir, err = kex.SharedSecret(ke.Data)
	}
	if err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.INVALID_SYNTAX}})
		return nil, nil, false
	}
	return &wire.KE{Group: group.ID, Data: kex.PublicKey()}, gir, true
}

// The initiator's half: a Child SA rekey.

// childRekey is our CREATE_CHILD_SA rekeying old.
type childRekey struct {
	old   *ike.ChildSA
	inSPI uint32
	offer []wire.Proposal
	ni    []byte
	kex   transform.KeyExchange
	tsi   []wire.TrafficSelector
	tsr   []wire.TrafficSelector
	// collided is set when the peer rekeyed old too while ours was in
	// flight (§2.8.1): its exchange's nonces and the Child SA it made.
	collided *collision
	// peerAddKE is the peer's rekey of old with additional key exchanges,
	// answered while ours was in flight: its nonces (followupcollide.go).
	peerAddKE *collision
	// vpn is old's VPN, whose IPsec policy the rekey offers (vpns.go).
	vpn *vpn
}

// collision is the peer's half of a simultaneous Child SA rekey.
type collision struct {
	ni, nr []byte       // the peer's exchange: its Ni, our Nr
	child  *ike.ChildSA // the Child SA that exchange created
	// ike is the IKE SA the peer's IKE SA rekey created, holding no Child
	// SAs until the collision is settled (ikerekeycollide.go).
	ike *ikeSA
}

// ourRekeyRedundant applies RFC 7296 §2.8.1 to a collision: of the two new
// Child SAs the one created with the lowest of the four nonces is closed by
// the side that created it. It reports whether that is the one our
// exchange (nonces ni, nr) created.
func ourRekeyRedundant(ni, nr []byte, c *collision) bool {
	lowest := func(a, b []byte) []byte {
		if bytes.Compare(a, b) < 0 {
			return a
		}
		return b
	}
	return bytes.Compare(lowest(ni, nr), lowest(c.ni, c.nr)) < 0
}

// startRekey sends CREATE_CHILD_SA with REKEY_SA for c (§1.3.3).
func (sa *ikeSA) startRekey(c *ike.ChildSA) {
	if sa.pending != nil {
		// One exchange at a time: try again shortly.
		sa.after(time.Second, func() {
			sa.e.mu.Lock()
			defer sa.e.mu.Unlock()
			if sa.state == stateEstablished && sa.hasChild(c) {
				sa.startRekey(c)
			}
		})
		return
	}
	v := sa.peer.vpnOf(c) // vpns.go
	if v == nil {
		return // configured away: its Child SAs are going
	}
	inSPI, err := sa.e.installer.AllocateSPI()
	if err != nil {
		return
	}
	offer, err := ESPOffer(v.ESPProposals, v.PFSGroup, inSPI)
	if err != nil {
		return
	}
	offer = withAddKE(offer, v.PFSAddKE) // followup.go
	ni, err := sa.e.random(nonceSize)
	if err != nil {
		return
	}
	r := &childRekey{old: c, inSPI: inSPI, offer: offer, ni: ni, vpn: v}
	for _, p := range c.LocalTS {
		r.tsi = append(r.tsi, PrefixSelector(p))
	}
	for _, p := range c.RemoteTS {
		r.tsr = append(r.tsr, PrefixSelector(p))
	}
	inner := []wire.Payload{&wire.Notify{Protocol: wire.ProtocolESP, SPI: spiBytes(c.InboundSPI), Type: wire.REKEY_SA},
		&wire.SA{Proposals: offer}, &wire.Nonce{Data: ni}}
	if g := v.PFSGroup; g != nil {
		if r.kex, err = g.NewKeyExchange(sa.e.rand); err != nil {
			return
		}
		inner = append(inner, &wire.KE{Group: g.ID, Data: r.kex.PublicKey()})
	}
	inner = append(inner, &wire.TSi{Selectors: r.tsi}, &wire.TSr{Selectors: r.tsr})
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.CREATE_CHILD_SA,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, inner)
	if err != nil {
		return
	}
	sa.rekey = r
	sa.e.log.Info("rekeying Child SA", "vpn", v.VPN, "old-in", spiHex(c.InboundSPI))
	sa.request(b, sa.nextID)
}

// handleRekeyResponse installs the new Child SA, then deletes the old one
// (make-before-break: the old SA keeps receiving until the DELETE).
func (sa *ikeSA) handleRekeyResponse(ps []wire.Payload) {
	r := sa.rekey
	sa.rekey = nil
	if t, ok := errorNotify(ps); ok {
		if sa.retryRekeyLater(r, t) { // rekeyretry.go
			return
		}
		sa.e.log.Warn("Child SA rekey refused; the old SA stays until its hard lifetime", "vpn", r.vpn.VPN, "reason", t)
		return
	}
	chosen, okSA := wire.Find[*wire.SA](ps)
	nr, okN := wire.Find[*wire.Nonce](ps)
	tsi, okI := wire.Find[*wire.TSi](ps)
	tsr, okR := wire.Find[*wire.TSr](ps)
	if !okSA || !okN || !okI || !okR {
		sa.e.log.Warn("Child SA rekey answer incomplete", "vpn", r.vpn.VPN)
		return
	}
	sel, err := CheckESPChosen(r.offer, chosen.Proposals, wire.CREATE_CHILD_SA)
	if err != nil {
		sa.e.log.Warn("Child SA rekey answer refused", "vpn", r.vpn.VPN, "err", err)
		return
	}
	var gir []byte
	if r.kex != nil {
		ke, ok := wire.Find[*wire.KE](ps)
		if !ok {
			return
		}
		if gir, err = r.kex.SharedSecret(ke.Data); err != nil {
			return
		}
		defer clear(gir)
	}
	if sa.childRekeyFollowups(r, sel, ps, gir, nr.Data, tsi.Selectors, tsr.Selectors) { // followup.go
		return
	}
	if !sa.installChild(newChild{weInitiated: true, suite: sel.Suite, esn: sel.ESN, inSPI: r.inSPI, outSPI: sel.PeerSPI,
		tsi: tsi.Selectors, tsr: tsr.Selectors, gir: gir, pfs: sel.KE, ni: r.ni, nr: nr.Data, vpn: sa.peer.vpnOf(r.old)}) {
		return
	}
	sa.emitFor(r.vpn.VPN, ike.ChildRekeyed, spiHex(r.inSPI), ike.Failure{})
	sa.e.superseded.Mark(r.old) // childdown.go
	// Make-before-break: delete the SA replaced, or, when the peer rekeyed
	// it at the same time and our new SA is the redundant one, ours (the
	// peer then deletes the replaced SA).
	gone := r.old
	if r.collided != nil {
		if ourRekeyRedundant(r.ni, nr.Data, r.collided) {
			gone = sa.children[len(sa.children)-1]
			sa.e.superseded.Mark(gone) // childdown.go: its twin carries on
			sa.e.log.Info("simultaneous Child SA rekey: ours is redundant; deleting it", "vpn", r.vpn.VPN, "in", spiHex(gone.InboundSPI))
		} else {
			sa.e.log.Info("simultaneous Child SA rekey: the peer's is redundant; it deletes it", "vpn", r.vpn.VPN,
				"peer-created", spiHex(r.collided.child.InboundSPI))
			sa.e.superseded.Mark(r.collided.child) // childdown.go: ours carries on
		}
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, []wire.Payload{&wire.Delete{Protocol: wire.ProtocolESP, SPIs: []uint32{gone.InboundSPI}}})
	if err != nil {
		return
	}
	sa.deleting = gone
	sa.request(b, sa.nextID)
}

// The initiator's half: an IKE SA rekey.

// ikeRekey is our CREATE_CHILD_SA rekeying the IKE SA (§1.3.2).
type ikeRekey struct {
	spi   uint64
	offer []wire.Proposal
	kex   transform.KeyExchange
	group *transform.Transform
	ni    []byte
	// collided is the peer's IKE SA rekey with additional key exchanges,
	// answered while ours was in flight: its nonces (followupcollide.go).
	collided *collision
}

func (sa *ikeSA) startIKERekey() {
	if sa.replacedBy != nil {
		return // rekeywindow.go: its replacement has its own lifetime
	}
	if sa.pending != nil || sa.rekey != nil || sa.ikeRekey != nil || sa.peerFollowup != nil {
		sa.after(time.Second, func() {
			sa.e.mu.Lock()
			defer sa.e.mu.Unlock()
			if sa.state == stateEstablished {
				sa.startIKERekey()
			}
		})
		return
	}
	spi, err := sa.e.newSPI()
	if err != nil {
		return
	}
	offer := make([]wire.Proposal, len(sa.peer.ikeOffer))
	for i, p := range sa.peer.ikeOffer {
		p.SPI = binary.BigEndian.AppendUint64(nil, spi)
		offer[i] = p
	}
	group, err := firstGroup(offer)
	if err != nil {
		return
	}
	kex, err := group.NewKeyExchange(sa.e.rand)
	if err != nil {
		return
	}
	ni, err := sa.e.random(nonceSize)
	if err != nil {
		return
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.CREATE_CHILD_SA,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, []wire.Payload{&wire.SA{Proposals: offer}, &wire.Nonce{Data: ni}, &wire.KE{Group: group.ID, Data: kex.PublicKey()}})
	if err != nil {
		return
	}
	sa.ikeRekey = &ikeRekey{spi: spi, offer: offer, kex: kex, group: group, ni: ni}
	sa.e.sas[spi] = sa // reserve the SPI until the new SA takes it
	sa.e.log.Info("rekeying IKE SA", "gateway", sa.peer.Gateway)
	sa.request(b, sa.nextID)
}

// handleIKERekeyResponse makes the new IKE SA, moves the Child SAs to it
// and deletes the old one.
func (sa *ikeSA) handleIKERekeyResponse(ps []wire.Payload) {
	r := sa.ikeRekey
	sa.ikeRekey = nil
	delete(sa.e.sas, r.spi)
	defer sa.afterIKERekeyAnswer(r) // ikerekeycollide.go
	if t, ok := errorNotify(ps); ok {
		if !sa.retryIKERekeyLater(t) { // rekeyretry.go
			sa.e.log.Warn("IKE SA rekey refused", "gateway", sa.peer.Gateway, "reason", t)
		}
		return
	}
	chosen, okSA := wire.Find[*wire.SA](ps)
	nr, okN := wire.Find[*wire.Nonce](ps)
	ke, okKE := wire.Find[*wire.KE](ps)
	if !okSA || !okN || !okKE {
		return
	}
	sel, err := CheckIKEChosen(r.offer, chosen.Proposals)
	if err != nil || len(sel.PeerSPI) != 8 || ke.Group != r.group.ID {
		sa.e.log.Warn("IKE SA rekey answer refused", "gateway", sa.peer.Gateway, "err", err)
		return
	}
	gir, err := r.kex.SharedSecret(ke.Data)
	if err != nil {
		return
	}
	defer clear(gir)
	if sa.ikeRekeyFollowups(r, sel, ps, gir, nr.Data) { // followup.go
		return
	}
	n := &ikeSA{e: sa.e, peer: sa.peer, initiator: true, spiI: r.spi, spiR: binary.BigEndian.Uint64(sel.PeerSPI),
		local: sa.local, remote: sa.remote, natT: sa.natT,
		group: r.group, suite: sel.Suite, state: stateEstablished, established: sa.e.clock.Now()}
	n.frag.on = sa.frag.on // the new IKE SA keeps fragmentation (fragment.go)
	n.inheritAuth(sa)      // certauth.go
	skeyseed, err := keymat.RekeySKEYSEED(sa.suite.PRF, sa.keys.D, gir, r.ni, nr.Data)
	if err != nil || n.keysFromSKEYSEED(skeyseed, r.ni, nr.Data) != nil {
		return
	}
	if !sa.settleIKECollision(r, n, nr.Data) { // ikerekeycollide.go
		return
	}
	sa.handOver(n)
	sa.e.sas[r.spi] = n
	sa.e.track(n)
	sa.e.log.Info("IKE SA rekeyed", "gateway", sa.peer.Gateway)
	n.emit(ike.IKERekeyed, n.ikeSPIs(), ike.Failure{})
	sa.sendDelete()
}

// handOver moves the Child SAs and the VPNs asked for to the IKE SA that
// replaces this one and starts the new SA's timers.
func (sa *ikeSA) handOver(n *ikeSA) {
	sa.replacedBy = n // rekeywindow.go: no longer the gateway's IKE SA
	n.held = false    // a simultaneous rekey's survivor (ikerekeycollide.go)
	// A simultaneous rekey's survivor, held, may have Child SAs already:
	// the peer's, asked for once it had settled (ikerekeycollide.go).
	moved := sa.children
	n.children, sa.children = append(n.children, moved...), nil
	// staged.go: the outbound SAs waiting go with their Child SAs.
	sa.handStaged(n)
	n.ppkUsed = sa.ppkUsed // ppk.go: the new SKEYSEED came from SK_d'
	n.startKeepalive()
	n.ikeTimers()
	for _, c := range moved {
		n.childTimers(c)
	}
	n.takeWants(sa) // rekeywants.go
}
