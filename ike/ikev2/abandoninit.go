package ikev2

import (
	"fmt"
	"time"
)

// Our initiation made redundant by the peer's. When both gateways of a
// tunnel keep it up, one side's first IKE_SA_INIT is often lost (sent
// before the peer listens); the peer's own initiation then brings the IKE
// SA up with us as its responder, and our retransmission a second later
// would make a second IKE SA with a second Child SA, which dedupe
// (admin.go) deletes again after it carried traffic. So when an IKE SA of
// the peer's comes up here, our initiations to the same gateway that no
// IKE_SA_INIT response has answered are given up, quietly: the peer holds
// nothing of them that we know of (a COOKIE or INVALID_KE_PAYLOAD answer
// keeps no state, §2.6, §1.2), so there is nothing to DELETE, and nothing
// failed. The VPN each was to bring up gets its Child SA on the IKE SA up
// instead, the way any VPN does on an IKE SA already up (vpnchild.go),
// unless the peer's IKE_AUTH made it there. An initiation the peer
// answered (IKE_INTERMEDIATE or IKE_AUTH out) is left alone: the peer
// holds a half-open SA for it, it may be up at the peer already, and
// dedupe settles the two IKE SAs as it settles any simultaneous
// initiation.
//
// Both sides giving up at once cannot leave no IKE SA. We give ours (Y)
// up only once the peer's (X) is up here, that is once we answered X's
// IKE_AUTH; the peer sends IKE_AUTH only after our IKE_SA_INIT response,
// so X is answered at the peer and the peer never gives X up: X stays on
// both sides (a lost IKE_AUTH answer is retransmitted for, and answered
// from cache). For the peer to give one of its initiations up as well,
// one of ours must be up there with the peer as responder: not Y, which
// never sent IKE_AUTH, so another (W) that got its IKE_SA_INIT answered,
// which we do not give up. Then X and W are both up, the duplicate pair
// of a simultaneous initiation, and dedupe keeps one. In one exchange of
// crossing IKE_SA_INITs, whichever side gets the peer's IKE_AUTH before
// the answer to its own IKE_SA_INIT gives its own up, and the IKE SA both
// keep is the one that side answered.
//
// The other half is on the side whose IKE SA is kept: it holds a
// half-open IKE SA for the initiation the peer gave up, which no IKE_AUTH
// will come for (also when the peer's IKE_SA_INIT was in flight as the
// peer gave it up). An initiator that did not give up sends IKE_AUTH as
// soon as the answer arrives. So a half-open IKE SA of the peer's, made
// while an IKE SA we initiated with the gateway is under way or less than
// givenUpWait up, waits only givenUpWait for its IKE_AUTH instead of
// halfOpenTimeout (cookie.go), and then, if our IKE SA is up, goes
// quietly: nothing failed, and the tunnel lists one IKE SA again within
// seconds. One made later (a peer that reauthenticates with a new IKE SA,
// or that restarted) waits halfOpenTimeout as any.

// abandonUnanswered gives up our initiations to the gateway of up, an IKE
// SA just up with us as its responder, that no IKE_SA_INIT response has
// answered, and has up bring their VPNs' Child SAs up. An IKE SA of
// another gateway, though it may share the peer's address, changes
// nothing.
func (e *Engine) abandonUnanswered(up *ikeSA) {
	if r := e.roles[up.peer]; r == nil || r[0] == 0 {
		return // no initiation of ours to the gateway (dedupe's count)
	}
	for spi, sa := range e.sas {
		if sa.peer != up.peer || !sa.initiator || spi != sa.spiI || sa.state != stateInitSent {
			continue
		}
		v := sa.initiatedVPN() // vpns.go
		up.want(v)             // vpnchild.go: asked for unless the peer's IKE_AUTH made it
		e.abandoned.Add(1)
		e.log.Info("our IKE_SA_INIT is unanswered and the peer's IKE SA is up; giving ours up", "gateway", up.peer.Gateway,
			"kept", fmt.Sprintf("%016x", up.spiI), "abandoned", fmt.Sprintf("%016x", sa.spiI), "sends", sa.sends, "vpn", v.VPN)
		sa.closing = true // the peer's IKE SA carries the tunnel: nothing to negotiate again
		sa.close()
	}
}

// AbandonedInitiations counts the initiations given up since the engine
// started because the peer's IKE SA came up first (abandonUnanswered).
func (e *Engine) AbandonedInitiations() uint64 { return e.abandoned.Load() }

// givenUpWait is how long a half-open IKE SA of the peer's waits for its
// IKE_AUTH around the time an IKE SA we initiated with the gateway comes
// up: the first retransmission of a peer that did not give it up
// (strongSwan's comes after 4 s).
const givenUpWait = 5 * time.Second

// expireGivenUp has the half-open IKE SAs of p expire after givenUpWait
// (expireIfGivenUp), now that an IKE SA we initiated with p is up.
func (e *Engine) expireGivenUp(p *peer) {
	if r := e.roles[p]; r == nil || r[1] == 0 {
		return // no IKE SA of the peer's (dedupe's count)
	}
	for spi, sa := range e.sas {
		if sa.peer == p && !sa.initiator && spi == sa.spiR && sa.awaitingAuth() {
			sa.expireIfGivenUp()
		}
	}
}

// expireIfGivenUp removes sa, a half-open IKE SA of the peer's, quietly,
// if it is half-open still after givenUpWait, while an IKE SA we
// initiated with the gateway is up that was under way or just up when sa
// was made: the peer gave its initiation up for ours.
func (sa *ikeSA) expireIfGivenUp() {
	e := sa.e
	if !e.initiatedLately(sa.peer) {
		return
	}
	sa.after(givenUpWait, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if !sa.awaitingAuth() || !sa.lastHeard.IsZero() || !e.upInitiated(sa.peer) {
			return // up, or under way (IKE_INTERMEDIATE), or ours went
		}
		e.log.Info("no IKE_AUTH for the peer's IKE_SA_INIT while our IKE SA is up: the peer gave its initiation up; removing it",
			"gateway", sa.peer.Gateway, "spi-i", fmt.Sprintf("%016x", sa.spiI))
		sa.closing = true // our IKE SA carries the tunnel
		sa.close()
	})
}

// awaitingAuth: a responder SA whose IKE_AUTH has not come (half-open).
func (sa *ikeSA) awaitingAuth() bool {
	return sa.state == stateComputing || sa.state == stateInitReplied
}

// initiatedLately reports whether an IKE SA we initiated with p is under
// way, or came up less than givenUpWait ago.
func (e *Engine) initiatedLately(p *peer) bool {
	if r := e.roles[p]; r == nil || r[0] == 0 {
		return false // none (dedupe's count)
	}
	for spi, sa := range e.sas {
		if sa.peer == p && sa.initiator && spi == sa.spiI && sa.state != stateDead && !sa.closing &&
			(sa.state != stateEstablished || e.clock.Now().Sub(sa.established) < givenUpWait) {
			return true
		}
	}
	return false
}

// upInitiated reports whether an IKE SA we initiated with p is up.
func (e *Engine) upInitiated(p *peer) bool {
	for spi, sa := range e.sas {
		if sa.peer == p && sa.initiator && spi == sa.spiI && sa.state == stateEstablished && !sa.closing {
			return true
		}
	}
	return false
}
