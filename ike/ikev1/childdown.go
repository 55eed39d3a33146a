package ikev1

import "ipsecgw/ike"

// An IPsec SA pair that goes away while its ISAKMP SA stays (the peer's
// DELETE, our own: clear, a VPN removed, vpn-monitor, a hard lifetime
// without a successor) reports ChildDown for its VPN and inbound SPI, as
// the close of its ISAKMP SA does for each of its pairs; one a Quick Mode
// rekey replaced does not, on either path (ike.Superseded).

// childDown reports the removed pair c down (f: why; zero: it did not
// fail), unless a rekey replaced it.
func (sa *isakmpSA) childDown(c *ike.ChildSA, f ike.Failure) {
	if sa.e.superseded.Forget(c) {
		return
	}
	sa.e.emit(ike.ChildDown, sa.peer.vpnOf(c), sa.remote.Addr(), spiHex(c.InboundSPI), f)
}
