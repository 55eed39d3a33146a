package schema

import (
	"strings"
	"testing"
	"time"
)

const pkiBase = `
set security pki ca-profile root ca-identity Root-CA
set security pki ca-profile strict
set security pki ca-profile lax revocation-check crl disable on-download-failure
set security pki ca-profile lax revocation-check crl refresh-interval 12
set security pki ca-profile none revocation-check disable
set security ike proposal psk authentication-method pre-shared-keys
set security ike policy p proposals psk
set security ike policy p pre-shared-key ascii-text secret123
set security ike policy p certificate local-certificate gw1
set security ike policy p certificate trusted-ca ca-profile root
set security ike policy p certificate peer-certificate-type x509-signature
set security ike gateway g ike-policy p
set security ike gateway g address 192.0.2.1
set security ike gateway g local-identity distinguished-name "CN=gw1, O=Example"
set security ike gateway g remote-identity distinguished-name "CN=gw2, O=Example"
`

func TestPKIModel(t *testing.T) {
	c, err := build(t, pkiBase, Options{})
	if err != nil {
		t.Fatal(err)
	}
	root, strict, lax, none := c.CAProfile("root"), c.CAProfile("strict"), c.CAProfile("lax"), c.CAProfile("none")
	if root == nil || root.CAIdentity != "Root-CA" || !root.CheckCRL || root.AcceptWithoutCRL || root.RefreshInterval != 24*time.Hour {
		t.Fatalf("root: %+v", root)
	}
	if strict.CAIdentity != "strict" || !strict.CheckCRL {
		t.Fatalf("strict: %+v", strict)
	}
	if !lax.CheckCRL || !lax.AcceptWithoutCRL || lax.RefreshInterval != 12*time.Hour {
		t.Fatalf("lax: %+v", lax)
	}
	if none.CheckCRL {
		t.Fatalf("none: %+v", none)
	}
	pc := c.IKE.Policies[0].Certificate
	if pc == nil || pc.LocalCertificate != "gw1" || pc.TrustedCA != root || pc.PeerType != "x509-signature" {
		t.Fatalf("policy certificate: %+v", pc)
	}
	g := c.IKE.Gateways[0]
	if g.LocalIdentity != (Identity{Type: "distinguished-name", Value: "CN=gw1, O=Example"}) ||
		g.RemoteIdentity != (Identity{Type: "distinguished-name", Value: "CN=gw2, O=Example"}) {
		t.Fatalf("identities: %+v %+v", g.LocalIdentity, g.RemoteIdentity)
	}
	// fragmentation is applied (IKEv2, RFC 7383), and said not to be on
	// an IKEv1 gateway.
	c, err = build(t, pkiBase+"set security ike gateway g fragmentation size 1200\n", Options{})
	if err != nil || !hasNotice(c, "security ike gateway g fragmentation", "v1-only") {
		t.Fatalf("fragmentation on an IKEv1 gateway: %v, notices %+v", err, c.Notices)
	}
	c, err = build(t, pkiBase+"set security ike gateway g version v2-only\nset security ike gateway g fragmentation size 1200\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g := c.IKE.Gateways[0]; hasNotice(c, "security ike gateway g fragmentation", "not applied") || !g.Fragmentation || g.FragmentSize != 1200 {
		t.Fatalf("fragmentation: %+v, notices %+v", g, c.Notices)
	}
	c, err = build(t, pkiBase+"set security ike gateway g fragmentation disable\n", Options{})
	if err != nil || c.IKE.Gateways[0].Fragmentation {
		t.Fatalf("fragmentation disable: %v %+v", err, c.IKE.Gateways[0])
	}
}

func hasNotice(c *Config, path, text string) bool {
	for _, n := range c.Notices {
		if n.Path == path && strings.Contains(n.Msg, text) {
			return true
		}
	}
	return false
}

// pkiSigning is pkiBase with the policy authenticating with rsa-signatures.
const pkiSigning = pkiBase + `set security ike proposal rsa authentication-method rsa-signatures
delete security ike policy p proposals
set security ike policy p proposals rsa
set security ike gateway g version v2-only
`

