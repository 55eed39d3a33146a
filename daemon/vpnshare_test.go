package daemon

import (
	"strings"
	"testing"
	"time"

	"ipsecgw/config/store"
)

// oneIKEVPN is an IKEv2 VPN a (st0.1) between 192.0.2.ME and 192.0.2.PEER,
// brought up at once, and an unused st0.2.
const oneIKEVPN = `set interfaces eth1 unit 0 family inet address 192.0.2.%[1]d/24
set interfaces st0 unit 1 family inet
set interfaces st0 unit 2 family inet
set routing-options static route 198.18.%[2]d.0/24 next-hop st0.1
set security ike policy p proposal-set standard
set security ike policy p pre-shared-key ascii-text "secret-for-test"
set security ike gateway g ike-policy p
set security ike gateway g address 192.0.2.%[2]d
set security ike gateway g external-interface eth1
set security ike gateway g version v2-only
set security ipsec policy ip proposal-set standard
set security ipsec vpn a bind-interface st0.1
set security ipsec vpn a ike gateway g
set security ipsec vpn a ike ipsec-policy ip
set security ipsec vpn a traffic-selector t local-ip 198.18.%[1]d.0/24
set security ipsec vpn a traffic-selector t remote-ip 198.18.%[2]d.0/24
set security ipsec vpn a establish-tunnels immediately
`

// TestSecondVPNOnAGatewayRefused: a commit that adds a second VPN on the
// gateway of a running IKE VPN fails, naming both VPNs at the new VPN's
// ike gateway statement (the IKE engine holds one peer per gateway: the
// second VPN silently replaced the first), and the running VPN keeps its
// SAs and its traffic.
func TestSecondVPNOnAGatewayRefused(t *testing.T) {
	ds, hosts := startPair(t, oneIKEVPN)
	up := false
	for deadline := time.Now().Add(30 * time.Second); !up && time.Now().Before(deadline); {
		up = cross(t, hosts, "st0.1", "198.18.1.2", "198.18.2.2")
	}
	if !up {
		t.Fatal("VPN a does not carry traffic")
	}
	before := ds[0].Engine().OutboundSAs()
	edit(t, ds[0].Store(),
		"set security ipsec vpn b bind-interface st0.2",
		"set security ipsec vpn b ike gateway g",
		"set security ipsec vpn b ike ipsec-policy ip",
		"set security ipsec vpn b traffic-selector t local-ip 198.19.1.0/24",
		"set security ipsec vpn b traffic-selector t remote-ip 198.19.2.0/24",
		"set security ipsec vpn b establish-tunnels immediately")
	_, err := ds[0].Store().Commit(store.CommitOptions{})
	if err == nil || !strings.Contains(err.Error(), "security ipsec vpn b ike gateway: VPNs a and b both use IKE gateway g") ||
		!strings.Contains(err.Error(), "not supported yet") {
		t.Fatalf("commit error %v", err)
	}
	after := ds[0].Engine().OutboundSAs()
	if len(after) != len(before) {
		t.Fatalf("SAs changed: %d → %d", len(before), len(after))
	}
	for _, sa := range after {
		if sa.VPN != "a" {
			t.Fatalf("an SA of VPN %s is installed", sa.VPN)
		}
	}
	if !cross(t, hosts, "st0.1", "198.18.1.2", "198.18.2.2") {
		t.Fatal("VPN a's traffic broken by the refused commit")
	}
}
