package view

import (
	"net/netip"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/dataplane"
	"ipsecgw/show"
)

// TestInstalledSALifesize: an SA with a lifetime in bytes shows what is
// left of it from the data plane's count: to the hard limit, to where the
// rekey will start (lowered at a high rate) and to the configured soft
// limit; one without shows the proposal's unchanged.
func TestInstalledSALifesize(t *testing.T) {
	base := show.IPsecSA{ByteLifetime: true, LifesizeKB: 1 << 20, SoftLifesizeKB: 1 << 19}
	list := []daemon.SAStatus{
		{VPN: "v", Direction: "inbound", SPI: "0x00000100",
			Lifesize: &dataplane.Lifesize{Carried: 300 << 20, Soft: 700 << 20, Configured: 870 << 20, Hard: 1 << 30}},
		{VPN: "v", Direction: "outbound", SPI: "0x00000200",
			Lifesize: &dataplane.Lifesize{Carried: 2 << 30, Soft: 700 << 20, Configured: 870 << 20, Hard: 1 << 30}},
		{VPN: "w", Direction: "inbound", SPI: "0x00000300"},
	}
	var local, remote netip.Addr
	sas := installedSAs(base, list, "v", time.Time{}, &local, &remote, nil)
	if len(sas) != 2 {
		t.Fatalf("%d SAs", len(sas))
	}
	in, out := sas[0], sas[1]
	if !in.ByteLifetime || in.LifesizeKB != 724<<10 || in.SoftLifesizeKB != 400<<10 || in.SoftConfiguredKB != 570<<10 {
		t.Errorf("inbound: %+v; want 741376, 409600 and 583680 kilobytes left", in)
	}
	if out.LifesizeKB != 0 || out.SoftLifesizeKB != 0 || out.SoftConfiguredKB != 0 {
		t.Errorf("outbound past its limits: %+v; want nothing left", out)
	}
	w := installedSAs(base, list, "w", time.Time{}, &local, &remote, nil)
	if len(w) != 1 || w[0].LifesizeKB != base.LifesizeKB || w[0].SoftLifesizeKB != base.SoftLifesizeKB {
		t.Errorf("without the data plane's count: %+v", w)
	}
}
