package schema

import (
	"strconv"
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

// TestVPNsSharingAGateway: two VPNs on two gateways are accepted; two on
// one gateway (whatever its IKE version) are refused at the second VPN's
// ike gateway statement, with both VPNs named, since the second would
// replace the first in the IKE engine; an inactive second VPN is no clash.
func TestVPNsSharingAGateway(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		refused     bool
	}{
		{"two gateways", "set security ipsec vpn b ike gateway h\n", false},
		{"one gateway", "set security ipsec vpn b ike gateway g\n", true},
		{"one IKEv1 gateway", "set security ike gateway g version v1-only\nset security ipsec vpn b ike gateway g\n", true},
		{"one IKEv2 gateway", "set security ike gateway g version v2-only\nset security ipsec vpn b ike gateway g\n", true},
		{"second inactive", "set security ipsec vpn b ike gateway g\ndeactivate security ipsec vpn b\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, vpnPair+tc.extra, Options{})
			if !tc.refused {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("two VPNs on one IKE gateway were accepted")
			}
			msg := err.Error()
			// VPN b's ike gateway statement is the last line; its value,
			// g, starts at column 38.
			line := strings.Count(vpnPair+tc.extra, "\n")
			want := "t.conf:" + strconv.Itoa(line) + ":38: security ipsec vpn b ike gateway: VPNs a and b both use IKE gateway g"
			if !strings.Contains(msg, want) || !strings.Contains(msg, "not supported yet") {
				t.Fatalf("error: %s\nwant it to contain %q", msg, want)
			}
		})
	}
}
