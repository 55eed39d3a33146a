package resolve

import (
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/ike"
)

const gateway = `set interfaces st0 unit 1 family inet
set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 dh-group group14
set security ike proposal p1 authentication-algorithm sha-256
set security ike proposal p1 encryption-algorithm aes-128-cbc
set security ike policy pol proposals p1
set security ike policy pol pre-shared-key ascii-text "k"
set security ike gateway gw ike-policy pol
set security ike gateway gw address [ 192.0.2.2 192.0.2.3 ]
set security ipsec proposal ip1 protocol esp
set security ipsec proposal ip1 encryption-algorithm aes-128-cbc
set security ipsec proposal ip1 authentication-algorithm hmac-sha1-96
set security ipsec proposal ip1 lifetime-kilobytes 4096
set security ipsec policy ipol proposals ip1
set security ipsec policy ipol perfect-forward-secrecy keys group14
set security ipsec vpn vpn1 bind-interface st0.1
set security ipsec vpn vpn1 ike gateway gw
set security ipsec vpn vpn1 ike ipsec-policy ipol
`

func vpn(t *testing.T, extra string) *schema.VPN {
	t.Helper()
	tr, err := config.Parse("gw.conf", []byte(gateway+extra), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.IPsec.VPNs[0]
}

// TestPeerBothVersions: the same VPN resolves alike for either version:
// rows, not keywords; addresses; the establish-tunnels and DPD settings.
func TestPeerBothVersions(t *testing.T) {
	for _, version := range []string{"v1-only", "v2-only"} {
		v := vpn(t, "set security ike gateway gw version "+version+"\n"+
			"set security ike gateway gw dead-peer-detection probe-idle-tunnel\n"+
			"set security ipsec vpn vpn1 establish-tunnels responder-only-no-rekey\n")
		p, err := Peer(v, netip.MustParseAddr("192.0.2.1"))
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		if p.Remote != netip.MustParseAddr("192.0.2.2") || len(p.Backups) != 1 || string(p.PSK) != "k" {
			t.Errorf("%s: addresses and key %+v", version, p)
		}
		if len(p.IKEProposals) != 1 || p.IKEProposals[0].Encryption.IKEKeyword != "aes-128-cbc" || p.IKEProposals[0].Group.Display == "" {
			t.Errorf("%s: IKE proposals %+v", version, p.IKEProposals)
		}
		if len(p.ESPProposals) != 1 || p.ESPProposals[0].Integrity == nil || p.PFSGroup == nil || p.ChildLifeKilobytes != 4096 {
			t.Errorf("%s: ESP %+v, PFS %v, %d KB", version, p.ESPProposals, p.PFSGroup, p.ChildLifeKilobytes)
		}
		if p.DPDMode != ike.DPDProbeIdle || !p.NoRekey || p.Reinitiate {
			t.Errorf("%s: DPD mode %v, no-rekey %v, reinitiate %v", version, p.DPDMode, p.NoRekey, p.Reinitiate)
		}
	}
	// No mode configured is not the same as optimized: IKEv1 keeps
	// probing a quiet peer then.
	p, err := Peer(vpn(t, "set security ike gateway gw version v1-only\nset security ike gateway gw dead-peer-detection interval 10\n"),
		netip.MustParseAddr("192.0.2.1"))
	if err != nil || p.DPDMode != ike.DPDDefault || p.DPDInterval == 0 {
		t.Errorf("DPD without a mode: %v %+v", err, p)
	}
}

// TestPeerErrors: what a version cannot negotiate fails at commit, saying
// which version and what.
func TestPeerErrors(t *testing.T) {
	for _, tc := range []struct {
		version string
		change  func(*schema.VPN)
		want    string
	}{
		{"v1-only", func(v *schema.VPN) {
			v.IKE.Gateway.LocalIdentity = schema.Identity{Type: "distinguished-name", Value: "CN=a"}
		},
			"ikev1: gateway gw local-identity: identity type distinguished-name is not supported for IKEv1"},
		{"v2-only", func(v *schema.VPN) { v.IKE.Gateway.Addresses = []string{"vpn.example.net"} },
			"ikev2: gateway gw: address vpn.example.net is not an IP address (host names are not resolved yet)"},
		{"v1-only", func(v *schema.VPN) { v.IKE.Policy.Proposals[0].EncryptionAlgorithm = "chacha20-poly1305" },
			"ikev1: gateway gw: IPsec proposal ip1: chacha20-poly1305 has no IKEv1 ESP transform"},
		{"v2-only", func(v *schema.VPN) { v.IKE.Gateway.Policy.Proposals[0].DHGroup = "group1" },
			"ikev2: ike proposal p1: dh-group group1 is insecure and never offered"},
	} {
		v := vpn(t, "set security ike gateway gw version "+tc.version+"\n")
		tc.change(v)
		_, err := Peer(v, netip.MustParseAddr("192.0.2.1"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
}
