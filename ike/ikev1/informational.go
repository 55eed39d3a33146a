package ikev1

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
)

// Informational exchanges (RFC 2409 §5.7): a protected notification or
// DELETE, one message, HASH(1) = prf(SKEYID_a, M-ID | N/D). Dead peer
// detection (RFC 3706) rides on them: R-U-THERE and R-U-THERE-ACK.

// sendInformational sends one protected Informational message.
func (sa *isakmpSA) sendInformational(pl v1.Payload) {
	if sa.keys == nil || sa.cipher == nil {
		return
	}
	id, err := sa.e.newMessageID()
	if err != nil {
		return
	}
	c, err := v1.BuildChain([]v1.Payload{v1.ReserveHash(sa.chosen.Hash.OutputSize), pl})
	if err != nil {
		return
	}
	if err := c.SetHash(0, sa.prf(sa.keys.A, msgIDBytes(id), c.RawAfter(0))); err != nil {
		return
	}
	b, _, err := sa.sealChain(sa.header(v1.Informational, id, true), c, sa.cipher.phase2IV(sa.iv, id))
	if err != nil {
		return
	}
	sa.transmit(b)
}

// informational takes a protected Informational message.
func (sa *isakmpSA) informational(msg *v1.Message) {
	id := msg.Header.MessageID
	c, _, err := sa.openMessage(msg, sa.cipher.phase2IV(sa.iv, id))
	if err != nil {
		sa.e.drops.Unauthenticated.Add(1)
		sa.e.log.Info("Informational message does not decrypt; dropped", "peer", sa.remote, "err", err)
		return
	}
	hash, ok := c.Payloads[0].(*v1.Hash)
	if !ok || !bytes.Equal(hash.Data, sa.prf(sa.keys.A, msgIDBytes(id), c.RawAfter(0))) {
		sa.e.drops.Unauthenticated.Add(1)
		sa.e.log.Warn("Informational message HASH does not verify; dropped", "peer", sa.remote)
		return
	}
	sa.lastHeard, sa.dpdUnanswered = sa.e.clock.Now(), 0
	for _, pl := range c.Payloads[1:] {
		switch p := pl.(type) {
		case *v1.Notify:
			sa.notification(p)
		case *v1.Delete:
			if sa.deleted(p) {
				return // the ISAKMP SA is gone
			}
		}
	}
}

func (sa *isakmpSA) notification(n *v1.Notify) {
	switch n.Type {
	case v1.R_U_THERE:
		if seq, ok := n.DPDSequence(); ok {
			sa.sendInformational(v1.DPD(v1.R_U_THERE_ACK, sa.ckyI, sa.ckyR, seq))
		}
	case v1.R_U_THERE_ACK:
		// lastHeard is set: the peer is alive.
	default:
		if n.Type.IsError() {
			sa.e.log.Warn("IKEv1 peer sent an error notification", "gateway", sa.peer.Gateway, "type", n.Type)
			// A refused Quick Mode of ours ends that exchange.
			for id, qm := range sa.qms {
				if qm.initiator && qm.lastReply == nil && len(n.SPI) == 4 && binary.BigEndian.Uint32(n.SPI) == qm.inSPI {
					sa.quickModeFailed(qm, ike.Failf(notifyCause(n.Type), "peer refused Quick Mode: %s", n.Type).Received(uint16(n.Type)))
					delete(sa.qms, id)
				}
			}
			if len(sa.children) == 0 && len(sa.qms) == 0 && !sa.failure.Failed() {
				sa.failure = ike.Failf(notifyCause(n.Type), "peer refused: %s", n.Type).Received(uint16(n.Type))
			}
		}
	}
}

