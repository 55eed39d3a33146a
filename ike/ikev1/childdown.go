package ikev1

import "ipsecgw/ike"

// An IPsec SA pair that goes away while its ISAKMP SA stays (the peer's
// DELETE, our own: clear, a VPN removed, vpn-monitor, a hard lifetime
// without a successor) reports ChildDown for its VPN and inbound SPI, as
// the close of its ISAKMP SA does for each of its pairs. One rule for
// both, IKEv2's (ike/ikev2/childdown.go): a pair a Quick Mode rekey
// replaced is not down (the tunnel stays up and its successor reported
// ChildRekeyed), so it is marked superseded when the successor is
// installed and its removal, whoever makes it, reports nothing.

// supersede marks c as replaced by a rekey's new pair.
func (e *Engine) supersede(c *ike.ChildSA) {
	if c == nil {
		return
	}
	if e.superseded == nil {
		e.superseded = map[*ike.ChildSA]struct{}{}
	}
	e.superseded[c] = struct{}{}
}

// childDown reports the removed pair c down (f: why; zero: it did not
// fail), unless a rekey replaced it.
func (sa *isakmpSA) childDown(c *ike.ChildSA, f ike.Failure) {
	if _, ok := sa.e.superseded[c]; ok {
		delete(sa.e.superseded, c)
		return
	}
	sa.e.emit(ike.ChildDown, sa.peer.vpnOf(c), sa.remote.Addr(), spiHex(c.InboundSPI), f)
}
