package routing

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// bgpConfig is gateway i's (0 or 1) configuration: a route-based VPN over
// IKEv2 on st0.1, whose inside addresses (169.254.0.1-2/30,
// 2001:db8:ffff::1-2/126) carry two eBGP sessions, one per family, that
// announce each gateway's LAN (198.18.N.0/24, 2001:db8:N::/64) and nothing
// else. No static route crosses the tunnel: BGP alone makes the LANs reach
// each other.
func bgpConfig(i int) string {
	me, peer := i+1, 2-i
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set system host-name gw%d", me)
	w("set interfaces gw%d-h%d unit 0 family inet address 198.18.%d.1/24", me, me, me)
	w("set interfaces gw%d-h%d unit 0 family inet6 address 2001:db8:%d::1/64", me, me, me)
	w("set interfaces gw%d-gw%d unit 0 family inet address 192.0.2.%d/24", me, peer, me)
	w("set interfaces st0 unit 1 family inet address 169.254.0.%d/30", me)
	w("set interfaces st0 unit 1 family inet6 address 2001:db8:ffff::%d/126", me)
	w("set routing-options router-id 192.0.2.%d", me)
	w("set routing-options autonomous-system 6500%d", me)
	w("set protocols bgp group tunnel4 type external")
	w("set protocols bgp group tunnel4 peer-as 6500%d", peer)
	w("set protocols bgp group tunnel4 hold-time 9")
	w("set protocols bgp group tunnel4 export lan")
	w("set protocols bgp group tunnel4 authentication-key tcp-md5-secret")
	w("set protocols bgp group tunnel4 neighbor 169.254.0.%d description gw%d-v4", peer, peer)
	w("set protocols bgp group tunnel6 type external")
	w("set protocols bgp group tunnel6 family inet6 unicast")
	w("set protocols bgp group tunnel6 peer-as 6500%d", peer)
	w("set protocols bgp group tunnel6 hold-time 9")
	w("set protocols bgp group tunnel6 export lan")
	w("set protocols bgp group tunnel6 neighbor 2001:db8:ffff::%d description gw%d-v6", peer, peer)
	// OSPF and OSPFv3 on the tunnel too, with fast hellos.
	for _, o := range []string{"ospf", "ospf3"} {
		w("set protocols %s area 0.0.0.0 interface st0.1 hello-interval 1", o)
		w("set protocols %s area 0.0.0.0 interface st0.1 dead-interval 4", o)
	}
	w("set policy-options prefix-list lan 198.18.%d.0/24", me)
	w("set policy-options prefix-list lan 2001:db8:%d::/64", me)
	w("set policy-options policy-statement lan term direct from protocol direct")
	w("set policy-options policy-statement lan term direct from prefix-list lan")
	w("set policy-options policy-statement lan term direct then accept")
	w("set policy-options policy-statement lan term statics from protocol static")
	w("set policy-options policy-statement lan term statics from route-filter 198.18.100.0/22 orlonger")
	w("set policy-options policy-statement lan term statics then accept")
	w("set policy-options policy-statement lan then reject")
	// A static route behind the LAN host, exported by the policy's
	// second term (ipsecgw installs it; FRR sees it as a kernel route).
	w("set routing-options static route 198.18.10%d.0/24 next-hop 198.18.%d.2", me, me)
	// A discard route: installed as the kernel's blackhole, not exported.
	w("set routing-options static route 198.18.11%d.0/24 discard", me)
	w("set security ike proposal ike_prop authentication-method pre-shared-keys")
	w("set security ike proposal ike_prop dh-group group19")
	w("set security ike proposal ike_prop authentication-algorithm sha-256")
	w("set security ike proposal ike_prop encryption-algorithm aes-256-gcm")
	w("set security ike policy ike_policy proposals ike_prop")
	w("set security ike policy ike_policy pre-shared-key ascii-text bgp-over-ipsec")
	w("set security ike gateway ike_gw ike-policy ike_policy")
	w("set security ike gateway ike_gw address 192.0.2.%d", peer)
	w("set security ike gateway ike_gw external-interface gw%d-gw%d", me, peer)
	w("set security ike gateway ike_gw version v2-only")
	w("set security ipsec proposal ipsec_prop protocol esp")
	w("set security ipsec proposal ipsec_prop encryption-algorithm aes-256-gcm")
	w("set security ipsec policy ipsec_policy proposals ipsec_prop")
	w("set security ipsec vpn ipsec_vpn bind-interface st0.1")
	w("set security ipsec vpn ipsec_vpn ike gateway ike_gw")
	w("set security ipsec vpn ipsec_vpn ike ipsec-policy ipsec_policy")
	if i == 0 {
		w("set security ipsec vpn ipsec_vpn establish-tunnels immediately")
	} else {
		w("set security ipsec vpn ipsec_vpn establish-tunnels responder-only")
	}
	return b.String()
}

