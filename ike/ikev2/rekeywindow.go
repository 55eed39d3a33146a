package ikev2

import "ipsecgw/ike/wire"

// The old IKE SA after a rekey handed its Child SAs over (handOver,
// createchild.go). On the side that initiated the rekey it is closing at
// once (its DELETE goes out); on the side that answered, it stays up, and
// not closing, until the peer's DELETE comes. In that window it is not
// the gateway's IKE SA any more: a Child SA made on it dies with it a
// moment later, and the VPN is down until asked for again. So a replaced
// IKE SA (replacedBy set) is skipped wherever the gateway's IKE SA is
// chosen (InitiateVPNFrom, dedupe, keptBeside: carries), asks for no VPN
// (startVPNChildren: its retry, createFailed's and responderVPNWait's
// timers may still fire; the new IKE SA asks for what is missing,
// rekeywants.go) and starts no IKE SA rekey of its own.
//
// A CREATE_CHILD_SA of ours sent on the old IKE SA before the hand-over
// and answered after it makes a Child SA both sides hold: the peer
// answered it before it handed over (a request that comes after is
// refused, refuseCreateOnReplaced), so the peer's hand-over moved its
// half to the new IKE SA. Ours goes there
// too (passOnLateChildren): RFC 7296 §2.8 has the Child SAs belong to the
// IKE SA that exists, and both halves then live and die with the same
// IKE SA. Its keys are the old IKE SA's (SK_d of the exchange that made
// it), as the peer's are. Deleting it instead and asking again on the new
// IKE SA would need a DELETE on the new IKE SA for a Child SA the peer
// has there, and a second exchange, for the same result. Such an answer
// no longer comes in any order of exchanges we know: we refuse the
// peer's IKE SA rekey while our CREATE_CHILD_SA is out
// (refuseRekeyWhileCreating, §2.25) and start ours only once it is
// answered (startIKERekey). The move stays as the guard for one we did
// not foresee, the peer's DELETE not overtaking that answer.
//
// The peer's request for a new Child SA that comes on an IKE SA of ours
// a rekey replaced (our rekey's DELETE of it out, or the peer's DELETE to
// come) is answered TEMPORARY_FAILURE (§2.25: try again later, which the
// peer does on the IKE SA that replaces it, takeWants): made there, our
// half would go with that IKE SA, while the peer, which had handed over
// already (it answered our rekey) and so took the answer late, would
// move its half to the new IKE SA (the paragraph above). An IKE SA
// closing for another reason (a dedupe's DELETE out) still makes it:
// the peer carries a VPN with a Child SA on the duplicate it is told is
// gone (dupvpns.go), and would not carry one refused there.

// carries reports whether sa is an IKE SA its gateway's VPNs may be put
// on: up, not being deleted, not replaced by a rekey, not held by a
// simultaneous rekey (a want put on one that turns out redundant went
// with it; the old IKE SA takes it instead, and takeWants moves it to the
// survivor).
func (sa *ikeSA) carries() bool {
	return sa.state == stateEstablished && !sa.closing && sa.replacedBy == nil && !sa.held
}

// replacement is the IKE SA up that replaced sa, through any rekeys of it
// since; nil if sa was not replaced or its replacement is gone.
func (sa *ikeSA) replacement() *ikeSA {
	n := sa.replacedBy
	for n != nil && n.replacedBy != nil {
		n = n.replacedBy
	}
	if n == nil || n.state != stateEstablished {
		return nil
	}
	return n
}

// passOnLateChildren moves the Child SAs made on sa after it was replaced
// (the answer to our CREATE_CHILD_SA sent before the hand-over) to its
// replacement, as handOver moved the others. Their VPNs are met there:
// the wants takeWants moved for them are forgotten.
func (sa *ikeSA) passOnLateChildren() {
	n := sa.replacement()
	if n == nil || len(sa.children) == 0 {
		return
	}
	late := sa.children
	n.children, sa.children = append(n.children, late...), nil
	for _, c := range late {
		n.childTimers(c)
		delete(n.wanted, c.VPN)
		sa.e.log.Info("Child SA made on the IKE SA a rekey replaced; moved to the new IKE SA", "gateway", sa.peer.Gateway,
			"vpn", c.VPN, "in", spiHex(c.InboundSPI))
	}
}

// refuseCreateOnReplaced answers TEMPORARY_FAILURE to the peer's request
// for a new Child SA on an IKE SA a rekey replaced, reporting true.
func (sa *ikeSA) refuseCreateOnReplaced(id uint32) bool {
	if sa.replacedBy == nil {
		return false
	}
	sa.e.log.Info("Child SA requested on an IKE SA a rekey replaced; TEMPORARY_FAILURE", "gateway", sa.peer.Gateway)
	sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
	return true
}
