package ikev2

import (
	"encoding/binary"
	"ipsecgw/ike"

	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// CREATE_CHILD_SA as responder (§1.3): a new Child SA, a rekeyed Child SA
// (REKEY_SA), or a rekeyed IKE SA. A rekey is make-before-break: the new
// SA is installed before the answer goes out, and the old one stays until
// the peer deletes it, so no packet in flight is lost.
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
	inSPI, err := sa.e.installer.AllocateSPI()
	if err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	mine, err := ESPOffer(sa.peer.ESPProposals, sa.peer.PFSGroup, inSPI)
	if err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	sel, err := SelectESP(offered.Proposals, mine, wire.CREATE_CHILD_SA)
	if err != nil {
		sa.failure = sent(wire.NO_PROPOSAL_CHOSEN, failureOf(err))
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.NO_PROPOSAL_CHOSEN}})
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
	nar, err := Narrow(tsi.Selectors, tsr.Selectors, sa.peer.policy)
	if err != nil {
		sa.failure = sent(wire.TS_UNACCEPTABLE, failureOf(err))
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TS_UNACCEPTABLE}})
		return
	}
	nr, err := sa.e.random(nonceSize)
	if err != nil {
		return
	}
	if !sa.installChild(false, sel.Suite, sel.ESN, inSPI, sel.PeerSPI, nar.TSi, nar.TSr, gir, ni.Data, nr) {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	out := []wire.Payload{&wire.SA{Proposals: []wire.Proposal{sel.Proposal}}, &wire.Nonce{Data: nr}}
	if keR != nil {
		out = append(out, keR)
	}
	out = append(out, &wire.TSi{Selectors: nar.TSi}, &wire.TSr{Selectors: nar.TSr})
	if isRekey {
		sa.e.log.Info("Child SA rekeyed by the peer", "vpn", sa.peer.VPN, "old", spiHexBytes(rekeyN.SPI), "new-in", spiHex(inSPI))
		sa.emit(ike.ChildRekeyed, spiHex(inSPI), ike.Failure{})
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
		local: sa.local, remote: sa.remote, natT: sa.natT, ni: append([]byte(nil), ni...), nr: nr,
		group: sel.KE, suite: sel.Suite, state: stateEstablished, established: sa.e.clock.Now()}
	skeyseed, err := keymat.RekeySKEYSEED(sa.suite.PRF, sa.keys.D, gir, n.ni, n.nr)
	if err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	if err := n.keysFromSKEYSEED(skeyseed); err != nil {
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	sa.handOver(n)
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
