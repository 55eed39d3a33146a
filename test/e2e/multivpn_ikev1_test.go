package e2e

import (
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// multiVPNIKEv1Config is multiVPNConfig on an IKEv1 gateway, the Junos
// policy-based way: AES-256-CBC in phase 1, each VPN's traffic as its ike
// proxy-identity, and vpn2 with an IPsec policy of its own (AES-256-CBC,
// HMAC-SHA-256, PFS group 19) beside vpn1's AES-256-GCM without PFS.
func multiVPNIKEv1Config(establish string) string {
	cfg := strings.NewReplacer(
		"ike_prop encryption-algorithm aes-256-gcm", "ike_prop encryption-algorithm aes-256-cbc",
		"version v2-only", "version v1-only",
		"traffic-selector ts local-ip", "ike proxy-identity local",
		"traffic-selector ts remote-ip", "ike proxy-identity remote",
	).Replace(multiVPNConfig(establish))
	return cfg + `set security ipsec proposal esp_cbc protocol esp
set security ipsec proposal esp_cbc encryption-algorithm aes-256-cbc
set security ipsec proposal esp_cbc authentication-algorithm hmac-sha-256-128
set security ipsec policy pfs_policy proposals esp_cbc
set security ipsec policy pfs_policy perfect-forward-secrecy keys group19
set security ipsec vpn vpn2 ike ipsec-policy pfs_policy
`
}

// TestIKEv1TwoVPNsOnOneGatewayWithStrongSwan: two VPNs on one IKEv1
// gateway against one strongSwan IKEv1 connection with two children.
// Whoever initiates (ipsecgw: one Main Mode, then a Quick Mode per VPN;
// strongSwan: ipsecgw, responding, picks each VPN by the Quick Mode's
// IDci/IDcr), both tunnels carry pings, strongSwan has one ISAKMP SA with
// two CHILD SAs (net2's with PFS), and gw1 one with two pairs. A commit
// that removes vpn1 deletes only its pair: vpn2 keeps passing traffic on
// the same ISAKMP SA.
func TestIKEv1TwoVPNsOnOneGatewayWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	for _, ipsecgwInitiates := range []bool{true, false} {
		name := map[bool]string{true: "ipsecgw-initiates", false: "strongswan-initiates"}[ipsecgwInitiates]
		t.Run(name, func(t *testing.T) {
			tp, establish, start := newMultiVPNTopology(t, ipsecgwInitiates)
			tp.startOne(0, multiVPNIKEv1Config(establish))
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{{
				Name: "gw", Version: 1, LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "multi-vpn-key",
				Proposals: []string{"aes256-sha256-ecp256"},
				Children: []strongswan.Child{
					{Name: "net1", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
						ESPProposals: []string{"aes256gcm16"}, StartAction: start},
					{Name: "net2", LocalTS: []string{"198.18.3.0/24"}, RemoteTS: []string{"198.18.4.0/24"},
						ESPProposals: []string{"aes256-sha256-ecp256"}, StartAction: start},
				},
			}}})
			vpn1 := netns.Ping{Count: 3, Interval: 200 * time.Millisecond}
			vpn2 := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.4.2"}}
			back := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.3.2"}}
			pingUntil(t, tp, charon, "h1", vpn1, "198.18.2.2")
			pingUntil(t, tp, charon, "h1", vpn2, "198.18.3.2")
			pingUntil(t, tp, charon, "h2", back, "198.18.4.2")

			isakmp := oneIKESAWithChildren(t, charon, "net1", "net2")
			if isakmp.Version != 1 {
				t.Fatalf("strongSwan's SA is IKEv%d, want IKEv1", isakmp.Version)
			}
			for _, c := range isakmp.Children {
				if c.PacketsIn == 0 || c.PacketsOut == 0 {
					t.Errorf("strongSwan's %s carried no traffic: %+v", c.Name, c)
				}
				if pfs := c.DHGroup != ""; pfs != (c.Name == "net2") {
					t.Errorf("strongSwan's %s: PFS group %q, want one for net2 alone", c.Name, c.DHGroup)
				}
			}
			removeVPN1KeepsVPN2(t, tp, charon, isakmp, vpn2, back)
		})
	}
}
