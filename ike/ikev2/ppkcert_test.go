package ikev2

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/ike"
	"ipsecgw/pki/pkitest"
)

// ppkCertPair runs one negotiation between certificate sides (each AUTH
// method of the table's kind) with the given extra configuration.
func ppkCertPair(t *testing.T, ca *pkitest.CA, method, kind, extraA, extraB string) (a, b *Engine, ia, ib *installs, p *pipe) {
	t.Helper()
	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia = newCertSide(t, certSide{me: 1, peer: 2, method: method, kind: kind, ca: ca, trust: ca, cn: "a.example.net", extra: extraA}, p)
	b, ib = newCertSide(t, certSide{me: 2, peer: 1, method: method, kind: kind, ca: ca, trust: ca, cn: "b.example.net", extra: extraB}, p)
	t.Cleanup(func() { a.Close(); p.wg.Wait(); b.Close() })
	if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
		t.Fatal(err)
	}
	return a, b, ia, ib, p
}

var ppkCertMethods = []struct{ method, kind string }{
	{"certificates", "ecdsa"},
	{"rsa-signatures", "rsa"},
	{"ecdsa-signatures-256", "ecdsa"},
}

// TestPPKWithCertificates: a PPK on top of certificate authentication.
// With the same PPK both sides use it; with an optional PPK and a peer
// without it (no PPK, another PPK_ID) the SA comes up without, the
// responder checking the initiator's NO_PPK_AUTH signature (made with the
// plain SK_pi, by AUTH's method) in place of its AUTH (RFC 8784 §3).
func TestPPKWithCertificates(t *testing.T) {
	ca := pkitest.NewCA(t, "Root")
	for _, m := range ppkCertMethods {
		for _, tc := range []struct {
			name, a, b string
			used       bool
		}{
			{"same PPK", ppkConf("id1", ppkA, false), ppkConf("id1", ppkA, true), true},
			{"responder knows another PPK_ID", ppkConf("id1", ppkA, false), ppkConf("id2", ppkB, false), false},
			{"responder has none", ppkConf("id1", ppkA, false), "", false},
			{"initiator has none", "", ppkConf("id1", ppkA, false), false},
		} {
			t.Run(m.method+"/"+tc.name, func(t *testing.T) {
				a, b, ia, ib, _ := ppkCertPair(t, ca, m.method, m.kind, tc.a, tc.b)
				sa, sb := waitUp(t, a), waitUp(t, b)
				if sa.PPKUsed != tc.used || sb.PPKUsed != tc.used {
					t.Fatalf("PPK used %v/%v, want %v", sa.PPKUsed, sb.PPKUsed, tc.used)
				}
				ca, cb := ia.get()[0], ib.get()[0]
				if !bytes.Equal(ca.Outbound.Encryption, cb.Inbound.Encryption) {
					t.Fatal("child keys do not pair")
				}
				b.mu.Lock()
				var peerCert string
				for _, s := range b.sas {
					peerCert = s.peerCert
				}
				b.mu.Unlock()
				if !strings.Contains(peerCert, "CN=a.example.net") {
					t.Fatalf("responder's peer certificate %q", peerCert)
				}
			})
		}
	}
}

// TestPPKWithCertificatesRefuses: a mandatory PPK refuses a certificate
// peer that does not use it, and different PPKs under the same PPK_ID
// fail with the responder saying that the certificate signature is right
// (NO_PPK_AUTH verifies) and the PPKs differ.
func TestPPKWithCertificatesRefuses(t *testing.T) {
	ca := pkitest.NewCA(t, "Root")
	for _, m := range ppkCertMethods {
		for _, tc := range []struct {
			name, a, b string
			who        string // which side's failure carries the reason
			want       string
		}{
			{"responder mandatory, other PPK_ID", ppkConf("id2", ppkA, false), ppkConf("id1", ppkA, true), "b", "did not use it (no PPK_IDENTITY with PPK_ID \"id1\")"},
			{"responder mandatory, initiator none", "", ppkConf("id1", ppkA, true), "b", "no USE_PPK in IKE_SA_INIT"},
			{"initiator mandatory, responder none", ppkConf("id1", ppkA, true), "", "a", "no USE_PPK in IKE_SA_INIT"},
			{"initiator mandatory, other PPK_ID", ppkConf("id2", ppkA, true), ppkConf("id1", ppkA, false), "b", "PPK_ID we do not know and sent no NO_PPK_AUTH"},
			{"PPKs differ", ppkConf("id1", ppkA, false), ppkConf("id1", ppkB, false), "b", "the peer's PPK differs from ours (its certificate signature is right)"},
			{"PPKs differ, the initiator told", ppkConf("id1", ppkA, false), ppkConf("id1", ppkB, false), "a", "check the PPK, the certificate signature and identities"},
			{"PPKs differ, initiator mandatory", ppkConf("id1", ppkA, true), ppkConf("id1", ppkB, false), "b", "wrong PPK, certificate signature or identity"},
		} {
			t.Run(m.method+"/"+tc.name, func(t *testing.T) {
				a, b, ia, ib, p := ppkCertPair(t, ca, m.method, m.kind, tc.a, tc.b)
				e := a
				if tc.who == "b" {
					e = b
				}
				eventually(t, "the failure", func() bool { return len(e.Failures()) > 0 })
				p.wg.Wait()
				if len(ia.get())+len(ib.get()) != 0 {
					t.Fatal("a Child SA was installed")
				}
				f := e.Failures()[0].Failure
				if !strings.Contains(f.Message, tc.want) || f.Cause != ike.CauseAuthentication {
					t.Fatalf("reason %q (%v), want %q", f.Message, f.Cause, tc.want)
				}
				for _, s := range []string{ppkA, ppkB} {
					if strings.Contains(f.Message, s) {
						t.Fatalf("a failure shows the PPK: %q", f.Message)
					}
				}
			})
		}
	}
}

// TestPPKWithCertificatesNamesCertificateRefusal: a certificate refused
// under a PPK (here expired) is named in the responder's reason, not
// blamed on the PPK alone.
func TestPPKWithCertificatesNamesCertificateRefusal(t *testing.T) {
	ca := pkitest.NewCA(t, "Root")
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia := newCertSide(t, certSide{me: 1, peer: 2, method: "certificates", kind: "ecdsa", ca: ca, trust: ca, cn: "a.example.net", expired: true,
		extra: ppkConf("id1", ppkA, true)}, p)
	b, ib := newCertSide(t, certSide{me: 2, peer: 1, method: "certificates", kind: "ecdsa", ca: ca, trust: ca, cn: "b.example.net",
		extra: ppkConf("id1", ppkA, true)}, p)
	t.Cleanup(func() { a.Close(); p.wg.Wait(); b.Close() })
	if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failure", func() bool { return len(b.Failures()) > 0 })
	p.wg.Wait()
	if len(ia.get())+len(ib.get()) != 0 {
		t.Fatal("a Child SA was installed")
	}
	f := b.Failures()[0].Failure
	if !strings.Contains(f.Message, "with PPK km") || !strings.Contains(f.Message, "certificate expired") {
		t.Fatalf("reason %q", f.Message)
	}
}
