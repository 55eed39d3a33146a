package routing

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// The cloud-style VPN: ipsecgw with the Junos SRX configuration a cloud
// provider hands out (two IKEv1 tunnels, AES-128-CBC/SHA-1/group 2, PFS
// group 2, DPD, st0.1/st0.2 with 169.254.x.x/30 inside addresses, BGP to
// the provider's AS over both), written in brace form, against a provider
// made of two tunnel endpoints (strongSwan with its userspace ESP, and
// FRR's bgpd each) in front of a VPC router (bgpd) that talks iBGP to both.
//
//	h1 — gw (ipsecgw, AS 65000) ═st0.1═ p1 (charon, bgpd) — vpc (bgpd, 203.0.113.10)
//	                            ═st0.2═ p2 (charon, bgpd) —/
//
// The outer links are 192.0.2.0/30 (gw .1, p1 .2) and 192.0.2.4/30 (gw .5,
// p2 .6); p1–vpc 198.51.100.0/30, p2–vpc 198.51.100.4/30.

const cloudHold = 9 // seconds: the BGP hold time on every session

// cloudConfig is the customer gateway's configuration, in the form of a
// provider's downloadable "Juniper SRX" configuration.
func cloudConfig(bfd bool) string {
	var b strings.Builder
	b.WriteString(`system { host-name customer-gw; }
interfaces {
    gw-h1 { unit 0 { family inet { address 198.18.1.1/24; } } }
    gw-p1 { unit 0 { family inet { address 192.0.2.1/30; } } }
    gw-p2 { unit 0 { family inet { address 192.0.2.5/30; } } }
    st0 {
        unit 1 { family inet { address 169.254.10.2/30; } }
        unit 2 { family inet { address 169.254.11.2/30; } }
    }
}
routing-options { router-id 192.0.2.1; autonomous-system 65000; }
policy-options {
    policy-statement EXPORT-DEFAULT {
        term default { from { route-filter 198.18.1.0/24 exact; } then accept; }
        term reject { then reject; }
    }
}
protocols {
    bgp {
        group ebgp {
            type external;
`)
	liveness := ""
	if bfd {
		liveness = " bfd-liveness-detection { minimum-interval 300; }"
	}
	for i := 1; i <= 2; i++ {
		fmt.Fprintf(&b, `            neighbor 169.254.1%d.1 { export EXPORT-DEFAULT; peer-as 64512; hold-time %d;%s }
`, i-1, cloudHold, liveness)
	}
	// The provider's SRX habits: TCP MSS clamping (applied), zones and
	// policies (accepted, reported as not applied).
	b.WriteString(`        }
    }
}
security {
    flow { tcp-mss { ipsec-vpn { mss 1379; } } }
    zones {
        security-zone trust {
            host-inbound-traffic { system-services { all; } protocols { all; } }
            interfaces { gw-h1.0; st0.1; st0.2; }
        }
        security-zone untrust {
            interfaces {
                gw-p1.0 { host-inbound-traffic { system-services { ike; ping; } } }
                gw-p2.0 { host-inbound-traffic { system-services { ike; ping; } } }
            }
        }
    }
    policies {
        from-zone trust to-zone trust {
            policy default-permit {
                match { source-address any; destination-address any; application any; }
                then { permit; }
            }
        }
    }
    ike {
`)
	for i := 1; i <= 2; i++ {
		fmt.Fprintf(&b, `        proposal ike-prop-vpn-%[1]d {
            authentication-method pre-shared-keys;
            dh-group group2;
            authentication-algorithm sha1;
            encryption-algorithm aes-128-cbc;
            lifetime-seconds 28800;
        }
        policy ike-pol-vpn-%[1]d {
            mode main;
            proposals ike-prop-vpn-%[1]d;
            pre-shared-key ascii-text "cloud-tunnel-%[1]d-key";
        }
        gateway gw-vpn-%[1]d {
            ike-policy ike-pol-vpn-%[1]d;
            address 192.0.2.%[2]d;
            dead-peer-detection { interval 10; threshold 3; }
            external-interface gw-p%[1]d;
            version v1-only;
        }
`, i, 4*i-2)
	}
	b.WriteString("    }\n    ipsec {\n")
	for i := 1; i <= 2; i++ {
		fmt.Fprintf(&b, `        proposal ipsec-prop-vpn-%[1]d {
            protocol esp;
            authentication-algorithm hmac-sha1-96;
            encryption-algorithm aes-128-cbc;
            lifetime-seconds 3600;
        }
        policy ipsec-pol-vpn-%[1]d {
            perfect-forward-secrecy { keys group2; }
            proposals ipsec-prop-vpn-%[1]d;
        }
        vpn vpn-%[1]d {
            bind-interface st0.%[1]d;
            ike { gateway gw-vpn-%[1]d; ipsec-policy ipsec-pol-vpn-%[1]d; }
            df-bit clear;
            establish-tunnels immediately;
        }
`, i)
	}
	b.WriteString("    }\n}\n")
	return b.String()
}

