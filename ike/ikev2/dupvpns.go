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
// or it learnt of the deletion late), each side answers the other's and holds two Child SAs of
// the VPN, and childdup.go's tie-break deletes one, on both sides the
// same. A deletion that was not a dedupe (the peer's clear, while the
// gateway has another IKE SA up) moves the VPNs alike, which keeps up
// what was up.

// carryVPNs has kept ask for the Child SA of every VPN that has one on
// gone, a duplicate IKE SA being deleted, or was being asked for there,
// and none on kept.
func (kept *ikeSA) carryVPNs(gone *ikeSA) {
	moved := false
	for _, v := range gone.peer.vpns {
		asked := gone.create != nil && gone.create.vpn.VPN == v.VPN
		if kept.hasVPNChild(v.VPN) || !gone.hasVPNChild(v.VPN) && !asked {
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
// deletes, that stays: one up other than gone (dedupe's choice when there
// are several, the lowest initiator SPI), else one of ours whose IKE_AUTH
// is out. The peer deletes its duplicate once ours is up there, that is
// once it answered our IKE_AUTH, and its DELETE may overtake the answer:
// the VPNs wanted on ours are asked for as it comes up (auth.go). Nil if
// none.
func (e *Engine) keptBeside(gone *ikeSA) *ikeSA {
	var kept *ikeSA
	for _, sa := range e.sasOf(gone.peer) {
		up, coming := sa.state == stateEstablished, sa.initiator && sa.state == stateAuthSent
		if sa == gone || sa.closing || !up && !coming {
			continue
		}
		if kept == nil || up && kept.state != stateEstablished || up == (kept.state == stateEstablished) && sa.spiI < kept.spiI {
			kept = sa
		}
	}
	return kept
}
