package view

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/show"
)

// TestInstalledSATimeLifetimes: an SA counts down to the moments its
// status says the engine scheduled (a rekey past reads 0, not negative);
// an IKE SA without them reads Unknown and a manual SA Unlimited, in the
// detail and brief views, text and XML: nothing is guessed.
func TestInstalledSATimeLifetimes(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	list := []daemon.SAStatus{
		{VPN: "v", Direction: "inbound", SPI: "0x00000100", RekeyAt: now.Add(2798*time.Second + 500*time.Millisecond), ExpiresAt: now.Add(3405 * time.Second)},
		{VPN: "v", Direction: "outbound", SPI: "0x00000200", RekeyAt: now.Add(-time.Second), ExpiresAt: now.Add(40 * time.Second)},
		{VPN: "u", Direction: "inbound", SPI: "0x00000300"},
		{VPN: "m", Direction: "inbound", SPI: "0x00000400"},
	}
	var local, remote netip.Addr
	v := installedSAs(show.IPsecSA{}, list, "v", now, &local, &remote, nil)
	if len(v) != 2 || v[0].HardLifetime != 3405*time.Second || v[0].SoftLifetime != 2798*time.Second+500*time.Millisecond || v[0].LifetimeUnknown ||
		v[1].HardLifetime != 40*time.Second || v[1].SoftLifetime != 0 {
		t.Fatalf("scheduled: %+v", v)
	}
	u := installedSAs(show.IPsecSA{}, list, "u", now, &local, &remote, nil)
	m := installedSAs(show.IPsecSA{Manual: true}, list, "m", now, &local, &remote, nil)
	if len(u) != 1 || !u[0].LifetimeUnknown || len(m) != 1 || m[0].LifetimeUnknown {
		t.Fatalf("unscheduled %+v, manual %+v", u, m)
	}

	view := show.IPsecView{ActiveTunnels: 3, IPsecSAs: 4, Tunnels: []show.IPsecTunnel{
		{ID: 500001, VPNName: "v", SAs: v}, {ID: 500002, VPNName: "u", SAs: u}, {ID: 500003, VPNName: "m", SAs: m}}}
	detail := show.IPsecSecurityAssociations(view, show.IPsecQuery{Style: show.StyleDetail})
	brief := show.IPsecSecurityAssociations(view, show.IPsecQuery{})
	for _, c := range []struct{ what, in, want string }{
		{"detail", detail.Text(), "    Hard lifetime: Expires in 3405 seconds\n    Lifesize Remaining:  Unlimited\n    Soft lifetime: Expires in 2798 seconds\n"},
		{"detail", detail.Text(), "    Hard lifetime: Expires in 40 seconds\n    Lifesize Remaining:  Unlimited\n    Soft lifetime: Expires in 0 seconds\n"},
		{"detail", detail.Text(), "SPI: 0x00000300, AUX-SPI: 0\n                              , VPN Monitoring: -\n    Hard lifetime: Unknown\n    Lifesize Remaining:  Unlimited\n    Soft lifetime: Unknown\n"},
		{"detail", detail.Text(), "SPI: 0x00000400, AUX-SPI: 0\n                              , VPN Monitoring: -\n    Hard lifetime: Unlimited\n    Lifesize Remaining:  Unlimited\n    Soft lifetime: Unlimited\n"},
		{"brief", brief.Text(), " 0x00000100 3405/ unlim "},
		{"brief", brief.Text(), " 0x00000300 -/    unlim "},
		{"brief", brief.Text(), " 0x00000400 unlim/unlim "},
		{"detail XML", detail.XML(), "<sa-hard-lifetime>Unknown</sa-hard-lifetime>"},
		{"detail XML", detail.XML(), "<sa-soft-lifetime>Unlimited</sa-soft-lifetime>"},
		{"brief XML", brief.XML(), "<sa-hard-lifetime>-</sa-hard-lifetime>"},
		{"brief XML", brief.XML(), "<sa-hard-lifetime>unlim</sa-hard-lifetime>"},
	} {
		if !strings.Contains(c.in, c.want) {
			t.Errorf("%s: no %q in\n%s", c.what, c.want, c.in)
		}
	}
}
