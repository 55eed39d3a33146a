package ikev2

import (
	"time"

	"ipsecgw/ike"
)

// A duplicate Child SA the peer keeps. freshChild (childdup.go) leaves the
// redundant Child SA of a simultaneous creation to the side that
// initiated its exchange. When that is the peer and the peer does not
// apply the rule (it keeps both, as strongSwan does with duplicate IKE
// SAs), both pairs would stay for good; so if the peer's is still up
// after duplicateChildWait, beside a Child SA of the same selectors, we
// delete it ourselves (peerkeeps.go).

// duplicateChildWait is how long the peer has to delete its redundant
// Child SA itself: one that applies the rule does so after its
// duplicateDeleteDelay, and a retransmission or two.
const duplicateChildWait = 5 * time.Second

// awaitPeerChildDedupe deletes the peer's redundant Child SA, of c and d
// (duplicates; ours says whether we created c), if the peer has not
// after duplicateChildWait.
func (sa *ikeSA) awaitPeerChildDedupe(c, d *ike.ChildSA, ours bool) {
	theirs := d
	if !ours {
		theirs = c
	}
	sa.unlessPeerDeletes(duplicateChildWait, func() bool {
		if sa.state != stateEstablished || sa.closing || !sa.hasChild(theirs) {
			return false
		}
		for _, x := range sa.children {
			if x != theirs && sameChildSelectors(x, theirs) {
				return true
			}
		}
		return false
	}, func() {
		sa.e.log.Info("duplicate Child SA from a simultaneous creation that the peer kept; deleting it",
			"vpn", theirs.VPN, "in", spiHex(theirs.InboundSPI))
		sa.removeChild(theirs.OutboundSPI)
		sa.deleteChildren([]uint32{theirs.InboundSPI}, 0) // vpnchild.go
	})
}
