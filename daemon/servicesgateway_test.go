package daemon

import (
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/netio"
)

// secVPN is a [security ipsec vpn] on st0.1 whose gateway g goes to
// 192.0.2.2 (servicesConfig's peer, the IKE term's remote gateway),
// after which a case adds g's version and local end.
const secVPN = `set interfaces eth1 unit 0 family inet address 192.0.2.3/24
set interfaces st0 unit 1 family inet
set security ike proposal p authentication-method pre-shared-keys
set security ike proposal p dh-group group14
set security ike proposal p authentication-algorithm sha-256
set security ike proposal p encryption-algorithm aes-256-cbc
set security ike policy ip proposals p
set security ike policy ip pre-shared-key ascii-text "test123"
set security ike gateway g ike-policy ip
set security ike gateway g address 192.0.2.2
set security ike gateway g external-interface eth1
set security ipsec proposal q protocol esp
set security ipsec proposal q encryption-algorithm aes-128-gcm
set security ipsec policy pp proposals q
set security ipsec vpn v bind-interface st0.1
set security ipsec vpn v ike gateway g
set security ipsec vpn v ike ipsec-policy pp
`

// TestPreflightServicesGatewayShare: a services IKE term may share its
// remote gateway with another IKE user when the engine of their version
// tells them apart (IKEv2: by the local address; different versions: by
// engine), and is refused, both named, when it cannot (IKEv2 from the
// same local address; IKEv1, keyed by remote address alone, from any).
func TestPreflightServicesGatewayShare(t *testing.T) {
	h, err := NewMemHost(netio.NewMemNetwork(), []string{"eth1"}, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{host: h}
	v1Term := "set services ipsec-vpn ike policy ikep version 1\n"
	for _, tc := range []struct {
		name, extra, want string // want "": accepted
	}{
		{"IKEv2, the gateway from eth1's 192.0.2.1, the term's local gateway",
			secVPN + "set security ike gateway g version v2-only\n",
			"service set ss rule r term ike: remote gateway 192.0.2.2 is also used by IKE gateway g, both IKEv2 from 192.0.2.1: a message to one could be the other's; give each a local address of its own"},
		{"IKEv2, the gateway's local-address the term's local gateway",
			secVPN + "set security ike gateway g version v2-only\nset security ike gateway g local-address 192.0.2.1\n",
			"service set ss rule r term ike: remote gateway 192.0.2.2 is also used by IKE gateway g, both IKEv2 from 192.0.2.1: a message to one could be the other's; give each a local address of its own"},
		{"IKEv2, the gateway from another local address",
			secVPN + "set security ike gateway g version v2-only\nset security ike gateway g local-address 192.0.2.3\n", ""},
		{"IKEv2, the term from another local gateway",
			secVPN + "set security ike gateway g version v2-only\nset services service-set ss ipsec-vpn-options local-gateway 192.0.2.3\n", ""},
		{"IKEv2 term, IKEv1 gateway from the same address",
			secVPN, ""},
		{"IKEv1 term, IKEv2 gateway from the same address",
			secVPN + "set security ike gateway g version v2-only\n" + v1Term, ""},
		{"IKEv1, the gateway from the same address",
			secVPN + v1Term,
			"service set ss rule r term ike: remote gateway 192.0.2.2 is also used by IKE gateway g: the IKEv1 engine runs one peer per remote address"},
		{"IKEv1, the gateway from another local address",
			secVPN + v1Term + "set security ike gateway g local-address 192.0.2.3\n",
			"service set ss rule r term ike: remote gateway 192.0.2.2 is also used by IKE gateway g: the IKEv1 engine runs one peer per remote address"},
		{"IKEv2, the term's backup remote gateway the gateway's address",
			strings.Replace(secVPN, "address 192.0.2.2", "address 192.0.2.4", 1) + "set security ike gateway g version v2-only\n" +
				"set services ipsec-vpn rule r term ike then backup-remote-gateway 192.0.2.4\n",
			"service set ss rule r term ike: remote gateway 192.0.2.4 is also used by IKE gateway g, both IKEv2 from 192.0.2.1: a message to one could be the other's; give each a local address of its own"},
		{"IKEv2, a gateway no VPN uses",
			strings.Replace(secVPN, "set security ipsec vpn v ike gateway g\n", "set security ike gateway g2 ike-policy ip\n"+
				"set security ike gateway g2 address 192.0.2.9\nset security ike gateway g2 external-interface eth1\nset security ipsec vpn v ike gateway g2\n", 1) +
				"set security ike gateway g version v2-only\n", ""},
	} {
		cfg := buildServices(t, tc.extra)
		err := checkServices(cfg, ServiceTunnels(cfg))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		}
		if tc.want == "" && err == nil {
			if err := d.preflight(cfg, ServiceTunnels(cfg)); err != nil {
				t.Errorf("%s: preflight: %v", tc.name, err)
			}
		}
	}
}
