package schema

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"ipsecgw/config"
)

func build(t *testing.T, src string, opts Options) (*Config, error) {
	t.Helper()
	tr, err := config.Parse("t.conf", []byte(src), rand.NewChaCha8([32]byte{}))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return Build(tr, opts)
}

// buildFails builds src and fails t unless that fails with exactly the
// error want; it returns the error.
func buildFails(t *testing.T, src, want string) error {
	t.Helper()
	_, err := build(t, src, Options{})
	if err == nil {
		t.Fatal("built without error")
	}
	if got := err.Error(); got != want {
		t.Errorf("error:\n got %s\nwant %s", got, want)
	}
	return err
}

func buildFile(t *testing.T, file string, opts Options) *Config {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := config.Parse(file, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Build(tr, opts)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

func TestSeed004Model(t *testing.T) {
	c := buildFile(t, "../../examples/seed004/peer1.conf", Options{InterfaceMap: map[string]string{"et-0/2/10": "veth1"}})
	if len(c.IKE.Proposals) != 1 {
		t.Fatalf("IKE proposals: %d", len(c.IKE.Proposals))
	}
	p := c.IKE.Proposals[0]
	// Seed 004: a proposal with only authentication-method negotiates
	// hmac-sha1-96 / 3des-cbc / hmac-sha1 / DH-group-2.
	if p.AuthenticationAlgorithm != "sha1" || p.EncryptionAlgorithm != "3des-cbc" || p.DHGroup != "group2" || p.Lifetime != 28800*time.Second {
		t.Fatalf("IKE proposal defaults: %+v", p)
	}
	g := c.IKE.Gateways[0]
	if g.Version != 2 || g.Policy.Name != "ike_policy" || g.Addresses[0] != "16.1.1.1" || !g.NATTraversal || g.DPD != nil {
		t.Fatalf("gateway: %+v", g)
	}
	if g.ExternalInterface == nil || g.ExternalInterface.Name() != "et-0/2/10.0" || g.ExternalInterface.Interface.HostName != "veth1" {
		t.Fatalf("external interface: %+v", g.ExternalInterface)
	}
	psk, err := g.Policy.PreSharedKey.Bytes()
	if err != nil || string(psk) != "test123" {
		t.Fatalf("pre-shared key: %q %v", psk, err)
	}
	v := c.IPsec.VPNs[0]
	if v.BindInterface.Name() != "st0.1" || !v.CopyOuterDSCP || v.DFBit != "clear" || v.EstablishTunnels != "immediately" {
		t.Fatalf("vpn: %+v", v)
	}
	if v.IKE.Gateway != g || !v.IKE.AntiReplay || v.IKE.ReplayWindow != 64 || v.IKE.Policy.Proposals[0].EncryptionAlgorithm != "aes-256-gcm" {
		t.Fatalf("vpn ike: %+v", v.IKE)
	}
	if pr := v.IKE.Policy.Proposals[0]; pr.Lifetime != time.Hour || pr.Protocol != "esp" || pr.ExtendedSequenceNumbers {
		t.Fatalf("ipsec proposal: %+v", pr)
	}
	if r := c.Routes[0]; r.Prefix.String() != "2.2.2.0/24" || r.Interfaces[0].Name() != "st0.1" {
		t.Fatalf("route: %+v", r)
	}
	ss := c.ServiceSets[0]
	if ss.VPN != v || ss.Inside.Name() != "si-0/0/0.0" || ss.Outside.Name() != "si-0/0/0.1" {
		t.Fatalf("service set: %+v", ss)
	}
	unmapped := c.UnmappedInterfaces()
	if len(unmapped) != 1 || unmapped[0] != "et-0/1/8" {
		t.Fatalf("unmapped: %v", unmapped)
	}
	var sawChassis bool
	for _, n := range c.Notices {
		if strings.HasPrefix(n.Path, "chassis fpc") && strings.Contains(n.Msg, "not applied") {
			sawChassis = true
		}
	}
	if !sawChassis {
		t.Fatalf("no notice for chassis: %+v", c.Notices)
	}
}

func TestSeed001Model(t *testing.T) {
	c := buildFile(t, "../../examples/seed001/r2.conf", Options{})
	sv := c.Services
	if len(sv.Rules) != 1 || sv.Rules[0].MatchDirection != "input" {
		t.Fatalf("rules: %+v", sv.Rules)
	}
	term := sv.Rules[0].Terms[0]
	if term.RemoteGateway.String() != "10.1.15.2" || term.IKEPolicy.Name != "ike-policy-preshared" {
		t.Fatalf("term: %+v", term)
	}
	// The AS PIC defaults of seed 001: ESP, HMAC-SHA1-96, 3DES-CBC.
	ip := term.IPsecPolicy.Proposals[0]
	if ip.Protocol != "esp" || ip.AuthenticationAlgorithm != "hmac-sha1-96" || ip.EncryptionAlgorithm != "3des-cbc" || ip.Lifetime != 28800*time.Second {
		t.Fatalf("ipsec defaults: %+v", ip)
	}
	ik := term.IKEPolicy.Proposals[0]
	if ik.EncryptionAlgorithm != "3des-cbc" || ik.AuthenticationAlgorithm != "sha1" || ik.DHGroup != "group2" || ik.Lifetime != time.Hour || term.IKEPolicy.Mode != "main" {
		t.Fatalf("ike defaults: %+v", ik)
	}
	key, _ := term.IKEPolicy.PreSharedKey.Bytes()
	if string(key) != "juniper" {
		t.Fatalf("key = %q", key)
	}
	ss := c.ServiceSets[0]
	if ss.Inside.Name() != "sp-1/2/0.1" || ss.LocalGateway.String() != "10.1.15.1" || ss.Rules[0] != sv.Rules[0] {
		t.Fatalf("service set: %+v", ss)
	}
	if lo := c.Interface("lo0"); lo == nil || lo.HostName != "lo" {
		t.Fatalf("lo0: %+v", lo)
	}
	for _, n := range c.Notices {
		if strings.HasPrefix(n.Path, "protocols") {
			t.Fatalf("protocols ospf runs now; notice %+v", n)
		}
	}
	o := c.Routing.OSPF
	if o == nil || len(o.Areas) != 1 || o.Areas[0].ID.String() != "0.0.0.0" || len(o.Areas[0].Interfaces) != 3 {
		t.Fatalf("ospf: %+v", o)
	}
	for i, want := range []struct{ unit, typ string }{{"so-0/0/0.0", "p2p"}, {"lo0.0", ""}, {"sp-1/2/0.1", "p2p"}} {
		if oi := o.Areas[0].Interfaces[i]; oi.Unit.Name() != want.unit || oi.Type != want.typ {
			t.Errorf("ospf interface %d: %s %q, want %s %q", i, oi.Unit.Name(), oi.Type, want.unit, want.typ)
		}
	}
}

func TestModelErrors(t *testing.T) {
	base := `security {
    ike {
        proposal p1 { authentication-method pre-shared-keys; }
        policy pol { proposals p1; pre-shared-key ascii-text "k"; }
        gateway gw { ike-policy pol; address 192.0.2.1; version v2-only; }
    }
    ipsec {
        proposal ip1 { encryption-algorithm aes-256-gcm; }
        policy ipol { proposals ip1; }
    }
}
interfaces { st0 { unit 1 { family inet; } } }
`
	for _, tc := range []struct{ name, extra, want string }{
		{"dangling gateway policy", "security { ike { gateway gw2 { ike-policy nope; address 192.0.2.2; } } }",
			"t.conf:13:43: security ike gateway gw2 ike-policy: IKE policy nope is not defined; expected the name of a policy under [edit security ike policy] (defined: pol)"},
		{"dangling proposal", "security { ike { policy pol2 { proposals [ p1 p9 ]; pre-shared-key ascii-text x; } } }",
			"t.conf:13:47: security ike policy pol2 proposals: proposal p9 is not defined; expected the name of a proposal under [edit security ike proposal] (defined: p1)"},
		{"bind to missing st0 unit", "security { ipsec { vpn v { bind-interface st0.7; ike { gateway gw; ipsec-policy ipol; } } } }",
			"t.conf:13:43: security ipsec vpn v bind-interface: interface st0.7 is not configured; expected a unit configured under [edit interfaces]"},
		{"vpn to missing gateway", "security { ipsec { vpn v { ike { gateway gw9; ipsec-policy ipol; } } } }",
			"t.conf:13:42: security ipsec vpn v ike gateway: IKE gateway gw9 is not defined; expected the name of a gateway under [edit security ike gateway] (defined: gw)"},
		{"route next-hop interface missing", "routing-options { static { route 198.51.100.0/24 next-hop st0.3; } }",
			"t.conf:13:59: routing-options static route 198.51.100.0/24 next-hop: next-hop interface st0.3 is not configured; expected a unit configured under [edit interfaces]"},
		{"rule without match-direction", "services { ipsec-vpn { rule r { term t { then { remote-gateway 192.0.2.9; dynamic { ike-policy x; } } } } ike { policy x { pre-shared-key ascii-text k; } } } }",
			"t.conf:13:24: services ipsec-vpn rule r: rule r has no match-direction; expected match-direction input or output"},
		{"policy without proposals", "security { ike { policy empty { pre-shared-key ascii-text k; } } }",
			"t.conf:13:18: security ike policy empty: IKE policy empty has no proposals; expected proposals NAME... or proposal-set NAME"},
		{"gcm with auth", "security { ipsec { proposal bad { encryption-algorithm aes-128-gcm; authentication-algorithm hmac-sha1-96; } } }",
			"t.conf:13:94: security ipsec proposal bad authentication-algorithm: aes-128-gcm authenticates by itself; an authentication-algorithm cannot be combined with it; expected no authentication-algorithm with an AEAD cipher"},
		{"manual key length", "security { ipsec { vpn m { manual { gateway 192.0.2.1; protocol esp; spi 300; encryption { algorithm aes-256-gcm; key ascii-text short; } } } } }",
			"t.conf:13:115: security ipsec vpn m manual encryption key: aes-256-gcm needs a 36-byte key, this key has 5 bytes; expected a key of 36 characters"},
		{"insecure algorithm", "security { ipsec { proposal old { encryption-algorithm des-cbc; authentication-algorithm hmac-md5-96; } } }",
			"t.conf:13:56: security ipsec proposal old encryption-algorithm: des-cbc is insecure and not implemented by ipsecgw; expected a current algorithm (for example aes-256-gcm, group14 or stronger)"},
		{"service-set unknown vpn", "services { service-set s { ipsec-vpn nothere; } }",
			"t.conf:13:38: services service-set s ipsec-vpn: IPsec VPN nothere is not defined; expected the name of a VPN under [edit security ipsec vpn] (none are defined)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := buildFails(t, base+tc.extra+"\n", tc.want)
			if strings.Contains(err.Error(), "short") {
				t.Error("error contains the key")
			}
		})
	}
	if _, err := build(t, base, Options{}); err != nil {
		t.Fatalf("base configuration: %v", err)
	}
}

func TestInactiveIsIgnored(t *testing.T) {
	c, err := build(t, `security { ike {
    proposal p { dh-group group14; }
    policy pol { proposals p; pre-shared-key ascii-text k; }
    inactive: gateway gw { ike-policy missing; address 192.0.2.1; }
} }`, Options{})
	if err != nil {
		t.Fatalf("an inactive gateway with a dangling reference must not fail the build: %v", err)
	}
	if len(c.IKE.Gateways) != 0 {
		t.Fatalf("inactive gateway built: %+v", c.IKE.Gateways)
	}
}

func TestInterfaceMap(t *testing.T) {
	m, err := ParseInterfaceMap("et-0/2/10=eth1, et-0/1/8=eth0")
	if err != nil || m["et-0/2/10"] != "eth1" || m["et-0/1/8"] != "eth0" {
		t.Fatalf("map %v, %v", m, err)
	}
	for _, bad := range []string{"et-0/2/10", "=eth0", "a=b/c", "a=verylonginterfacename0"} {
		if _, err := ParseInterfaceMap(bad); err == nil {
			t.Errorf("ParseInterfaceMap(%q) accepted", bad)
		}
	}
	c, err := build(t, "interfaces { et-0/2/10 { host-interface veth7; unit 0; } }", Options{InterfaceMap: map[string]string{"et-0/2/10": "eth1"}})
	if err != nil || c.Interfaces[0].HostName != "veth7" {
		t.Fatalf("host-interface must win over the flag: %+v %v", c.Interfaces[0], err)
	}
}
