package ikev2

import (
	"fmt"
	"net/netip"

	"ipsecgw/ike"
)

// What the management plane asks of the engine: a peer configured away,
// SAs cleared by an operator.

// RemovePeer forgets the peer at remote (the only gateway with that
// address, else RemovePeerFrom).
func (e *Engine) RemovePeer(remote netip.Addr) { e.RemovePeerFrom(netip.Addr{}, remote) }

// RemovePeerFrom forgets the peer at remote whose gateway runs from local:
// its IKE SAs are deleted (a DELETE goes to the peer for each established
// one) and their Child SAs removed from the data plane. Nothing is
// re-negotiated.
func (e *Engine) RemovePeerFrom(local, remote netip.Addr) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.peerFor(local, remote)
	if err != nil {
		return
	}
	e.removePeerKeys(p)
	for _, sa := range e.sasOf(p) {
		if sa.state == stateEstablished {
			sa.sendDelete()
		}
		sa.closing = true // configured away: no re-initiation
		sa.failure = ike.Failf(ike.CauseLocal, "peer removed from the configuration")
		sa.close()
	}
}

// Clear deletes the IKE SAs that match (with their Child SAs), as "clear
// security ike security-associations" does: a DELETE goes to the peer, and
// a tunnel kept up (establish-tunnels immediately) is negotiated again. It
// returns how many it cleared.
func (e *Engine) Clear(match func(ike.SAInfo) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for spi, sa := range e.sas {
		if spi != sa.localSPI() || sa.state == stateDead || !match(sa.info()) {
			continue
		}
		if sa.state == stateEstablished {
			sa.sendDelete()
		}
		// sendDelete marks the SA closing, which would stop the
		// re-initiation an operator's clear expects.
		sa.closing = false
		sa.failure = ike.Failf(ike.CauseLocal, "cleared by the operator")
		sa.close()
		n++
	}
	return n
}

// sasOf lists the live IKE SAs of a peer.
func (e *Engine) sasOf(p *peer) []*ikeSA {
	var out []*ikeSA
	for spi, sa := range e.sas {
		if sa.peer == p && spi == sa.localSPI() && sa.state != stateDead {
			out = append(out, sa)
		}
	}
	return out
}

// ChildBytesReached is the installer's report that a direction of Child SA
// c carried its soft (rekey) or hard (remove) lifetime in bytes.
func (e *Engine) ChildBytesReached(c *ike.ChildSA, hard bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for spi, sa := range e.sas {
		if spi != sa.localSPI() || !sa.hasChild(c) {
			continue
		}
		if hard {
			sa.e.log.Warn("Child SA lifetime in bytes reached without a rekey; removed", "vpn", c.VPN, "in", spiHex(c.InboundSPI))
			sa.removeChild(c.OutboundSPI)
		} else if v := sa.peer.vpnOf(c); v != nil && sa.state == stateEstablished && (sa.rekey == nil || sa.rekey.old != c) && !v.NoRekey {
			// responder-only-no-rekey leaves the rekey to the peer, for
			// a byte lifetime as for a time one.
			sa.e.log.Info("Child SA soft lifetime in bytes reached", "vpn", c.VPN, "in", spiHex(c.InboundSPI))
			sa.startRekey(c)
		}
		return
	}
}

// dedupe settles simultaneous initiations: when both sides of a kept-up
// tunnel initiate at once, two IKE SAs (each with a Child SA) come up, one
// we initiated and one the peer did. Both sides keep the one whose
// initiator SPI is lower, and the initiator of the other deletes it, so
// one DELETE goes out and both sides end with the same IKE SA. Several
// SAs of one role are not duplicates (a load generator, or an IKE SA
// rekey, which replaces its SA by other means).
func (e *Engine) dedupe(p *peer) {
	if r := e.roles[p]; r == nil || r[0] == 0 || r[1] == 0 {
		return
	}
	var ours, theirs []*ikeSA
	for spi, sa := range e.sas {
		if sa.peer != p || spi != sa.localSPI() || !sa.carries() || sa.ikeRekey != nil { // rekeywindow.go
			continue
		}
		if sa.initiator {
			ours = append(ours, sa)
		} else {
			theirs = append(theirs, sa)
		}
	}
	for _, mine := range ours {
		for _, other := range theirs {
			if other.spiI < mine.spiI && mine.pending != nil {
				mine.dedupeLater() // dupike.go: its DELETE waits for the exchange out
				break
			}
			if other.spiI < mine.spiI {
				e.log.Info("duplicate IKE SA from a simultaneous initiation; deleting ours", "gateway", p.Gateway,
					"kept", fmt.Sprintf("%016x", other.spiI), "deleted", fmt.Sprintf("%016x", mine.spiI))
				mine.failure = ike.Failf(ike.CauseLocal, "duplicate of a simultaneous initiation")
				other.carryVPNs(mine) // dupvpns.go: its VPNs stay up on ours
				mine.sendDelete()
				break
			}
			if other.spiI > mine.spiI {
				e.awaitPeerDedupe(mine, other) // dupike.go: a peer that keeps its duplicate
			}
		}
	}
}

// track counts a new IKE SA in roles; untrack uncounts a closed one.
func (e *Engine) track(sa *ikeSA) {
	r := e.roles[sa.peer]
	if r == nil {
		r = &[2]int{}
		e.roles[sa.peer] = r
	}
	r[roleIndex(sa)]++
	sa.tracked = true
}

func (e *Engine) untrack(sa *ikeSA) {
	if !sa.tracked {
		return
	}
	sa.tracked = false
	if r := e.roles[sa.peer]; r != nil {
		r[roleIndex(sa)]--
		if r[0] == 0 && r[1] == 0 {
			delete(e.roles, sa.peer)
		}
	}
}

func roleIndex(sa *ikeSA) int {
	if sa.initiator {
		return 0
	}
	return 1
}
