package ikev2

import "ipsecgw/ike"

// A Child SA that goes away while its IKE SA stays (the peer's DELETE, our
// own: clear, a VPN removed, vpn-monitor, a duplicate's tie-break, a hard
// lifetime without a successor) reports ChildDown for its VPN and inbound
// SPI, as the close of its IKE SA does for each of its Child SAs; one a
// rekey replaced does not, on either path (ike.Superseded).

// childDown reports the removed Child SA c down (f: why; zero: it did not
// fail), unless a rekey replaced it.
func (sa *ikeSA) childDown(c *ike.ChildSA, f ike.Failure) {
	if sa.e.superseded.Forget(c) {
		return
	}
	sa.emitFor(c.VPN, ike.ChildDown, spiHex(c.InboundSPI), f)
}