// deleted handles a DELETE; it reports whether the ISAKMP SA itself went.
func (sa *isakmpSA) deleted(d *v1.Delete) bool {
	switch d.Protocol {
	case v1.ProtocolESP:
		for _, spi := range d.SPIs {
			if len(spi) != 4 {
				continue
			}
			// The peer names its inbound SPIs: our outbound ones.
			out := binary.BigEndian.Uint32(spi)
			for _, c := range sa.children {
				if c.OutboundSPI == out {
					sa.removeChild(c, false)
					break
				}
			}
		}
	case v1.ProtocolISAKMP:
		sa.e.log.Info("peer deleted the IKEv1 SA", "gateway", sa.peer.Gateway, "peer", sa.remote.Addr())
		// Its IPsec SAs live on under a newer ISAKMP SA to the same peer,
		// if there is one (a phase 1 rekey), else they go with it. The
		// newer one may still be in Main Mode here: the responder of a
		// phase 1 rekey deletes the old SA as soon as it sent message 6,
		// and that DELETE can be handled before message 6 (another
		// cookie, so another of the daemon's workers). Its IPsec SAs wait
		// under it and go with it if it fails.
		n := sa.newerSibling()
		if n == nil {
			n = sa.negotiatingSibling()
		}
		if n != nil {
			n.children, sa.children = append(n.children, sa.children...), nil
		}
		sa.closing = n != nil
		sa.failure = ike.Failf(ike.CausePeerDeleted, "deleted by the peer")
		sa.close()
		return true
	}
	return false
}

// newerSibling is another established ISAKMP SA to the same peer.
func (sa *isakmpSA) newerSibling() *isakmpSA {
	for _, o := range sa.e.sas {
		if o != sa && o.peer == sa.peer && o.state == stateEstablished {
			return o
		}
	}
	return nil
}

// negotiatingSibling is another ISAKMP SA to the same peer still in Main
// Mode.
func (sa *isakmpSA) negotiatingSibling() *isakmpSA {
	for _, o := range sa.e.sas {
		if o != sa && o.peer == sa.peer && o.state != stateEstablished && o.state != stateDead {
			return o
		}
	}
	return nil
}

// takeOverChildren: a new ISAKMP SA (a phase 1 rekey) takes the IPsec SAs
// of the older one to the same peer, which is then deleted.
func (sa *isakmpSA) takeOverChildren() {
	for _, o := range sa.e.sas {
		if o == sa || o.peer != sa.peer || o.state != stateEstablished {
			continue
		}
		// Negotiated at the same time by the two sides: a duplicate. A
		// rekey or renewal starts after the SA it replaces is up, but the
		// responder of a new SA cannot tell when the peer began it: the
		// peer's message 1 may have been sent before our SA came up and
		// arrived after (we would take it for a rekey and delete ours,
		// while the peer, who knows it a duplicate, deletes the other:
		// none left). So an SA the peer began within duplicateWindow of
		// ours coming up counts as a duplicate too, settled the same way
		// on both sides; no peer rekeys a phase 1 that young.
		if o.initiator != sa.initiator && sa.started.Sub(o.established) < duplicateWindow {
			sa.settleDuplicate(o)
			continue
		}
		sa.children, o.children = append(sa.children, o.children...), nil
		o.closing = true
		o.failure = ike.Failf(ike.CauseLocal, "replaced by a new IKEv1 SA")
		o.sendInformational(v1.DeleteISAKMP(o.ckyI, o.ckyR))
		o.close()
	}
}

// duplicateWindow: a new ISAKMP SA begun this soon after the other side's
// SA with the same peer came up is a simultaneous initiation, not a rekey.
const duplicateWindow = 2 * time.Second

// settleDuplicate: both sides initiated at once and two ISAKMP SAs are up,
// one we initiated and one the peer did. Both sides keep the one with the
// lower initiator cookie and move the other's IPsec SAs to it; the other
// is deleted by its initiator, so one DELETE goes out and both sides
// agree. (Each side taking over the older SA, as a rekey does, could make
// each delete a different one and leave none.)
func (sa *isakmpSA) settleDuplicate(o *isakmpSA) {
	keep, drop := sa, o
	if o.ckyI < sa.ckyI {
		keep, drop = o, sa
	}
	keep.children, drop.children = append(keep.children, drop.children...), nil
	if drop.initiator {
		sa.e.log.Info("duplicate IKEv1 SA from a simultaneous initiation; deleting ours", "gateway", sa.peer.Gateway,
			"kept", fmt.Sprintf("%016x", keep.ckyI), "deleted", fmt.Sprintf("%016x", drop.ckyI))
		drop.closing = true
		drop.failure = ike.Failf(ike.CauseLocal, "duplicate of a simultaneous initiation")
		drop.sendInformational(v1.DeleteISAKMP(drop.ckyI, drop.ckyR))
		drop.close()
	}
}

