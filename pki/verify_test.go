package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
)

// The certificates in testdata/strongswan were made by strongSwan's pki
// tool (make.sh); they are verified at the time make.sh ran.

func ssFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "strongswan", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ssNow(t *testing.T) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(string(ssFile(t, "now.txt"))), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(n, 0).Add(time.Hour)
}

func ssDER(t *testing.T, name string) []byte {
	t.Helper()
	certs, err := ParseCertificates(ssFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return certs[0].Raw
}

func strongSwanStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadCA("example", ssFile(t, "chain.crt")); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyStrongSwanChain(t *testing.T) {
	s := strongSwanStore(t)
	now := ssNow(t)
	lax := TrustPolicy{Profile: "example", CheckCRL: false}
	// The CA profile holds only the root: the peer sends its intermediate.
	rootOnly, _ := Open(t.TempDir(), Options{})
	if _, err := rootOnly.LoadCA("example", ssFile(t, "root.crt")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		store *Store
		p     TrustPolicy
		certs [][]byte
		want  Cause
	}{
		{"rsa leaf", s, lax, [][]byte{ssDER(t, "rsa.crt")}, CauseNone},
		{"ecdsa leaf", s, lax, [][]byte{ssDER(t, "ecdsa.crt")}, CauseNone},
		{"intermediate sent by the peer", rootOnly, lax, [][]byte{ssDER(t, "rsa.crt"), ssDER(t, "inter.crt")}, CauseNone},
		{"intermediate missing", rootOnly, lax, [][]byte{ssDER(t, "rsa.crt")}, CauseUnknownCA},
		{"expired", s, lax, [][]byte{ssDER(t, "expired.crt")}, CauseExpired},
		{"unknown CA", s, lax, [][]byte{ssDER(t, "unknown.crt")}, CauseUnknownCA},
		{"revoked, CRL not loaded, strict", s, TrustPolicy{Profile: "example", CheckCRL: true}, [][]byte{ssDER(t, "revoked.crt")}, CauseNoCRL},
		{"revoked, CRL not loaded, on-download-failure", s, TrustPolicy{Profile: "example", CheckCRL: true, AcceptWithoutCRL: true}, [][]byte{ssDER(t, "revoked.crt")}, CauseNone},
		{"no CA loaded", s, TrustPolicy{Profile: "nothing"}, [][]byte{ssDER(t, "rsa.crt")}, CauseUnknownCA},
		{"garbage", s, lax, [][]byte{[]byte("not a certificate")}, CauseMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain, err := tc.store.VerifyChain(tc.p, tc.certs, now)
			if got := CauseOf(err); got != tc.want {
				t.Fatalf("cause %v (%v), want %v", got, err, tc.want)
			}
			if tc.want == CauseNone && (len(chain) != 3 || !strings.Contains(DNString(chain[2].RawSubject), "Root")) {
				t.Fatalf("chain %d long", len(chain))
			}
		})
	}
	// With both CRLs loaded, the revoked leaf is revoked and the others pass.
	if _, err := s.LoadCRL("example", ssFile(t, "inter.crl")); err != nil {
		t.Fatal(err)
	}
	strict := TrustPolicy{Profile: "example", CheckCRL: true}
	if _, err := s.VerifyChain(strict, [][]byte{ssDER(t, "rsa.crt")}, now); CauseOf(err) != CauseNoCRL {
		t.Fatalf("root CRL missing: %v", err)
	}
	if _, err := s.LoadCRL("example", ssFile(t, "root.crl")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyChain(strict, [][]byte{ssDER(t, "rsa.crt")}, now); err != nil {
		t.Fatalf("rsa leaf with CRLs: %v", err)
	}
	_, err := s.VerifyChain(strict, [][]byte{ssDER(t, "revoked.crt")}, now)
	if CauseOf(err) != CauseRevoked || !strings.Contains(err.Error(), "CN=revoked.example.net") {
		t.Fatalf("revoked: %v", err)
	}
	// A CRL past its next update is as good as none.
	if _, err := s.VerifyChain(strict, [][]byte{ssDER(t, "rsa.crt")}, now.Add(20*365*24*time.Hour)); CauseOf(err) != CauseExpired {
		t.Fatalf("far future: %v", err)
	}
	// A CRL signed by another CA is refused at load.
	if _, err := s.LoadCRL("other", ssFile(t, "inter.crl")); err == nil {
		t.Fatal("CRL loaded into a profile without its CA")
	}
}

func TestVerifyBadSignature(t *testing.T) {
	s := strongSwanStore(t)
	der := append([]byte{}, ssDER(t, "rsa.crt")...)
	der[len(der)-5] ^= 0x01 // inside the signature value
	_, err := s.VerifyChain(TrustPolicy{Profile: "example"}, [][]byte{der}, ssNow(t))
	if CauseOf(err) != CauseBadSignature {
		t.Fatalf("cause %v: %v", CauseOf(err), err)
	}
}

func TestStrongSwanIdentities(t *testing.T) {
	rsaCert, _ := ParseCertificates(ssFile(t, "rsa.crt"))
	ecCert, _ := ParseCertificates(ssFile(t, "ecdsa.crt"))
	dn := func(s string) wire.Identification {
		der, err := SubjectDER(s)
		if err != nil {
			t.Fatal(err)
		}
		return wire.Identification{Type: wire.ID_DER_ASN1_DN, Data: der}
	}
	subject := wire.Identification{Type: wire.ID_DER_ASN1_DN, Data: rsaCert[0].RawSubject}
	for _, tc := range []struct {
		name string
		want schema.Identity
		id   wire.Identification
		ok   bool
	}{
		{"any identity in the cert", schema.Identity{}, subject, true},
		{"DN exact", schema.Identity{Type: "distinguished-name", Value: "C=US, O=Example, OU=VPN, CN=gw-rsa.example.net"}, subject, true},
		{"DN exact, other", schema.Identity{Type: "distinguished-name", Value: "C=US, O=Example, CN=gw-rsa.example.net"}, subject, false},
		{"container", schema.Identity{Type: "distinguished-name", Container: "O=Example, OU=VPN"}, subject, true},
		{"container, wrong order", schema.Identity{Type: "distinguished-name", Container: "OU=VPN, O=Example"}, subject, false},
		{"wildcard, any order", schema.Identity{Type: "distinguished-name", Wildcard: "OU=VPN, O=Example, CN="}, subject, true},
		{"wildcard, missing attribute", schema.Identity{Type: "distinguished-name", Wildcard: "OU=VPN, L=Paris"}, subject, false},
		{"ID DN not the subject", schema.Identity{}, dn("CN=someone else"), false},
		{"hostname in SAN", schema.Identity{Type: "hostname", Value: "gw-rsa.example.net"}, wire.Identification{Type: wire.ID_FQDN, Data: []byte("GW-RSA.example.net")}, true},
		{"hostname not in SAN", schema.Identity{}, wire.Identification{Type: wire.ID_FQDN, Data: []byte("other.example.net")}, false},
		{"hostname differs from remote-identity", schema.Identity{Type: "hostname", Value: "x.example.net"}, wire.Identification{Type: wire.ID_FQDN, Data: []byte("gw-rsa.example.net")}, false},
		{"IPv4 in SAN", schema.Identity{Type: "inet", Value: "192.0.2.1"}, wire.Identification{Type: wire.ID_IPV4_ADDR, Data: []byte{192, 0, 2, 1}}, true},
		{"IPv4 not in SAN", schema.Identity{}, wire.Identification{Type: wire.ID_IPV4_ADDR, Data: []byte{192, 0, 2, 2}}, false},
		{"DN remote-identity, FQDN sent", schema.Identity{Type: "distinguished-name", Container: "O=Example"}, wire.Identification{Type: wire.ID_FQDN, Data: []byte("gw-rsa.example.net")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := MatchRemoteIdentity(tc.want, rsaCert[0], tc.id)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && CauseOf(err) != CauseIdentityMismatch {
				t.Fatalf("cause %v", CauseOf(err))
			}
		})
	}
	email := wire.Identification{Type: wire.ID_RFC822_ADDR, Data: []byte("vpn@example.net")}
	if err := MatchRemoteIdentity(schema.Identity{Type: "user-at-hostname", Value: "vpn@example.net"}, ecCert[0], email); err != nil {
		t.Fatal(err)
	}
	v6 := wire.Identification{Type: wire.ID_IPV6_ADDR, Data: []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}}
	if err := MatchRemoteIdentity(schema.Identity{Type: "inet6", Value: "2001:db8::1"}, ecCert[0], v6); err != nil {
		t.Fatal(err)
	}
}

