package ikev2

import (
	"bytes"
	"slices"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// A VPN's new Child SA on an IKE SA already up (vpnchild.go) with the
// IPsec policy's additional key exchanges (perfect-forward-secrecy
// additional-key-exchange): RFC 9370 §2.2.4 makes no difference between a
// CREATE_CHILD_SA that creates a Child SA and one that rekeys it, so the
// new Child SA runs the rekey's IKE_FOLLOWUP_KE exchanges (followup.go):
// the offer carries the ADDKE transforms, the responder answers with
// ADDITIONAL_KEY_EXCHANGE (childAddKE, which also serves a new Child SA),
// and the keys come from Nr | SK(1) | ... | SK(n).

// createFollowups is the initiator's new-VPN Child SA when the responder
// chose additional key exchanges: the Child SA once the follow-ups are
// done, then the next VPN's. It reports false when there are none.
func (sa *ikeSA) createFollowups(r *childCreate, sel *ESPSelection, ps []wire.Payload, gir, nr []byte, tsi, tsr []wire.TrafficSelector) bool {
	methods, names := addKEMethods(sel.AddKE)
	if len(methods) == 0 {
		return false
	}
	gir, nr = bytes.Clone(gir), bytes.Clone(nr)
	sa.create = r // holds off the next VPN's Child SA until the follow-ups are done
	why := ike.Failf(ike.CauseOther, "the Child SA's additional key exchanges (IKE_FOLLOWUP_KE) did not complete")
	abort := func() {
		sa.create = nil
		clear(gir)
		sa.createFailed(r, why) // vpnchild.go
		sa.startVPNChildren()
	}
	finish := func(extra []byte) bool {
		defer clear(gir)
		if !sa.installChild(newChild{weInitiated: true, suite: sel.Suite, esn: sel.ESN, inSPI: r.inSPI, outSPI: sel.PeerSPI,
			tsi: tsi, tsr: tsr, gir: gir, pfs: sel.KE, ni: r.ni, nr: slices.Concat(nr, extra), vpn: sa.peer.vpnNamed(r.vpn.VPN), addKE: names}) {
			why = sa.failure // abort tells it
			return false
		}
		sa.freshChild(sa.children[len(sa.children)-1], r.ni, nr, true) // childdup.go
		sa.create = nil
		sa.passOnLateChildren() // rekeywindow.go
		sa.startVPNChildren()
		return true
	}
	if !sa.startFollowup(sel.AddKE, ps, finish, abort) {
		sa.create = nil
		return false
	}
	return true
}
