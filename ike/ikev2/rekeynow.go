package ikev2

import (
	"ipsecgw/ike"
)

// The operator's rekeys ("request security ike security-associations
// rekey", "request security ipsec security-associations rekey"; ours:
// Junos has no such command): the CREATE_CHILD_SA a lifetime would start,
// started now, with the additional key exchanges (IKE_FOLLOWUP_KE) and
// perfect forward secrecy of the configuration, make-before-break as
// always.

// RekeyIKE starts a rekey of each established IKE SA that matches. It
// returns how many it started; an SA already being rekeyed or deleted is
// left alone. One waiting for another exchange to end starts when it has.
func (e *Engine) RekeyIKE(match func(ike.SAInfo) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var todo []*ikeSA
	for spi, sa := range e.sas {
		if spi != sa.localSPI() || !sa.carries() || sa.ikeRekey != nil || !match(sa.info()) {
			continue
		}
		todo = append(todo, sa) // startIKERekey adds to e.sas
	}
	for _, sa := range todo {
		sa.e.log.Info("IKE SA rekey requested by the operator", "gateway", sa.peer.Gateway)
		sa.startIKERekey()
	}
	return len(todo)
}

// RekeyChildren starts a rekey of each Child SA of the VPNs that match,
// under their established IKE SAs. It returns how many it started; a
// Child SA already being rekeyed or deleted is left alone.
func (e *Engine) RekeyChildren(vpn func(string) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for spi, sa := range e.sas {
		if spi != sa.localSPI() || sa.state != stateEstablished || sa.closing {
			continue
		}
		for _, c := range append([]*ike.ChildSA(nil), sa.children...) {
			if !vpn(c.VPN) || c == sa.deleting || sa.rekey != nil && sa.rekey.old == c {
				continue
			}
			sa.e.log.Info("Child SA rekey requested by the operator", "vpn", c.VPN, "in", spiHex(c.InboundSPI))
			sa.startRekey(c)
			n++
		}
	}
	return n
}