// strongSwan's own signatures, re-read as RFC 7427 AUTH data: each CRL's
// signatureAlgorithm and signature over its tbsCertList are exactly what
// a peer's method 14 AUTH carries (AlgorithmIdentifier, then the
// signature): sha256WithRSAEncryption (root.crl), RSASSA-PSS with SHA-384
// and strongSwan's PSS parameters (root-pss.crl), ecdsa-with-SHA384 in
// DER (inter.crl, by the P-384 intermediate).
func TestStrongSwanSignaturesAsDigitalSignatureAuth(t *testing.T) {
	root, _ := ParseCertificates(ssFile(t, "root.crt"))
	inter, _ := ParseCertificates(ssFile(t, "inter.crt"))
	for _, c := range []struct {
		file   string
		signer *x509.Certificate
		scheme string
	}{
		{"root.crl", root[0], "sha256WithRSAEncryption"},
		{"root-pss.crl", root[0], "RSASSA-PSS with SHA-384"},
		{"inter.crl", inter[0], "ecdsa-with-SHA384"},
	} {
		b, _ := pem.Decode(ssFile(t, c.file))
		in := cryptobyte.String(b.Bytes)
		var list, tbs, alg cryptobyte.String
		var sig asn1.BitString
		if !in.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
			!list.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !list.ReadASN1BitString(&sig) {
			t.Fatalf("%s: cannot read the CRL", c.file)
		}
		auth, err := wire.DigitalSignature{AlgorithmIdentifier: alg, Signature: sig.Bytes}.Auth()
		if err != nil {
			t.Fatal(err)
		}
		d, _ := auth.DigitalSignature()
		s, _, err := schemeOf(d)
		if err != nil || s.Name != c.scheme {
			t.Fatalf("%s: scheme %q %v, want %s", c.file, s.Name, err, c.scheme)
		}
		if err := VerifyAuth(c.signer.PublicKey, auth, tbs); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if err := VerifyAuth(c.signer.PublicKey, auth, tbs[1:]); CauseOf(err) != CauseBadSignature {
			t.Fatalf("%s: other data: %v", c.file, err)
		}
	}
}