// TestBGPOverIKEv2 runs h1 — gw1 ==(IKEv2, st0.1)== gw2 — h2: the
// gateways' BGP sessions over the tunnel reach Established in both
// families, each learns the other's LAN only from BGP, the hosts ping
// each other across in IPv4 and IPv6, and the routing show commands
// print the sessions and routes in the Junos layouts through the CLI.
func TestBGPOverIKEv2(t *testing.T) {
	netns.RequireRoot(t)
	requireFRR(t)
	n := netns.New(t, "h1", "gw1", "gw2", "h2")
	n.Link("h1", "h1-gw1", "198.18.1.2/24", "gw1", "gw1-h1", "")
	n.Link("gw1", "gw1-gw2", "", "gw2", "gw2-gw1", "")
	n.Link("gw2", "gw2-h2", "", "h2", "h2-gw2", "198.18.2.2/24")
	n.Exec("h1", "ip", "-6", "addr", "add", "2001:db8:1::2/64", "dev", "h1-gw1", "nodad")
	n.Exec("h2", "ip", "-6", "addr", "add", "2001:db8:2::2/64", "dev", "h2-gw2", "nodad")
	n.Exec("h1", "ip", "route", "add", "default", "via", "198.18.1.1")
	n.Exec("h2", "ip", "route", "add", "default", "via", "198.18.2.1")
	n.Exec("h1", "ip", "-6", "route", "add", "default", "via", "2001:db8:1::1")
	n.Exec("h2", "ip", "-6", "route", "add", "default", "via", "2001:db8:2::1")
	for _, gw := range []string{"gw1", "gw2"} {
		n.Exec(gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		n.Exec(gw, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
	}
	gw2 := startGateway(t, n, "gw2", bgpConfig(1))
	gw1 := startGateway(t, n, "gw1", bgpConfig(0))
	gws := []*gateway{gw1, gw2}
	fail := func(format string, args ...any) {
		t.Helper()
		var b strings.Builder
		for _, g := range gws {
			b.WriteString(g.logs())
			for _, cmd := range [][]string{{"ip", "route"}, {"ip", "-6", "route"}} {
				out, _ := n.Try(g.name, cmd...)
				fmt.Fprintf(&b, "--- %s %s\n%s", g.name, strings.Join(cmd, " "), out)
			}
		}
		t.Fatalf(format+"\n%s", append(args, b.String())...)
	}

	// Each gateway learns the other's LANs and static route from BGP,
	// into the kernel.
	for _, c := range []struct{ gw, prefix string }{
		{"gw1", "198.18.2.0/24"}, {"gw1", "2001:db8:2::/64"}, {"gw1", "198.18.102.0/24"},
		{"gw2", "198.18.1.0/24"}, {"gw2", "2001:db8:1::/64"}, {"gw2", "198.18.101.0/24"},
	} {
		family := "-4"
		if strings.Contains(c.prefix, ":") {
			family = "-6"
		}
		if !poll(45*time.Second, func() bool {
			out, _ := n.Try(c.gw, "ip", family, "route", "show", c.prefix)
			return strings.Contains(out, "proto bgp") && strings.Contains(out, "dev st0.1")
		}) {
			fail("%s has no BGP route to %s through st0.1", c.gw, c.prefix)
		}
	}
	for _, gw := range []string{"gw1", "gw2"} {
		prefix := "198.18.11" + gw[2:] + ".0/24"
		if out, _ := n.Try(gw, "ip", "route", "show", prefix); !strings.HasPrefix(out, "blackhole "+prefix) {
			fail("%s: the discard route %s is not a blackhole route: %q", gw, prefix, out)
		}
	}
	// Only the LANs: the export policy rejects the tunnel's own subnets
	// and the outer link.
	out, err := n.Try("gw1", "ip", "route", "show", "proto", "bgp")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "198.18.2.0/24 ") && !strings.HasPrefix(line, "198.18.102.0/24 ") {
			fail("gw1 learned more than gw2's LAN:\n%s", out)
		}
	}
	for _, c := range []struct{ from, to string }{
		{"h1", "198.18.2.2"}, {"h2", "198.18.1.2"}, {"h1", "2001:db8:2::2"}, {"h2", "2001:db8:1::2"},
	} {
		if out, err := n.Try(c.from, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-w", "5", c.to); err != nil {
			fail("%s: ping %s fails:\n%s", c.from, c.to, out)
		}
	}

	// The show commands, through the CLI.
	sum, err := gw1.cli("show bgp summary")
	if err != nil {
		fail("gw1> show bgp summary: %v\n%s", err, sum)
	}
	t.Logf("gw1> show bgp summary\n%s", sum)
	for _, re := range []string{
		`(?m)^Groups: 2 Peers: 2 Down peers: 0$`,
		`(?m)^169\.254\.0\.2 +65002 +\d+ +\d+ +0 +0 +[\d:]+ Establ$`,
		`(?m)^  inet\.0: 2/2/2/0$`,
		`(?m)^2001:db8:ffff::2 +65002 +\d+ +\d+ +0 +0 +[\d:]+ Establ$`,
		`(?m)^  inet6\.0: 1/1/1/0$`,
	} {
		if !regexp.MustCompile(re).MatchString(sum) {
			fail("gw1> show bgp summary: no match for %s:\n%s", re, sum)
		}
	}
	for _, c := range []struct{ cmd, want string }{
		{"show route protocol bgp", `(?m)^198\.18\.2\.0/24 +\*\[BGP/20\] [\dwdhms:]+, localpref 100$`},
		{"show route protocol bgp", `(?m)^ +AS path: 65002 \?$`},
		{"show route protocol bgp", `(?m)^ +> +to 169\.254\.0\.2 via st0\.1$`},
		{"show route protocol bgp", `(?m)^2001:db8:2::/64 +\*\[BGP/20\]`},
		{"show route advertising-protocol bgp 169.254.0.2", `(?m)^\* 198\.18\.1\.0/24 +Self +\?$`},
		{"show route advertising-protocol bgp 169.254.0.2", `(?m)^\* 198\.18\.101\.0/24 +Self +\?$`},
		{"show route protocol static", `(?m)^198\.18\.101\.0/24 +\*\[Static/0\] `},
		{"show route receive-protocol bgp 169.254.0.2", `(?m)^\* 198\.18\.2\.0/24 +169\.254\.0\.2 +65002 \?$`},
		{"show bgp neighbor 169.254.0.2", `(?m)^Peer: 169\.254\.0\.2\+\d+ AS 65002 Local: 169\.254\.0\.1\+\d+ AS 65001$`},
		{"show bgp neighbor 169.254.0.2", `(?m)^  Description: gw2-v4$`},
		{"show bgp neighbor 169.254.0.2", `(?m)^  Type: External    State: Established`},
		{"show bgp summary | display json", `"peer-state" : \[\s*\{\s*"data" : "Established"`},
		{"show ospf neighbor", `(?m)^169\.254\.0\.2 +st0\.1 +Full +192\.0\.2\.2 +\d+ +\d+$`},
		{"show ospf3 neighbor", `(?m)^192\.0\.2\.2 +st0\.1 +Full +\d+ +\d+$`},
		{"show ospf interface", `(?m)^st0\.1 +PtToPt +0\.0\.0\.0 +0\.0\.0\.0 +0\.0\.0\.0 +1$`},
	} {
		out, err := gw1.cli(c.cmd)
		if err != nil || !regexp.MustCompile(c.want).MatchString(out) {
			fail("gw1> %s: %v: no match for %s:\n%s", c.cmd, err, c.want, out)
		}
		t.Logf("gw1> %s\n%s", c.cmd, out)
	}

	// The v4 session is TCP-MD5 signed: FRR has the key, ipsecgw's log
	// and configuration show it only as $9$.
	if !strings.Contains(gw1.vtysh("show running-config"), "neighbor 169.254.0.2 password tcp-md5-secret") {
		fail("gw1: FRR runs the v4 session without its authentication-key")
	}
	if cfg, _ := gw1.cli("show configuration protocols bgp group tunnel4"); strings.Contains(cfg, "tcp-md5-secret") || !strings.Contains(cfg, `authentication-key "$9$`) {
		fail("gw1: the authentication-key is not shown as $9$:\n%s", cfg)
	}
	if strings.Contains(gw1.logs(), "tcp-md5-secret") {
		fail("gw1: the authentication-key reached a log")
	}

	// The sessions in the metrics.
	m := gw1.metrics()
	for _, want := range []string{
		`ipsecgw_bgp_peer_up{group="tunnel4",neighbor="169.254.0.2"} 1`,
		`ipsecgw_bgp_peer_up{group="tunnel6",neighbor="2001:db8:ffff::2"} 1`,
		`ipsecgw_bgp_peer_prefixes{group="tunnel4",kind="accepted",neighbor="169.254.0.2",table="inet.0"} 2`,
		`ipsecgw_bgp_peer_prefixes{group="tunnel6",kind="active",neighbor="2001:db8:ffff::2",table="inet6.0"} 1`,
		`ipsecgw_ospf_neighbors{interface="st0.1",state="Full",version="2"} 1`,
		`ipsecgw_ospf_neighbors{interface="st0.1",state="Full",version="3"} 1`,
	} {
		if !strings.Contains(m, want) {
			fail("gw1 metrics lack %s:\n%s", want, m)
		}
	}

	// clear bgp neighbor resets the session; it comes back Established.
	if out, err := gw1.cli("clear bgp neighbor 169.254.0.2"); err != nil {
		fail("gw1> clear bgp neighbor: %v\n%s", err, out)
	}
	if !poll(30*time.Second, func() bool {
		out, _ := gw1.cli("show bgp neighbor 169.254.0.2")
		return regexp.MustCompile(`Last flap event: |Number of flaps: [1-9]`).MatchString(out) && strings.Contains(out, "State: Established")
	}) {
		out, _ := gw1.cli("show bgp neighbor 169.254.0.2")
		fail("after clear bgp neighbor, the session did not flap and come back:\n%s", out)
	}

	// A commit FRR refuses (a neighbor that is this gateway itself) is
	// refused whole, with FRR's words; the sessions and routes stay.
	out, err = gw1.cli("configure; set protocols bgp group tunnel4 neighbor 169.254.0.1 description myself; commit")
	if err == nil || !strings.Contains(out, "FRR refused the routing configuration") || !strings.Contains(out, "local system as neighbor") {
		fail("gw1: a commit FRR refuses: %v\n%s", err, out)
	}
	if strings.Contains(out, "tcp-md5-secret") || strings.Contains(gw1.logs(), "tcp-md5-secret") {
		fail("gw1: the authentication-key reached the refusal or the log:\n%s", out)
	}
	t.Logf("gw1# commit (refused by FRR)\n%s", out)
	if sum := gw1.vtysh("show running-config"); strings.Contains(sum, "169.254.0.1 remote-as") {
		fail("gw1: FRR kept part of the refused commit:\n%s", sum)
	}
	if !poll(10*time.Second, func() bool {
		out, _ := gw1.cli("show bgp summary")
		return strings.Contains(out, "Down peers: 0") && strings.Count(out, "Establ\n") == 2
	}) {
		out, _ := gw1.cli("show bgp summary")
		fail("gw1: the sessions did not stay up after a refused commit:\n%s", out)
	}
	if routed, _ := n.Try("gw1", "ip", "route", "show", "198.18.2.0/24"); !strings.Contains(routed, "proto bgp") {
		fail("gw1: the BGP route went with a refused commit: %q", routed)
	}

	// Routing configured away: FRR stops, the learned routes go.
	if out, err := gw1.cli("configure; delete protocols; delete policy-options; commit"); err != nil {
		fail("gw1: deleting the routing: %v\n%s", err, out)
	}
	var routed string
	if !poll(15*time.Second, func() bool {
		routed, _ = n.Try("gw1", "ip", "route", "show", "198.18.2.0/24")
		return routed == "" && gw1.frrRunning() == ""
	}) {
		fail("gw1: after protocols were deleted, FRR still runs (%s) or 198.18.2.0/24 is still routed (%s)", gw1.frrRunning(), routed)
	}
}