// providerBGP is tunnel endpoint i's (1 or 2) bgpd: eBGP to the customer
// over the tunnel's inside address, iBGP to the VPC router with itself as
// next hop.
func providerBGP(i int, bfd bool) string {
	liveness := ""
	if bfd {
		liveness = fmt.Sprintf(" neighbor 169.254.1%d.2 bfd profile customer\n", i-1)
	}
	return fmt.Sprintf(`router bgp 64512
 bgp router-id 192.0.2.%[2]d
 no bgp ebgp-requires-policy
 neighbor 169.254.1%[1]d.2 remote-as 65000
 neighbor 169.254.1%[1]d.2 update-source 169.254.1%[1]d.1
 neighbor 169.254.1%[1]d.2 timers 3 %[3]d
 neighbor 169.254.1%[1]d.2 timers connect 5
%[5]s neighbor 198.51.100.%[4]d remote-as 64512
 neighbor 198.51.100.%[4]d timers 1 3
 neighbor 198.51.100.%[4]d timers connect 2
 address-family ipv4 unicast
  neighbor 198.51.100.%[4]d next-hop-self
 exit-address-family
`, i-1, 4*i-2, cloudHold, 4*i-2, liveness)
}

// providerBFD is the endpoints' bfdd profile: the customer's 300 ms.
const providerBFD = `bfd
 profile customer
  receive-interval 300
  transmit-interval 300
 exit
exit
`

const vpcBGP = `router bgp 64512
 bgp router-id 198.51.100.2
 no bgp ebgp-requires-policy
 neighbor 198.51.100.1 remote-as 64512
 neighbor 198.51.100.1 timers 1 3
 neighbor 198.51.100.1 timers connect 2
 neighbor 198.51.100.5 remote-as 64512
 neighbor 198.51.100.5 timers 1 3
 neighbor 198.51.100.5 timers connect 2
 address-family ipv4 unicast
  network 203.0.113.10/32
 exit-address-family
`

// providerIKE is tunnel endpoint i's strongSwan connection: IKEv1 Main
// Mode, AES-128-CBC/SHA-1/MODP-1024, PFS MODP-1024, DPD, all traffic (the
// route-based tunnel's 0.0.0.0/0 both ways).
func providerIKE(i int) strongswan.Config {
	return strongswan.Config{Connections: []strongswan.Connection{{
		Name: "customer", Version: 1, LocalAddrs: fmt.Sprintf("192.0.2.%d", 4*i-2), RemoteAddrs: fmt.Sprintf("192.0.2.%d", 4*i-3),
		PSK: fmt.Sprintf("cloud-tunnel-%d-key", i), Proposals: []string{"aes128-sha1-modp1024"}, DPDDelay: 10 * time.Second,
		Children: []strongswan.Child{{Name: "vti", LocalTS: []string{"0.0.0.0/0"}, RemoteTS: []string{"0.0.0.0/0"},
			ESPProposals: []string{"aes128-sha1-modp1024"}, StartAction: "none"}},
	}}}
}

