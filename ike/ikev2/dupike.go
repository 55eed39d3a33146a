package ikev2

import (
	"fmt"
	"time"

	"ipsecgw/ike"
)

// A duplicate IKE SA the peer keeps. dedupe (admin.go) settles two IKE SAs
// of a simultaneous initiation as ipsecgw does on both sides: the one of
// the lower initiator SPI stays, and the other's initiator deletes it. A
// peer that does not apply that rule (strongSwan keeps both) leaves two
// IKE SAs, each with a Child SA of every VPN, on both sides for good. So
// when the peer's is the one to go and it is still up after
// duplicateIKEWait, we delete it ourselves: either side may delete an IKE
// SA, and by then both sides have ours with its Child SAs.

// duplicateIKEWait is how long the peer has to delete its redundant IKE SA
// itself; a peer that applies the rule does so at once.
const duplicateIKEWait = 5 * time.Second

// awaitPeerDedupe deletes the peer's IKE SA theirs, a duplicate of ours
// (mine) that the peer should delete, if it is still up, with ours, after
// duplicateIKEWait.
func (e *Engine) awaitPeerDedupe(mine, theirs *ikeSA) {
	theirs.unlessPeerDeletes(duplicateIKEWait, func() bool { // peerkeeps.go
		return theirs.state == stateEstablished && !theirs.closing && mine.state == stateEstablished && !mine.closing
	}, func() {
		e.log.Info("duplicate IKE SA from a simultaneous initiation that the peer kept; deleting it", "gateway", theirs.peer.Gateway,
			"kept", fmt.Sprintf("%016x", mine.spiI), "deleted", fmt.Sprintf("%016x", theirs.spiI))
		theirs.failure = ike.Failf(ike.CauseLocal, "duplicate of a simultaneous initiation, kept by the peer")
		mine.carryVPNs(theirs) // dupvpns.go
		theirs.sendDelete()
	})
}

// dedupeLater has dedupe look at the IKE SAs of sa's gateway again in
// vpnCreateRetry: sa is ours, the duplicate to delete, but an exchange of
// it is out (the CREATE_CHILD_SA of a VPN kept up, asked for as it came
// up), and its DELETE must wait for the answer (one exchange at a time,
// §2.3), as a VPN's Child SA waits (startVPNChildren). Nothing else would
// look again: dedupe runs as an IKE SA comes up, and the peer's
// duplicateIKEWait deletes ours for us only if the peer applies our rule
// (strongSwan keeps both).
func (sa *ikeSA) dedupeLater() {
	sa.after(vpnCreateRetry, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state == stateEstablished && !sa.closing && !sa.e.closed {
			sa.e.dedupe(sa.peer)
		}
	})
}
