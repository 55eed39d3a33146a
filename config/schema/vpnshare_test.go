package schema

import (
	"strings"
	"testing"
)

// vpnPair is an IKE gateway and two VPNs, each with its own st0 unit and
// traffic selector; the tests set the VPNs' gateways.
const vpnPair = `set interfaces st0 unit 1 family inet
set interfaces st0 unit 2 family inet
set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 dh-group group19
set security ike proposal p1 authentication-algorithm sha-256
set security ike proposal p1 encryption-algorithm aes-256-cbc
set security ike policy pol proposals p1
set security ike policy pol pre-shared-key ascii-text "k"
set security ike gateway g ike-policy pol
set security ike gateway g address 198.51.100.1
set security ike gateway g local-address 192.0.2.1
set security ike gateway h ike-policy pol
set security ike gateway h address 198.51.100.2
set security ike gateway h local-address 192.0.2.1
set security ipsec policy ip proposal-set standard
set security ipsec vpn a bind-interface st0.1
set security ipsec vpn a ike ipsec-policy ip
set security ipsec vpn a traffic-selector t local-ip 192.0.2.0/25
set security ipsec vpn a traffic-selector t remote-ip 203.0.113.0/25
set security ipsec vpn a establish-tunnels immediately
set security ipsec vpn b bind-interface st0.2
set security ipsec vpn b ike ipsec-policy ip
set security ipsec vpn b traffic-selector t local-ip 192.0.2.128/25
set security ipsec vpn b traffic-selector t remote-ip 203.0.113.128/25
set security ipsec vpn b establish-tunnels immediately
set security ipsec vpn a ike gateway g
`

// TestVPNsSharingAGateway: two VPNs on two gateways are accepted, and two
// on one gateway of either version (one IKE SA, a Child SA or Quick Mode
// pair each); an inactive second VPN is no clash.
func TestVPNsSharingAGateway(t *testing.T) {
	for _, tc := range []struct{ name, extra string }{
		{"two gateways", "set security ipsec vpn b ike gateway h\n"},
		{"one gateway", "set security ipsec vpn b ike gateway g\n"},
		{"one IKEv1 gateway", "set security ike gateway g version v1-only\nset security ipsec vpn b ike gateway g\n"},
		{"one IKEv2 gateway", "set security ike gateway g version v2-only\nset security ipsec vpn b ike gateway g\n"},
		{"second inactive", "set security ipsec vpn b ike gateway g\ndeactivate security ipsec vpn b\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := build(t, vpnPair+tc.extra, Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSharedGatewayNeedsSelectors: on a shared gateway of either version
// a VPN without traffic selectors is refused at its vpn statement (its
// Child SA or Quick Mode could not be told apart from the other VPN's);
// one with an ike proxy-identity instead is accepted.
func TestSharedGatewayNeedsSelectors(t *testing.T) {
	for _, version := range []string{"v1-only", "v2-only"} {
		t.Run(version, func(t *testing.T) { sharedGatewayNeedsSelectors(t, version) })
	}
}

func sharedGatewayNeedsSelectors(t *testing.T, version string) {
	cfg := vpnPair + "set security ike gateway g version " + version + "\nset security ipsec vpn b ike gateway g\n"
	_, err := build(t, cfg+"delete security ipsec vpn b traffic-selector t\n", Options{})
	if err == nil || !strings.Contains(err.Error(), "security ipsec vpn b: VPNs a and b both use IKE gateway g, and VPN b has no traffic selectors") {
		t.Fatalf("error %v", err)
	}
	cfg += "delete security ipsec vpn b traffic-selector t\n" +
		"set security ipsec vpn b ike proxy-identity local 192.0.2.128/25\nset security ipsec vpn b ike proxy-identity remote 203.0.113.128/25\n"
	if _, err := build(t, cfg, Options{}); err != nil {
		t.Fatal(err)
	}
}
