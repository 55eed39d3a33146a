package ikev2

import (
	"fmt"

	"ipsecgw/ike"
)

// emit reports an event about sa, if anyone listens; f is why it failed
// (zero: it did not).
func (sa *ikeSA) emit(kind ike.EventKind, spi string, f ike.Failure) {
	sa.emitFor(sa.peer.VPN, kind, spi, f)
}

// emitFor reports an event about a Child SA of the named VPN (vpns.go).
func (sa *ikeSA) emitFor(vpn string, kind ike.EventKind, spi string, f ike.Failure) {
	if sa.e.events == nil {
		return
	}
	sa.e.events(ike.Event{Kind: kind, Time: sa.e.clock.Now(), Gateway: sa.peer.Gateway, VPN: vpn,
		Remote: sa.remote.Addr(), SPI: spi, Failure: f})
}

func (sa *ikeSA) ikeSPIs() string { return fmt.Sprintf("%016x:%016x", sa.spiI, sa.spiR) }
