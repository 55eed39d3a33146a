package ikev2

import (
	"math/rand/v2"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// Keeping an IKE SA alive: dead peer detection, the lifetimes that start
// rekeys (CREATE_CHILD_SA, createchild.go) and removals, and negotiating
// again after a failure when the tunnel is to stay up.

// startKeepalive arms DPD once the IKE SA is up.
func (sa *ikeSA) startKeepalive() {
	sa.lastHeard = sa.e.clock.Now()
	if sa.peer.DPDInterval > 0 {
		sa.armDPD()
	}
}

func (sa *ikeSA) armDPD() {
	sa.after(sa.peer.DPDInterval, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state != stateEstablished {
			return
		}
		if sa.pending == nil && sa.dpdDue() {
			sa.probe()
		}
		sa.armDPD()
	})
}

// dpdDue decides, once per DPD interval, whether to probe the peer, by the
// gateway's dead-peer-detection mode (ike.DPDDue).
func (sa *ikeSA) dpdDue() bool {
	quiet := sa.e.clock.Now().Sub(sa.lastHeard) >= sa.peer.DPDInterval
	return sa.dpd.Due(sa.peer.DPDMode, quiet, sa.e.installer, sa.children)
}

// probe sends a liveness check: an empty INFORMATIONAL request (§1.4),
// retransmitted every DPD interval up to the threshold.
func (sa *ikeSA) probe() {
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, nil)
	if err != nil {
		return
	}
	threshold := sa.peer.DPDThreshold
	if threshold <= 0 {
		threshold = 5
	}
	sa.probing = true
	sa.requestEvery(b, sa.nextID, sa.peer.DPDInterval, threshold)
}

// childTimers schedules the rekey of a new Child SA at its soft lifetime
// and its removal at the hard one, and records both (ChildLifetimes). The soft lifetime is 85-90 % of the
// hard one on the IKE SA's initiator and 90-95 % on the responder, so the
// two sides seldom rekey at once (RFC 7296 §2.8.1's collisions).
func (sa *ikeSA) childTimers(c *ike.ChildSA) {
	v := sa.peer.vpnOf(c) // vpns.go
	if v == nil {
		return
	}
	life := v.ChildLifetime
	if life <= 0 {
		return
	}
	lo := 0.85
	if !sa.initiator {
		lo = 0.90
	}
	soft := time.Duration(float64(life) * (lo + 0.05*rand.Float64()))
	// Lifetimes run from the Child SA's birth, also when a rekeyed IKE SA
	// takes it over (which keeps the moments drawn first).
	soft, life = sa.e.lifetimes.Schedule(c, c.Born, soft, life).Delays(sa.e.clock.Now())
	sa.after(soft, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state == stateEstablished && sa.hasChild(c) && !v.NoRekey {
			sa.startRekey(c)
		}
	})
	sa.after(life, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.hasChild(c) {
			sa.e.log.Warn("Child SA hard lifetime reached without a rekey; removed", "vpn", c.VPN, "in", spiHex(c.InboundSPI))
			sa.removeChild(c.OutboundSPI)
		}
	})
}

// ChildLifetimes reports when each installed Child SA is to be rekeyed
// and removed, as its timers are armed; a Child SA without timers (no
// lifetime-seconds) is not listed.
func (e *Engine) ChildLifetimes() []ike.ScheduledChild {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []ike.ScheduledChild
	for spi, sa := range e.sas {
		if spi != sa.localSPI() {
			continue
		}
		for _, c := range sa.children {
			t, ok := e.lifetimes[c]
			if !ok {
				continue
			}
			name := c.VPN
			if v := sa.peer.vpnOf(c); v != nil {
				name = v.VPN
			}
			out = append(out, ike.ScheduledChild{VPN: name, InboundSPI: c.InboundSPI, OutboundSPI: c.OutboundSPI, ChildLifetime: t})
		}
	}
	return out
}

func (sa *ikeSA) hasChild(c *ike.ChildSA) bool {
	for _, x := range sa.children {
		if x == c {
			return true
		}
	}
	return false
}

// reinitiateLater negotiates a kept-up tunnel again after its IKE SA ended,
// unless another IKE SA to the peer is up (a rekeyed one) or the engine is
// shutting down.
func (e *Engine) reinitiateLater(sa *ikeSA) {
	if e.closed || !sa.peer.keepUp() || sa.closing {
		return
	}
	p := sa.peer
	e.clock.AfterFunc(ike.ReinitiateDelay, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			return
		}
		for _, o := range e.sas {
			if o.peer == p && o.state != stateDead {
				return
			}
		}
		e.log.Info("negotiating the tunnel again", "gateway", p.Gateway)
		if err := e.initiate(p); err != nil {
			e.log.Warn("re-initiation", "gateway", p.Gateway, "err", err)
		}
	})
}

// ikeTimers rekeys the IKE SA before its lifetime ends: the original
// initiator at 85-90 %, the responder only at 95-98 % (should the
// initiator not), which keeps simultaneous rekeys rare.
func (sa *ikeSA) ikeTimers() {
	life := sa.peer.IKELifetime
	if life <= 0 || sa.peer.NoRekey {
		return
	}
	lo, span := 0.85, 0.05
	if !sa.initiator {
		lo, span = 0.95, 0.03
	}
	soft := time.Duration(float64(life) * (lo + span*rand.Float64()))
	soft = max(soft-sa.e.clock.Now().Sub(sa.established), 0) // from its birth, also when resumed (export.go)
	sa.after(soft, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state == stateEstablished {
			sa.startIKERekey()
		}
	})
}