// armDPD decides every DPD interval whether to probe the peer with
// R-U-THERE (dpdDue); a probe unanswered is sent again each interval, and
// a threshold of unanswered probes declares the peer dead (RFC 3706).
func (sa *isakmpSA) armDPD() {
	p := sa.peer
	if p.DPDInterval <= 0 || !sa.peerDPD {
		return
	}
	threshold := p.DPDThreshold
	if threshold <= 0 {
		threshold = 5
	}
	sa.after(p.DPDInterval, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state != stateEstablished {
			return
		}
		// An answer resets dpdUnanswered: probes go on until one comes.
		if sa.dpdUnanswered > 0 || sa.dpdDue() {
			if sa.dpdUnanswered >= threshold {
				sa.e.emit(ike.PeerDead, sa.peer, sa.remote.Addr(), sa.spis(), ike.Failf(ike.CausePeerDead, "no answer to dead peer detection"))
				sa.fail(ike.Failf(ike.CausePeerDead, "peer dead: no answer to %d dead peer detection probes", sa.dpdUnanswered))
				return
			}
			sa.dpdSeq++
			sa.dpdUnanswered++
			sa.sendInformational(v1.DPD(v1.R_U_THERE, sa.ckyI, sa.ckyR, sa.dpdSeq))
		}
		sa.armDPD()
	})
}

// dpdDue decides whether to start probing, by the gateway's
// dead-peer-detection mode (ike.DPDDue); with no mode configured, a peer
// quiet for the interval is probed whatever the tunnel's traffic.
func (sa *isakmpSA) dpdDue() bool {
	quiet := sa.e.clock.Now().Sub(sa.lastHeard) >= sa.peer.DPDInterval
	inst := sa.e.installer
	if sa.peer.DPDMode == ike.DPDDefault {
		inst = nil // no counts: any quiet peer
	}
	return sa.dpd.Due(sa.peer.DPDMode, quiet, inst, sa.children)
}

// phase1Timers renegotiate phase 1 before its lifetime ends (the side
// that initiated at 85-90 % of it, the other, if it keeps the tunnel up,
// at 92-97 %; neither with responder-only-no-rekey) and end it at the
// lifetime.
func (sa *isakmpSA) phase1Timers() {
	life := sa.chosen.Lifetime
	if life <= 0 {
		return
	}
	lo := 0.85
	if !sa.initiator {
		lo = 0.92
	}
	soft := time.Duration(float64(life) * (lo + 0.05*rand.Float64()))
	sa.armPhase1Timers(soft, life)
}

// armPhase1Timers arms phase 1's rekey in soft and its end in life
// (phase1Timers, and an imported SA's from its deadlines: export.go).
func (sa *isakmpSA) armPhase1Timers(soft, life time.Duration) {
	now := sa.e.clock.Now()
	sa.rekeyAt, sa.expireAt = now.Add(soft), now.Add(life) // export.go
	if (sa.initiator || sa.peer.keepUp()) && !sa.peer.NoRekey {
		sa.after(soft, func() {
			sa.e.mu.Lock()
			defer sa.e.mu.Unlock()
			if sa.state == stateEstablished && !sa.e.closed && sa.e.peers[sa.peer.Remote] == sa.peer {
				sa.e.log.Info("IKEv1 SA lifetime: negotiating a new one", "gateway", sa.peer.Gateway)
				sa.e.initiate(sa.peer)
			}
		})
	}
	sa.after(life, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state == stateEstablished {
			if n := sa.newerSibling(); n != nil {
				n.children, sa.children = append(n.children, sa.children...), nil
			}
			sa.failure = ike.Failf(ike.CauseLocal, "lifetime expired")
			sa.deleteAndClose()
		}
	})
}
