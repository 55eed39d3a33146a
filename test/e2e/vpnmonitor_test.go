package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/test/netns"
	"ipsecgw/vpnmon"
)

// TestVPNMonitor: gw1 monitors its IKEv2 (and IKEv1) VPN with echoes to gw2's st0.1
// address every 2 s, threshold 3. While the tunnel works the echoes are
// answered and the VPN is up (Mon U). Then gw1 stops receiving ESP
// (nftables drops it on gw1's input) while IKE still passes, so dead peer
// detection has nothing to notice: the monitor declares the VPN down (Mon
// D, st0.1 down and its route gone), its SAs are cleared and negotiated
// again (new SPIs). Once ESP passes again the tunnel comes back: st0.1
// up, its route back, echoes answered, ping from h1 to h2 through it.
func TestVPNMonitor(t *testing.T) {
	netns.RequireRoot(t)
	for _, version := range []string{"v2-only", "v1-only"} {
		t.Run(version, func(t *testing.T) { testVPNMonitor(t, version) })
	}
}

func testVPNMonitor(t *testing.T, version string) {
	tp := newTopology(t)
	tp.negotiated = true
	var cfgs [2]string
	for i := range cfgs {
		cfgs[i] = strings.Replace(ikeConfigAuth(i, "aes-256-cbc", "sha-256", "group14", "aes-128-cbc", "hmac-sha1-96", "test123"),
			"version v2-only", "version "+version, 1) +
			fmt.Sprintf("set interfaces st0.1 family inet address 169.254.0.%d/30\n", i+1)
	}
	cfgs[0] += "set security ipsec vpn ipsec_vpn vpn-monitor source-interface st0.1 destination-ip 169.254.0.2\n" +
		"set security ipsec vpn-monitor-options interval 2 threshold 3\n"
	tp.startConfigs(cfgs)
	tp.waitTunnel("h1", "198.18.2.2")

	gw1 := tp.gws[0]
	up := tp.waitMonitor(gw1, "answered echoes", 15*time.Second, func(m vpnmon.Status, _ daemon.Status) bool {
		return m.State == vpnmon.StateUp && m.Replies >= 2
	})
	spis := inboundSPIs(up)
	if out := tp.mustCLI(gw1, "show security ipsec security-associations"); !strings.Contains(out, " U root ") {
		t.Fatalf("Mon column not U:\n%s", out)
	}

	// ESP from gw2 no longer reaches gw1; IKE (UDP 500) does.
	tp.net.Exec("gw1", "nft", "add table inet vpnmon_test")
	tp.net.Exec("gw1", "nft", "add chain inet vpnmon_test in { type filter hook input priority 0 ; }")
	tp.net.Exec("gw1", "nft", "add rule inet vpnmon_test in meta l4proto esp drop")
	sawDown := false
	down := tp.waitMonitor(gw1, "the VPN declared down", 30*time.Second, func(m vpnmon.Status, st daemon.Status) bool {
		if m.State == vpnmon.StateDown && !sawDown {
			link, _ := tp.net.Try("gw1", "ip", "-o", "link", "show", "st0.1")
			route, _ := tp.net.Try("gw1", "ip", "route", "show", "198.18.2.0/24")
			if strings.Contains(link, "state DOWN") && strings.TrimSpace(route) == "" {
				sawDown = true
			} else {
				t.Logf("monitor down, st0.1: %s route: %q", strings.TrimSpace(link), route)
			}
		}
		return m.Downs >= 1 && sawDown
	})
	tp.net.Exec("gw1", "nft", "delete table inet vpnmon_test")

	back := tp.waitMonitor(gw1, "the VPN back with new SAs", 40*time.Second, func(m vpnmon.Status, st daemon.Status) bool {
		newSA := false
		for spi := range inboundSPIs(st) {
			if !spis[spi] {
				newSA = true
			}
		}
		return m.State == vpnmon.StateUp && m.Misses == 0 && m.Replies > down.Monitors["ipsec_vpn"].Replies && newSA
	})
	if route, _ := tp.net.Try("gw1", "ip", "route", "show", "198.18.2.0/24"); !strings.Contains(route, "st0.1") {
		t.Fatalf("route through st0.1 not back: %q", route)
	}
	tp.ping("h1", "198.18.2.2", 0)
	detail := tp.mustCLI(gw1, "show security ipsec security-associations detail")
	if !strings.Contains(detail, "VPN Monitoring: U, Requests sent:") || !strings.Contains(detail, "Down#: ") {
		t.Fatalf("detail without monitoring counters:\n%s", detail)
	}
	t.Logf("monitor: %+v", back.Monitors["ipsec_vpn"])
}

// waitMonitor polls gw's status until cond holds for its VPN's monitor.
func (tp *topology) waitMonitor(g *gateway, what string, within time.Duration, cond func(vpnmon.Status, daemon.Status) bool) daemon.Status {
	t := tp.t
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := tp.status(g)
		if m, ok := st.Monitors["ipsec_vpn"]; ok && cond(m, st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %s within %v: %+v\n%s", g.name, what, within, st.Monitors, tp.logOf(g))
		}
		time.Sleep(150 * time.Millisecond)
	}
}

func inboundSPIs(st daemon.Status) map[string]bool {
	out := map[string]bool{}
	for _, sa := range st.SAs {
		if sa.Direction == "inbound" {
			out[sa.SPI] = true
		}
	}
	return out
}
