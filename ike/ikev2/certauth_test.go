package ikev2

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
	"ipsecgw/pki"
	"ipsecgw/pki/pkitest"
)

// certSide is a side authenticating with a certificate of ca (trusting
// trust), with the policy's authentication-method and remote-identity.
type certSide struct {
	me, peer      int
	method        string
	kind          string // rsa or ecdsa
	ca, trust     *pkitest.CA
	expired       bool
	remoteID      string // a set command's tail for remote-identity; "" none
	localID       string // the same for local-identity
	cn            string
	wantReason    string
	wantInstalled bool
	extra         string      // more set commands
	clock         clock.Clock // nil: the real one
}

func newCertSide(t *testing.T, s certSide, p *pipe) (*Engine, *installs) {
	t.Helper()
	src := fmt.Sprintf(gatewayConfig, s.me, s.peer, "group19", "aes-256-gcm", "unused", "aes-256-gcm") +
		"set security ike proposal sig authentication-method " + s.method + "\n" +
		"set security ike proposal sig dh-group group19\nset security ike proposal sig encryption-algorithm aes-256-gcm\n" +
		"delete security ike policy pol proposals\nset security ike policy pol proposals sig\n" +
		"set security pki ca-profile root revocation-check disable\n" +
		"set security ike policy pol certificate local-certificate me\nset security ike policy pol certificate trusted-ca ca-profile root\n"
	if s.remoteID != "" {
		src += "set security ike gateway gw remote-identity " + s.remoteID + "\n"
	}
	if s.localID != "" {
		src += "set security ike gateway gw local-identity " + s.localID + "\n"
	}
	src += s.extra
	tr, err := config.Parse("gw.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := cfg.IPsec.VPNs[0]
	peer, err := resolve.Peer(v, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", s.me)))
	if err != nil {
		t.Fatal(err)
	}
	store := s.ca.Store(t, s.trust, s.cn, s.kind, s.expired)
	g := v.IKE.Gateway
	peer.Auth = &pki.Authenticator{Store: store, Gateway: g.Name, CertificateID: "me", Method: s.method,
		Trust: []pki.TrustPolicy{pki.TrustPolicyFor(g.Policy.Certificate.TrustedCA)}, RemoteIdentity: g.RemoteIdentity, LocalIdentity: g.LocalIdentity}
	inst := &installs{}
	e := NewEngine(ike.Config{Transport: p, Installer: inst, Clock: s.clock})
	e.AddPeer(peer)
	p.mu.Lock()
	p.engines[peer.Local] = e
	p.mu.Unlock()
	return e, inst
}

// TestCertificateAuth: two engines authenticate with certificates, each
// AUTH method, and refuse an expired certificate, an unknown CA and an
// identity that does not match, with the reason kept.
func TestCertificateAuth(t *testing.T) {
	ca, other := pkitest.NewCA(t, "Root"), pkitest.NewCA(t, "Other Root")
	for _, tc := range []struct {
		name string
		a, b certSide
		// wantMethod is the AUTH method the initiator used.
		wantMethod wire.AuthMethod
	}{
		{name: "rsa", a: certSide{method: "rsa-signatures", kind: "rsa"}, b: certSide{method: "rsa-signatures", kind: "rsa"}, wantMethod: wire.AuthRSASignature},
		{name: "ecdsa-256", a: certSide{method: "ecdsa-signatures-256", kind: "ecdsa"}, b: certSide{method: "ecdsa-signatures-256", kind: "ecdsa"}, wantMethod: wire.AuthECDSA256},
		{name: "rfc7427 rsa and ecdsa", a: certSide{method: "certificates", kind: "rsa"}, b: certSide{method: "certificates", kind: "ecdsa"}, wantMethod: wire.AuthDigitalSignature},
		{name: "wildcard container", a: certSide{method: "certificates", kind: "ecdsa", remoteID: `distinguished-name wildcard "OU=VPN, O=Example"`},
			b: certSide{method: "certificates", kind: "ecdsa", remoteID: `distinguished-name container "O=Example, OU=VPN"`}, wantMethod: wire.AuthDigitalSignature},
		{name: "hostname", a: certSide{method: "certificates", kind: "ecdsa", remoteID: "hostname b.example.net"},
			b: certSide{method: "certificates", kind: "ecdsa", localID: "hostname b.example.net"}, wantMethod: wire.AuthDigitalSignature},
		{name: "expired", a: certSide{method: "certificates", kind: "ecdsa", expired: true},
			b: certSide{method: "certificates", kind: "ecdsa", wantReason: "certificate expired"}},
		{name: "unknown CA", a: certSide{method: "certificates", kind: "ecdsa"},
			b: certSide{method: "certificates", kind: "ecdsa", wantReason: "unknown CA", trust: other}},
		{name: "identity mismatch", a: certSide{method: "certificates", kind: "ecdsa", remoteID: `distinguished-name wildcard "OU=Sales"`, wantReason: "identity mismatch"},
			b: certSide{method: "certificates", kind: "ecdsa"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			tc.a.me, tc.a.peer, tc.a.ca, tc.a.cn = 1, 2, ca, "a.example.net"
			tc.b.me, tc.b.peer, tc.b.ca, tc.b.cn = 2, 1, ca, "b.example.net"
			for _, s := range []*certSide{&tc.a, &tc.b} {
				if s.trust == nil {
					s.trust = ca
				}
			}
			a, ia := newCertSide(t, tc.a, p)
			b, ib := newCertSide(t, tc.b, p)
			defer func() {
				a.Close()
				p.wg.Wait()
				b.Close()
			}()
			if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
				t.Fatal(err)
			}
			if tc.a.wantReason == "" && tc.b.wantReason == "" {
				waitUp(t, a)
				waitUp(t, b)
				if len(ia.get()) != 1 || len(ib.get()) != 1 {
					t.Fatal("no Child SAs")
				}
				a.mu.Lock()
				var got wire.AuthMethod
				var peerCert string
				for _, sa := range a.sas {
					got, peerCert = sa.authMethod, sa.peerCert
				}
				a.mu.Unlock()
				if got != tc.wantMethod || !strings.Contains(peerCert, "CN=b.example.net") {
					t.Fatalf("initiator signed with %v (want %v), peer certificate %q", got, tc.wantMethod, peerCert)
				}
				return
			}
			refuser, other := b, a
			want := tc.b.wantReason
			if tc.a.wantReason != "" {
				refuser, other, want = a, b, tc.a.wantReason
			}
			// A responder that refuses answers AUTHENTICATION_FAILED; an
			// initiator that refuses says so in an INFORMATIONAL (§2.21.2).
			eventually(t, "the failure", func() bool { return len(refuser.Failures()) > 0 && len(other.Failures()) > 0 })
			f := refuser.Failures()[0].Failure
			if f.Cause != ike.CauseAuthentication || f.Reason != want || !strings.Contains(f.Message, want) {
				t.Fatalf("refusing side's failure %+v, want reason %q", f, want)
			}
			// The refusing initiator installs nothing; the responder it
			// refused removes what it installed.
			if len(ia.get()) != 0 || refuser == b && len(ib.get()) != 0 {
				t.Fatal("a Child SA was installed")
			}
			eventually(t, "the refused responder's Child SA removed", func() bool {
				ib.mu.Lock()
				defer ib.mu.Unlock()
				return ib.removed == len(ib.children)
			})
			if o := other.Failures()[0].Failure; o.Cause != ike.CauseAuthentication || o.Notify != uint16(wire.AUTHENTICATION_FAILED) || !o.NotifyReceived {
				t.Fatalf("other side's failure %+v", o)
			}
		})
	}
}

// TestCertificateAuthAfterIKERekey: the IKE SA made by a rekey (no new
// authentication, §2.18) keeps the peer's certificate subject shown.
func TestCertificateAuthAfterIKERekey(t *testing.T) {
	clk := clock.NewFake(time.Now())
	ca := pkitest.NewCA(t, "Root")
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ike proposal sig lifetime-seconds 180\n"
	a, _ := newCertSide(t, certSide{me: 1, peer: 2, method: "certificates", kind: "ecdsa", ca: ca, trust: ca, cn: "a.example.net", extra: life, clock: clk}, p)
	b, _ := newCertSide(t, certSide{me: 2, peer: 1, method: "certificates", kind: "ecdsa", ca: ca, trust: ca, cn: "b.example.net", extra: life, clock: clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	first := waitUp(t, a)
	waitUp(t, b)
	if !strings.Contains(first.PeerCertificate, "CN=b.example.net") {
		t.Fatalf("before the rekey: %+v", first)
	}
	clk.Advance(162 * time.Second)
	eventually(t, "the IKE rekey", func() bool {
		sas, sbs := a.SAs(), b.SAs()
		return len(sas) == 1 && len(sbs) == 1 && sas[0].InitiatorSPI != first.InitiatorSPI && sas[0].InitiatorSPI == sbs[0].InitiatorSPI
	})
	p.wg.Wait()
	if sa := a.SAs()[0]; !strings.Contains(sa.PeerCertificate, "CN=b.example.net") || sa.State != "UP" {
		t.Fatalf("after the IKE rekey: %+v", sa)
	}
	if sb := b.SAs()[0]; !strings.Contains(sb.PeerCertificate, "CN=a.example.net") {
		t.Fatalf("the responder after the IKE rekey: %+v", sb)
	}
	a.Close()
	p.wg.Wait()
	b.Close()
}
