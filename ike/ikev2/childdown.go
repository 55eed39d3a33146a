package ikev2

import "ipsecgw/ike"

// A Child SA that goes away while its IKE SA stays (the peer's DELETE, our
// own: clear, a VPN removed, vpn-monitor, a duplicate's tie-break, a hard
// lifetime without a successor) reports ChildDown for its VPN and inbound
// SPI, as the close of its IKE SA does for each of its Child SAs. One
// rule for both: a Child SA a rekey replaced is not down (the tunnel
// stays up and its successor reported ChildRekeyed), so it is marked
// superseded when the successor is installed and its removal, whoever
// makes it, reports nothing.

// supersede marks c as replaced by a rekey's new Child SA.
func (e *Engine) supersede(c *ike.ChildSA) {
	if c == nil {
		return
	}
	if e.superseded == nil {
		e.superseded = map[*ike.ChildSA]struct{}{}
	}
	e.superseded[c] = struct{}{}
}

// childDown reports the removed Child SA c down (f: why; zero: it did not
// fail), unless a rekey replaced it.
func (sa *ikeSA) childDown(c *ike.ChildSA, f ike.Failure) {
	if _, ok := sa.e.superseded[c]; ok {
		delete(sa.e.superseded, c)
		return
	}
	sa.emitFor(c.VPN, ike.ChildDown, spiHex(c.InboundSPI), f)
}
