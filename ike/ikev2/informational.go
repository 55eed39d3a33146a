package ikev2

import (
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// INFORMATIONAL (§1.4), both roles: liveness checks (an empty request,
// sent by dead peer detection, lifetime.go) and DELETEs of Child SAs and
// of the IKE SA.

// handleInformational answers liveness checks (an empty request) and
// deletes (§1.4).
func (sa *ikeSA) handleInformational(id uint32, ps []wire.Payload) {
	if sa.peerRefusedAuth(id, ps) { // certauth.go
		return
	}
	sa.installStagedOnDelete(ps) // staged.go: before the old SA goes
	var out []wire.Payload
	deleteIKE := false
	for _, p := range ps {
		d, ok := p.(*wire.Delete)
		if !ok {
			continue
		}
		switch d.Protocol {
		case wire.ProtocolIKE:
			deleteIKE = true
		case wire.ProtocolESP:
			// The peer names its inbound SPIs, our outbound ones; we answer
			// with ours (§1.4.1).
			var ours []uint32
			for _, spi := range d.SPIs {
				if c := sa.removeChild(spi); c != nil {
					ours = append(ours, c.InboundSPI)
				}
			}
			if len(ours) > 0 {
				out = append(out, &wire.Delete{Protocol: wire.ProtocolESP, SPIs: ours})
			}
		}
	}
	sa.answer(id, wire.INFORMATIONAL, out)
	if deleteIKE {
		sa.peerRekeySurvives(sa.ikeRekey) // ikerekeycollide.go: a peer that did not see our rekey
		sa.e.log.Info("peer deleted the IKE SA", "gateway", sa.peer.Gateway, "peer", sa.remote.Addr())
		sa.failure = ike.Failf(ike.CausePeerDeleted, "deleted by the peer")
		if kept := sa.e.keptBeside(sa); kept != nil {
			kept.carryVPNs(sa) // dupvpns.go: a duplicate's VPNs stay up on the IKE SA kept
		}
		sa.close()
	}
}

// sendDelete tells the peer the IKE SA (and its Child SAs) is going; the
// SA is closed when the answer comes or the retransmissions give up.
func (sa *ikeSA) sendDelete() {
	if sa.state != stateEstablished || sa.pending != nil {
		sa.close()
		return
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, []wire.Payload{&wire.Delete{Protocol: wire.ProtocolIKE}})
	if err != nil {
		sa.close()
		return
	}
	sa.closing = true
	sa.request(b, sa.nextID)
}
