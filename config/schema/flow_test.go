package schema

import (
	"strings"
	"testing"
	"time"
)

// TestCloudSRXModel: the cloud provider's SRX configuration builds; its
// flow and monitoring statements reach the model, and the zones and
// policies are reported as accepted and not applied.
func TestCloudSRXModel(t *testing.T) {
	c := buildFile(t, "../testdata/cloud/srx.set", Options{InterfaceMap: map[string]string{"ge-0/0/0": "eth0", "ge-0/0/1": "eth1"}})
	if c.Flow.TCPMSS != 1379 {
		t.Errorf("tcp-mss = %d", c.Flow.TCPMSS)
	}
	if len(c.IPsec.VPNs) != 2 {
		t.Fatalf("VPNs: %d", len(c.IPsec.VPNs))
	}
	for i, v := range c.IPsec.VPNs {
		m := v.Monitor
		if m == nil || m.Interval != 10*time.Second || m.Threshold != 3 || m.Optimized || m.Source != v.BindInterface || !m.DestinationIP.IsValid() {
			t.Errorf("VPN %d monitor: %+v", i, m)
		}
		if g := v.IKE.Gateway; g.Version != 1 || g.DPD == nil || g.DPD.Threshold != 3 {
			t.Errorf("VPN %d gateway: %+v", i, g)
		}
		if pfs := v.IKE.Policy.PFSGroup; pfs != "group2" {
			t.Errorf("VPN %d PFS: %q", i, pfs)
		}
	}
	var notices []string
	for _, n := range c.Notices {
		notices = append(notices, n.Path+": "+n.Msg)
	}
	all := strings.Join(notices, "\n")
	for _, want := range []string{"security policies: accepted, not applied", "security zones: accepted, not applied"} {
		if !strings.Contains(all, want) {
			t.Errorf("no notice %q in:\n%s", want, all)
		}
	}
}

func TestFlowAndMonitorDefaults(t *testing.T) {
	c, err := build(t, `set interfaces st0 unit 1 family inet address 169.254.0.2/30
set security ike proposal p authentication-method pre-shared-keys
set security ike policy ip proposals p
set security ike policy ip pre-shared-key ascii-text k
set security ike gateway g ike-policy ip
set security ike gateway g address 192.0.2.1
set security ipsec policy pp proposal-set standard
set security ipsec vpn v bind-interface st0.1
set security ipsec vpn v ike gateway g ipsec-policy pp
set security ipsec vpn v vpn-monitor optimized
set security flow tcp-mss ipsec-vpn
set security flow tcp-mss all-tcp mss 1400
`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Flow.TCPMSS != 1320 {
		t.Errorf("tcp-mss ipsec-vpn without mss = %d, want Junos' 1320", c.Flow.TCPMSS)
	}
	m := c.IPsec.VPNs[0].Monitor
	if m == nil || !m.Optimized || m.Interval != 10*time.Second || m.Threshold != 10 || m.Source.Name() != "st0.1" || m.DestinationIP.IsValid() {
		t.Errorf("monitor defaults: %+v", m)
	}
	if len(c.Notices) != 1 || c.Notices[0].Path != "security flow tcp-mss all-tcp" {
		t.Errorf("notices: %+v", c.Notices)
	}
}

func TestMonitorWithoutBindInterfaceIsNotApplied(t *testing.T) {
	c, err := build(t, `set interfaces eth1 unit 0 family inet address 192.0.2.1/24
set security ipsec vpn v manual gateway 192.0.2.2
set security ipsec vpn v manual external-interface eth1
set security ipsec vpn v manual protocol esp
set security ipsec vpn v manual spi 300
set security ipsec vpn v manual encryption algorithm aes-256-gcm
set security ipsec vpn v manual encryption key ascii-text "abcdefghijklmnopqrstuvwxyz0123456789"
set security ipsec vpn v vpn-monitor destination-ip 198.18.2.1
`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.IPsec.VPNs[0].Monitor != nil || len(c.Notices) != 1 || !strings.Contains(c.Notices[0].Msg, "not applied") ||
		c.Notices[0].Path != "security ipsec vpn v vpn-monitor" {
		t.Fatalf("monitor %+v, notices %+v", c.IPsec.VPNs[0].Monitor, c.Notices)
	}
}