func TestPKISignatureAccepted(t *testing.T) {
	for _, tc := range []struct{ name, add string }{
		{"rsa exact names", ""},
		{"container", "delete security ike gateway g remote-identity\nset security ike gateway g remote-identity distinguished-name container \"O=Example, OU=VPN\"\n"},
		{"wildcard", "delete security ike gateway g remote-identity\nset security ike gateway g remote-identity distinguished-name wildcard \"OU=VPN\"\n"},
		{"local subject", "delete security ike gateway g local-identity\nset security ike gateway g local-identity distinguished-name\n"},
		{"ikev1 rsa main", "set security ike gateway g version v1-only\n"},
		{"suite-b set", "delete security ike policy p proposals\nset security ike policy p proposal-set suiteb-gcm-128\nset security ike gateway g version v2-only\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := build(t, pkiSigning+tc.add, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !c.IKE.Gateways[0].Policy.signs() {
				t.Fatal("the policy does not sign")
			}
		})
	}
}

func TestPKIRefused(t *testing.T) {
	for _, tc := range []struct{ base, name, add, want string }{
		{pkiBase, "mixed", "set security ike proposal rsa authentication-method rsa-signatures\nset security ike policy p proposals rsa\n",
			"t.conf:13:39: security ike gateway g ike-policy: IKE policy p mixes authentication-method pre-shared-keys and rsa-signatures"},
		{pkiSigning, "no local certificate", "delete security ike policy p certificate local-certificate\n",
			"IKE policy p authenticates with rsa-signatures and names no local certificate"},
		{pkiSigning, "ikev1 ecdsa", "set security ike proposal e authentication-method ecdsa-signatures-256\ndelete security ike policy p proposals\nset security ike policy p proposals e\nset security ike gateway g version v1-only\n",
			"authenticates with ecdsa-signatures-256, which ipsecgw's IKEv1 does not do (rsa-signatures only)"},
		{pkiSigning, "ikev1 aggressive", "set security ike policy p mode aggressive\nset security ike gateway g version v1-only\n",
			"IKE policy p authenticates with rsa-signatures in aggressive mode"},
		{pkiBase, "services", "set services ipsec-vpn ike proposal s authentication-method rsa-signatures\nset services ipsec-vpn ike policy sp proposals s\n",
			"services ipsec-vpn ike policy sp proposals: proposal s uses authentication-method rsa-signatures, but services ipsec-vpn authenticates with pre-shared keys only"},
		{pkiBase, "unknown ca-profile", "set security ike policy p certificate trusted-ca ca-profile nope\n",
			"security ike policy p certificate trusted-ca ca-profile: CA profile nope is not defined; expected the name of a CA profile under [edit security pki ca-profile] (defined: root, strict, lax, none)"},
		{pkiBase, "exact and wildcard", "set security ike gateway g remote-identity distinguished-name wildcard \"OU=VPN\"\n",
			"an exact name and container or wildcard are both configured"},
		{pkiBase, "pkcs7", "set security ike policy p certificate peer-certificate-type pkcs7\n",
			"does not accept PKCS#7"},
		{pkiBase, "container with psk", "delete security ike gateway g remote-identity\nset security ike gateway g remote-identity distinguished-name container \"O=Example, OU=VPN\"\n",
			"security ike gateway g remote-identity distinguished-name: distinguished-name container and wildcard match the peer's certificate, and the IKE policy authenticates with a pre-shared key"},
		{pkiBase, "wildcard with psk", "delete security ike gateway g remote-identity\nset security ike gateway g remote-identity distinguished-name wildcard \"OU=VPN\"\n",
			"distinguished-name container and wildcard"},
		{pkiBase, "local subject with psk", "delete security ike gateway g local-identity\nset security ike gateway g local-identity distinguished-name\n",
			"is the subject of the local certificate, and the IKE policy authenticates with a pre-shared key"},
		{pkiBase, "local subject no cert", "delete security ike policy p certificate local-certificate\ndelete security ike gateway g local-identity\nset security ike gateway g local-identity distinguished-name\n",
			"the IKE policy names none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, tc.base+tc.add, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}