// TestCloudVPN: both BGP sessions Established over the two tunnels, the
// VPC's prefix learned over both and reachable by ping; when the tunnel
// endpoint carrying the traffic dies (charon killed), the traffic moves
// to the other tunnel within the BGP hold time, or within a second with
// BFD (bfd-liveness-detection minimum-interval 300: three 300 ms misses).
func TestCloudVPN(t *testing.T) {
	netns.RequireRoot(t)
	requireFRR(t)
	strongswan.Require(t)
	for _, tc := range []struct {
		name  string
		bfd   bool
		limit time.Duration // the time the traffic may take to move
	}{
		// The hold time, and up to 3 s for the withdrawal to reach the
		// kernel and the one-second pings to notice.
		{"hold-time", false, time.Duration(cloudHold+3) * time.Second},
		{"bfd", true, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) { cloudVPN(t, tc.bfd, tc.limit) })
	}
}

func cloudVPN(t *testing.T, bfd bool, limit time.Duration) {
	n := netns.New(t, "h1", "gw", "p1", "p2", "vpc")
	n.Link("h1", "h1-gw", "198.18.1.2/24", "gw", "gw-h1", "")
	n.Link("gw", "gw-p1", "", "p1", "p1-gw", "192.0.2.2/30")
	n.Link("gw", "gw-p2", "", "p2", "p2-gw", "192.0.2.6/30")
	n.Link("p1", "p1-vpc", "198.51.100.1/30", "vpc", "vpc-p1", "198.51.100.2/30")
	n.Link("p2", "p2-vpc", "198.51.100.5/30", "vpc", "vpc-p2", "198.51.100.6/30")
	n.Exec("h1", "ip", "route", "add", "default", "via", "198.18.1.1")
	n.Exec("vpc", "ip", "addr", "add", "203.0.113.10/32", "dev", "lo")
	for _, ns := range []string{"gw", "p1", "p2", "vpc"} {
		n.Exec(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		n.Exec(ns, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0")
		n.Exec(ns, "sysctl", "-q", "-w", "net.ipv4.conf.default.rp_filter=0")
	}
	vpc := startProviderFRR(t, n, "vpc", vpcBGP, "")
	var charons [3]*strongswan.Charon
	var provs [3]*providerFRR
	for i := 1; i <= 2; i++ {
		p := fmt.Sprintf("p%d", i)
		// charon's userspace ESP routes everything (the 0.0.0.0/0
		// selector) into its TUN device from table 220; the provider's
		// own networks stay in the main table.
		for _, to := range []string{"198.51.100.0/24", "203.0.113.0/24", fmt.Sprintf("169.254.1%d.0/30", i-1)} {
			n.Exec(p, "ip", "rule", "add", "to", to, "lookup", "main", "pref", "100")
		}
		charons[i] = strongswan.Start(t, n, p, providerIKE(i))
		// The tunnel's inside address, on charon's TUN device (ipsec0).
		n.Exec(p, "ip", "addr", "add", fmt.Sprintf("169.254.1%d.1/30", i-1), "dev", "ipsec0")
		n.Exec(p, "ip", "link", "set", "ipsec0", "up")
		bfdConf := ""
		if bfd {
			bfdConf = providerBFD
		}
		provs[i] = startProviderFRR(t, n, p, providerBGP(i, bfd), bfdConf)
	}
	gw := startGateway(t, n, "gw", cloudConfig(bfd))
	fail := func(format string, args ...any) {
		t.Helper()
		var b strings.Builder
		b.WriteString(gw.logs())
		for i := 1; i <= 2; i++ {
			b.WriteString(provs[i].logs())
			out, _ := n.Try(fmt.Sprintf("p%d", i), "ip", "route", "show", "table", "all")
			fmt.Fprintf(&b, "--- p%d ip route show table all\n%s", i, out)
		}
		b.WriteString(vpc.logs())
		for _, ns := range []string{"gw", "vpc"} {
			out, _ := n.Try(ns, "ip", "route")
			fmt.Fprintf(&b, "--- %s ip route\n%s", ns, out)
		}
		t.Fatalf(format+"\n%s", append(args, b.String())...)
	}

	// Both sessions Established, the VPC's prefix received over both.
	var sum string
	if !poll(60*time.Second, func() bool {
		sum, _ = gw.cli("show bgp summary")
		return strings.Count(sum, " Establ\n  inet.0: ") == 2 && strings.Count(sum, "/1/1/0\n") == 2
	}) {
		fail("gw: the two sessions did not come up with the VPC's prefix:\n%s", sum)
	}
	t.Logf("gw> show bgp summary\n%s", sum)
	route, _ := gw.cli("show route 203.0.113.10")
	t.Logf("gw> show route 203.0.113.10\n%s", route)
	if out, err := n.Try("h1", "ping", "-c", "3", "-i", "0.2", "-W", "2", "-w", "5", "203.0.113.10"); err != nil {
		fail("h1: ping 203.0.113.10 fails:\n%s", out)
	}
	// TCP to the VPC (its bgpd's port answers the handshake): gw clamps
	// the SYN on its way into the tunnel and the SYN-ACK on its way out
	// (h1 and the VPC announce 1460), and counts both.
	if out, err := n.Try("h1", "timeout", "10", "bash", "-c", "exec 3<>/dev/tcp/203.0.113.10/179"); err != nil {
		fail("h1: TCP to 203.0.113.10:179 through the tunnel: %v\n%s", err, out)
	}
	if !poll(10*time.Second, func() bool { return clampedSYNs(gw.metrics()) >= 2 }) {
		fail("gw: tcp-mss ipsec-vpn clamped %d SYN and SYN-ACK packets, want at least 2", clampedSYNs(gw.metrics()))
	}
	t.Logf("gw clamped the MSS of %d SYN and SYN-ACK packets", clampedSYNs(gw.metrics()))
	if bfd && !poll(10*time.Second, func() bool {
		return strings.Count(gw.vtysh("show bfd peers brief"), " up ") == 2
	}) {
		fail("gw: the BFD sessions are not up:\n%s", gw.vtysh("show bfd peers brief"))
	}

	// Kill the endpoint the traffic goes through (SIGKILL: no DELETE, no
	// BGP NOTIFICATION), and time how long until pings get through again.
	via, _ := n.Try("gw", "ip", "route", "show", "203.0.113.10")
	if strings.Count(via, "dev st0.") != 1 {
		fail("gw: 203.0.113.10 is not routed through one tunnel (Junos has no BGP multipath by default):\n%s", via)
	}
	active := 1
	if strings.Contains(via, "dev st0.2") {
		active = 2
	}
	other := 3 - active
	t.Logf("traffic through st0.%d (%s); killing p%d's charon", active, strings.TrimSpace(via), active)
	killed := time.Now()
	syscall.Kill(charons[active].PID(), syscall.SIGKILL)
	var moved time.Duration
	if !poll(time.Duration(cloudHold+10)*time.Second, func() bool {
		_, err := n.Try("h1", "ping", "-c", "1", "-W", "1", "203.0.113.10")
		if err == nil {
			r, _ := n.Try("gw", "ip", "route", "show", "203.0.113.10")
			if strings.Contains(r, fmt.Sprintf("dev st0.%d", other)) && !strings.Contains(r, fmt.Sprintf("dev st0.%d", active)) {
				moved = time.Since(killed)
				return true
			}
		}
		return false
	}) {
		fail("traffic did not move to st0.%d within %d s of p%d's death", other, cloudHold+10, active)
	}
	t.Logf("traffic moved to st0.%d %.1f s after p%d's charon was killed (hold time %d s)", other, moved.Seconds(), active, cloudHold)
	if moved > limit {
		fail("traffic took %.1f s to move, more than %v", moved.Seconds(), limit)
	}
	sum, _ = gw.cli("show bgp summary")
	t.Logf("gw> show bgp summary\n%s", sum)
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^169\.254\.1%d\.1 .* (Active|Connect|Idle)$`, active-1)).MatchString(sum) {
		fail("gw: the session over the dead tunnel is not down:\n%s", sum)
	}
}

// clampedSYNs reads ipsecgw_tcp_mss_clamped_total from a metrics page (-1:
// not there).
func clampedSYNs(metrics string) int {
	m := regexp.MustCompile(`(?m)^ipsecgw_tcp_mss_clamped_total (\d+)$`).FindStringSubmatch(metrics)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
