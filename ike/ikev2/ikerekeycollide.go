package ikev2

import (
	"bytes"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// Simultaneous IKE SA rekeys without additional key exchanges (RFC 7296
// §2.8.2; with them, followupcollide.go settles the collision before any
// new SA exists).
//
// Both sides send CREATE_CHILD_SA to rekey the IKE SA, and each answers the
// other's before its own is answered. Each answer makes a new IKE SA, so
// three exist: the old one and two new ones. The Child SAs stay on the old
// IKE SA until our own request is answered; then both sides, from the same
// four nonces (ourRekeyRedundant, shared with the Child SA and the RFC
// 9370 collisions), agree which new IKE SA has the lowest nonce:
//
//   - ours: it is redundant. We make it (the peer has it already) and
//     send its DELETE; the Child SAs move to the peer's new IKE SA; the
//     peer, which initiated the survivor, deletes the old one.
//   - the peer's: ours survives; the Child SAs move to it and we delete
//     the old IKE SA; the peer deletes its redundant one.
//
// When one side finishes its rekey before the other's request arrives, it
// answers that request TEMPORARY_FAILURE (the IKE SA is being deleted);
// the other then takes the survivor it answered, as it does when the old
// IKE SA's DELETE comes before the answer to its own request (a peer that
// did not notice the collision). A side that yields deletes nothing and
// counts on the peer to: should the redundant SA or the old one still be
// there after collisionGrace, it deletes it itself.

// collisionGrace is how long the redundant or old IKE SA the peer is to
// delete may stay: longer than a DELETE's retransmissions (31 s).
const collisionGrace = 60 * time.Second

// holdForCollision is the responder's half (rekeyIKE): the peer's IKE SA
// rekey made n while our own rekey is in flight. The Child SAs stay where
// they are until ours is answered; it reports whether it held them.
func (sa *ikeSA) holdForCollision(n *ikeSA, ni, nr []byte) bool {
	r := sa.ikeRekey
	if r == nil || sa.followup != nil {
		return false
	}
	sa.e.log.Info("simultaneous IKE SA rekey: the peer's crossed ours; the Child SAs wait for our answer", "gateway", sa.peer.Gateway)
	r.collided = &collision{ni: bytes.Clone(ni), nr: bytes.Clone(nr), ike: n}
	n.held = true // rekeywindow.go: carries nothing until settled
	return true
}

// refuseRekeyWhileClosing answers TEMPORARY_FAILURE to a rekey of an IKE
// SA we are deleting (§2.8.2: we rekeyed it already, or were told to
// go), reporting true.
func (sa *ikeSA) refuseRekeyWhileClosing(id uint32) bool {
	if !sa.closing {
		return false
	}
	sa.e.log.Info("IKE SA rekey for an IKE SA being deleted; TEMPORARY_FAILURE", "gateway", sa.peer.Gateway)
	sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
	return true
}

// refuseRekeyWhileCreating answers TEMPORARY_FAILURE to a rekey of an
// IKE SA on which our CREATE_CHILD_SA, for a new Child SA or a Child SA
// rekey, is out (§2.25: a request that a rekey in progress keeps from
// completing), reporting true. Accepted, the rekey hands the Child SAs
// over before our answer comes, which then lands on the replaced IKE SA
// (passOnLateChildren); should the peer's DELETE of that IKE SA overtake
// the answer, or the answer be lost, the peer keeps on its new IKE SA a
// Child SA we do not have, and our new IKE SA asks for a second. The
// peer tries again a moment later (retryIKERekeyLater, rekeyretry.go), by
// when ours is answered; startIKERekey holds ours back likewise.
func (sa *ikeSA) refuseRekeyWhileCreating(id uint32) bool {
	if sa.create == nil && sa.rekey == nil {
		return false
	}
	sa.e.log.Info("IKE SA rekey while our CREATE_CHILD_SA is out; TEMPORARY_FAILURE", "gateway", sa.peer.Gateway)
	sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
	return true
}

// afterIKERekeyAnswer runs once the answer to our rekey r is handled:
// when the old IKE SA was not handed over (our rekey refused or its
// answer unusable), the peer's new IKE SA takes over if we answered a
// colliding rekey: the peer keeps that one and deletes the old. Whether
// the old IKE SA holds Child SAs does not matter: the survivor's timers
// (DPD, its own lifetime and rekey) and the VPNs wanted come with the
// hand-over, and an IKE SA without a Child SA (a VPN refused, on-traffic
// not up yet) needs them as much.
func (sa *ikeSA) afterIKERekeyAnswer(r *ikeRekey) {
	if sa.ikeRekey != nil || sa.replacedBy != nil {
		return // follow-ups under way (followup.go), or handed over already
	}
	sa.peerRekeySurvives(r)
}

// peerRekeySurvives: our rekey r failed, or the peer deleted the old IKE
// SA before answering it. If we answered the peer's rekey meanwhile, its
// new IKE SA is the one both sides keep: the Child SAs move to it.
func (sa *ikeSA) peerRekeySurvives(r *ikeRekey) {
	if r == nil || r.collided == nil || r.collided.ike == nil || r.collided.ike.state != stateEstablished {
		return
	}
	sa.e.log.Info("simultaneous IKE SA rekey: the peer's new IKE SA takes the Child SAs", "gateway", sa.peer.Gateway)
	sa.handOver(r.collided.ike)
}

// settleIKECollision is the initiator's half, once our rekey made n: it
// reports whether ours survives (n takes the Child SAs and the old IKE SA
// goes, as without a collision). When it does not, n is deleted and the
// peer's new IKE SA takes the Child SAs.
func (sa *ikeSA) settleIKECollision(r *ikeRekey, n *ikeSA, nr []byte) bool {
	c := r.collided
	if c == nil || c.ike == nil || c.ike.state != stateEstablished {
		return true
	}
	if !ourRekeyRedundant(r.ni, nr, c) {
		sa.e.log.Info("simultaneous IKE SA rekey: the peer's has the lowest nonce; ours survives and the peer deletes its own",
			"gateway", sa.peer.Gateway)
		sa.deleteIfLeft(c.ike)
		return true
	}
	sa.e.log.Info("simultaneous IKE SA rekey: ours has the lowest nonce; deleting it, the peer's takes the Child SAs",
		"gateway", sa.peer.Gateway)
	sa.handOver(c.ike)
	sa.e.sas[r.spi] = n
	sa.e.track(n)
	n.failure = ike.Failf(ike.CauseLocal, "redundant: a simultaneous IKE SA rekey with a lower nonce")
	n.sendDelete()
	sa.deleteIfLeft(sa) // the peer initiated the survivor: it deletes the old IKE SA
	return false
}

// deleteIfLeft deletes x after collisionGrace unless the peer has by then
// (or x took Child SAs after all).
func (sa *ikeSA) deleteIfLeft(x *ikeSA) {
	sa.e.clock.AfterFunc(collisionGrace, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if x.state != stateEstablished || x.closing || len(x.children) > 0 || x.pending != nil {
			return
		}
		sa.e.log.Info("the peer left a redundant IKE SA after a simultaneous rekey; deleting it", "gateway", x.peer.Gateway)
		x.failure = ike.Failf(ike.CauseLocal, "left after a simultaneous IKE SA rekey")
		x.sendDelete()
	})
}
