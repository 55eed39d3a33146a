package ikev1

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
	"ipsecgw/pki"
	"ipsecgw/pki/pkitest"
)

// sigExtra turns gatewayConfig's policy into RSA signatures with the
// certificate "me" trusted by ca-profile root.
const sigExtra = `set security ike proposal p1 authentication-method rsa-signatures
delete security ike policy pol pre-shared-key
set security pki ca-profile root revocation-check disable
set security ike policy pol certificate local-certificate me
set security ike policy pol certificate trusted-ca ca-profile root
`

// withCertificate gives a side an Authenticator over a store holding a
// certificate of ca for cn (of key kind, expired or not) and trusting
// trust.
func withCertificate(t *testing.T, ca, trust *pkitest.CA, cn, kind string, expired bool, remoteID string) func(*ike.Peer, *schema.Config) {
	return func(p *ike.Peer, cfg *schema.Config) {
		store := ca.Store(t, trust, cn, kind, expired)
		g := cfg.IPsec.VPNs[0].IKE.Gateway
		p.Auth = &pki.Authenticator{Store: store, Gateway: g.Name, CertificateID: "me", Method: "rsa-signatures",
			Trust: []pki.TrustPolicy{pki.TrustPolicyFor(g.Policy.Certificate.TrustedCA)}, RemoteIdentity: schema.Identity{Type: "distinguished-name", Wildcard: remoteID}}
	}
}

// newSigSide is newSide for a side whose peer hook gives it an
// Authenticator (gatewayConfig with sigExtra, AES-CBC and SHA-256).
func newSigSide(t *testing.T, me int, p *pipe, hook func(*ike.Peer, *schema.Config)) (*Engine, *installs) {
	t.Helper()
	src := fmt.Sprintf(gatewayConfig, me, 3-me, "group14", "sha-256", "aes-128-cbc", "unused", "aes-128-cbc", "hmac-sha-256-128") + sigExtra
	tr, err := config.Parse("gw.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	peer, err := resolve.Peer(cfg.IPsec.VPNs[0], netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", me)))
	if err != nil {
		t.Fatal(err)
	}
	hook(peer, cfg)
	inst := &installs{next: uint32(me) << 16}
	e := NewEngine(ike.Config{Transport: p, Installer: inst, Logger: testLogger()})
	if err := e.AddPeer(peer); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.engines[peer.Local] = e
	p.mu.Unlock()
	return e, inst
}

// TestMainModeRSASignatures: two engines run Main Mode with RSA
// signatures and certificates; a certificate of an unknown CA or an
// expired one is refused with the reason kept, and so is an ECDSA key.
func TestMainModeRSASignatures(t *testing.T) {
	ca, other := pkitest.NewCA(t, "Root"), pkitest.NewCA(t, "Other Root")
	for _, tc := range []struct {
		name       string
		bTrust     *pkitest.CA
		aExpired   bool
		aKind      string
		wantReason string // b's failure; "" for success
	}{
		{name: "rsa", aKind: "rsa"},
		{name: "unknown CA", aKind: "rsa", bTrust: other, wantReason: "unknown CA"},
		{name: "expired", aKind: "rsa", aExpired: true, wantReason: "certificate expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			bTrust := ca
			if tc.bTrust != nil {
				bTrust = tc.bTrust
			}
			a, ia := newSigSide(t, 1, p, withCertificate(t, ca, ca, "a.example.net", tc.aKind, tc.aExpired, "OU=VPN, O=Example"))
			b, ib := newSigSide(t, 2, p, withCertificate(t, ca, bTrust, "b.example.net", "rsa", false, "O=Example"))
			defer func() {
				a.Close()
				b.Close()
			}()
			if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
				t.Fatal(err)
			}
			if tc.wantReason == "" {
				eventually(t, "Child SAs on both sides", func() bool { na, _ := ia.counts(); nb, _ := ib.counts(); return na == 1 && nb == 1 })
				return
			}
			eventually(t, "the responder's failure", func() bool { return len(b.Failures()) > 0 })
			f := b.Failures()[0].Failure
			if f.Cause != ike.CauseAuthentication || f.Reason != tc.wantReason || !strings.Contains(f.Message, tc.wantReason) {
				t.Fatalf("responder's failure %+v, want reason %q", f, tc.wantReason)
			}
			if na, _ := ia.counts(); na != 0 {
				t.Fatal("the initiator installed a Child SA")
			}
		})
	}
}
