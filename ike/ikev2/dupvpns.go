package ikev2

// The VPNs of a duplicate IKE SA that goes. When dedupe (admin.go,
// dupike.go) settles the two IKE SAs of a simultaneous initiation, the
// one deleted may carry the only Child SA of a VPN: each initiation's
// IKE_AUTH made the Child SA of the VPN it was for, so when the two sides
// initiated for different VPNs (traffic for one on each side, or two VPNs
// kept up), each IKE SA holds a VPN the other lacks. Its Child SA goes
// with the IKE SA, and a VPN not kept up (on-traffic) stayed down until
// traffic asked again. So every VPN with a Child SA on the IKE SA that
// goes and none on the one kept is wanted on the kept one (vpnchild.go),
// on both sides: on the side that deletes it as it sends the DELETE, on
// the other as the DELETE comes (or as the kept one comes up, if the
// DELETE overtook the IKE_AUTH answer), and with the same bring-up as any
// VPN on an IKE SA up (startVPNChildrenAsRole).
//
// Both sides want the same VPNs (both hold the same Child SAs on both IKE
// SAs), and the result is one Child SA per VPN: the kept IKE SA's
// initiator asks at once, and its responder only after responderVPNWait,
// for the VPNs still without one, by when the initiator's has come (a
// VPN with a Child SA is not asked for: vpnWithoutChild); that wait also
// covers an initiator that never learns of the deletion (its DELETE
// lost). Should the two requests still cross (the initiator's delayed,
// or it learnt of the deletion late), each side answers the other's and
// holds two Child SAs of the VPN, and childdup.go's tie-break deletes
// one, on both sides the same.
//
// A peer's DELETE of an IKE SA is taken for a dedupe when the gateway
// has an IKE SA of the other role (dedupe pairs only those), so a peer's
// clear of one of the pair moves its VPNs alike, which keeps up what was
// up; IKE SAs of one role (a load generator's) are left as before.

// carryVPNs has kept ask for the Child SA of every VPN that has one on
// gone, a duplicate IKE SA being deleted, or was being asked for there,
// and none on kept. A VPN responder-only here is left to the peer, which
// carries it the same way from its side: asking for it would initiate
// what the configuration says this side never initiates.
func (kept *ikeSA) carryVPNs(gone *ikeSA) {
	moved := false
	for _, v := range gone.peer.vpns {
		asked := gone.create != nil && gone.create.vpn.VPN == v.VPN
		if v.ResponderOnly || kept.hasVPNChild(v.VPN) || !gone.hasVPNChild(v.VPN) && !asked {
			continue
		}
		kept.want(v)
		moved = true
		kept.e.log.Info("VPN's Child SA goes with a duplicate IKE SA; asking for it on the IKE SA kept", "gateway", kept.peer.Gateway, "vpn", v.VPN)
	}
	if moved {
		kept.startVPNChildrenAsRole() // vpnchild.go
	}
}

// keptBeside is the IKE SA of the gateway of gone, an IKE SA the peer
// deletes, that stays: one of the other role up (dedupe's choice when
// there are several, the lowest initiator SPI), else one of ours whose
// IKE_AUTH is out. The peer deletes its duplicate once ours is up there,
// that is once it answered our IKE_AUTH, and its DELETE may overtake the
// answer: the VPNs wanted on ours are asked for as it comes up (auth.go).
// Nil if none.
func (e *Engine) keptBeside(gone *ikeSA) *ikeSA {
	var kept *ikeSA
	better := func(sa *ikeSA) bool {
		if up := sa.state == stateEstablished; kept == nil || up != (kept.state == stateEstablished) {
			return up || kept == nil
		}
		return sa.spiI < kept.spiI
	}
	for _, sa := range e.sasOf(gone.peer) {
		coming := sa.initiator && sa.state == stateAuthSent
		if sa.initiator == gone.initiator || sa.closing || sa.replacedBy != nil || sa.held || sa.state != stateEstablished && !coming {
			continue
		}
		if better(sa) {
			kept = sa
		}
	}
	return kept
}
