package pki

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
)

func TestStoreLifecycle(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.GenerateKeyPair("gw1", ECDSA, 384)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := l.Key.Public().(*ecdsa.PublicKey); !ok || k.Curve.Params().BitSize != 384 {
		t.Fatalf("key %T", l.Key.Public())
	}
	if _, err := s.GenerateKeyPair("gw1", RSA, 2048); err == nil {
		t.Fatal("second key pair for gw1")
	}
	if _, err := s.GenerateKeyPair("gw2", RSA, 1024); err == nil || !strings.Contains(err.Error(), "2048, 3072, 4096") {
		t.Fatalf("RSA 1024: %v", err)
	}
	if _, err := s.GenerateKeyPair("../x", RSA, 2048); err == nil {
		t.Fatal("path in certificate-id")
	}
	fi, err := os.Stat(filepath.Join(dir, "pki", "local", "gw1.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", fi.Mode(), err)
	}
	names := Names{Subject: "DC=example,DC=net,CN=gw1", DomainName: "gw1.example.net", IPAddress: netip.MustParseAddr("192.0.2.1"), Email: "gw1@example.net"}
	l, err = s.GenerateSelfSigned("gw1", names)
	if err != nil {
		t.Fatal(err)
	}
	c := l.Cert
	if DNString(c.RawSubject) != "DC=example, DC=net, CN=gw1" || DNString(c.RawIssuer) != DNString(c.RawSubject) ||
		c.DNSNames[0] != "gw1.example.net" || c.IPAddresses[0].String() != "192.0.2.1" || c.EmailAddresses[0] != "gw1@example.net" {
		t.Fatalf("certificate: %s %v %v %v", DNString(c.RawSubject), c.DNSNames, c.IPAddresses, c.EmailAddresses)
	}
	if !isSelfSigned(c) {
		t.Fatal("not self-signed")
	}
	if _, err := s.GenerateSelfSigned("nokey", names); err == nil {
		t.Fatal("self-signed without a key pair")
	}
	// The self-signed certificate is its own ca-profile's root, and its
	// identity is its subject.
	id, err := LocalIdentity(l, schema.Identity{Type: "distinguished-name"})
	if err != nil || id.Type != wire.ID_DER_ASN1_DN || !wire.SameDN(id.Data, c.RawSubject) {
		t.Fatalf("local identity %v %v", id, err)
	}
	if _, err := LocalIdentity(l, schema.Identity{Type: "hostname", Value: "other.example.net"}); CauseOf(errors.Unwrap(err)) != CauseIdentityMismatch {
		t.Fatalf("hostname not in the certificate: %v", err)
	}
	csrPEM, err := s.CertificateRequest("gw1", Names{Subject: "CN=gw1, O=Example", DomainName: "gw1.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(csrPEM)
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil || csr.CheckSignature() != nil || DNString(csr.RawSubject) != "CN=gw1, O=Example" || csr.DNSNames[0] != "gw1.example.net" {
		t.Fatalf("CSR: %v", err)
	}
	if !csr.PublicKey.(*ecdsa.PublicKey).Equal(l.Key.Public()) {
		t.Fatal("CSR of another key")
	}
	// A restart reads everything back.
	if _, err := s.LoadCA("example", ssFile(t, "chain.crt")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadCRL("example", ssFile(t, "inter.crl")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadLocal("rsa", ssFile(t, "rsa.crt"), ssFile(t, "rsa.key")); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l2, ok := s2.Local("gw1")
	if !ok || !l2.Cert.Equal(c) || KeyFingerprint(l2.Key.Public()) != KeyFingerprint(l.Key.Public()) || l2.Source != "generated" {
		t.Fatalf("gw1 after restart: %+v", l2)
	}
	if r, ok := s2.Local("rsa"); !ok || r.Source != "loaded" || r.Cert == nil {
		t.Fatalf("rsa after restart: %+v", r)
	}
	if len(s2.CACertificates("example")) != 2 || len(s2.CRLs("example")) != 1 || len(s2.Locals()) != 2 {
		t.Fatalf("after restart: %d CA, %d CRL, %d local", len(s2.CACertificates("example")), len(s2.CRLs("example")), len(s2.Locals()))
	}
	// The key never shows in what the store prints.
	if strings.Contains(l2.String(), "PRIVATE") || !strings.Contains(l2.String(), KeyFingerprint(l2.Key.Public())) {
		t.Fatalf("String: %s", l2)
	}
	if err := s2.ClearLocal("gw1"); err != nil {
		t.Fatal(err)
	}
	if err := s2.ClearLocal("gw1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("clear twice: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pki", "local", "gw1.key")); !os.IsNotExist(err) {
		t.Fatalf("key file left: %v", err)
	}
	s3, _ := Open(dir, Options{})
	if _, ok := s3.Local("gw1"); ok {
		t.Fatal("cleared certificate back after restart")
	}
}

func TestLoadLocalChecks(t *testing.T) {
	s, _ := Open(t.TempDir(), Options{})
	_, err := s.LoadLocal("x", ssFile(t, "rsa.crt"), ssFile(t, "ecdsa.key"))
	if err == nil || !strings.Contains(err.Error(), "is not the key of the certificate") {
		t.Fatalf("mismatch: %v", err)
	}
	if strings.Contains(err.Error(), "BEGIN") {
		t.Fatal("error quotes the key")
	}
	if _, err := s.LoadLocal("x", []byte("junk"), ssFile(t, "rsa.key")); err == nil {
		t.Fatal("junk certificate")
	}
	if _, err := s.LoadCA("p", ssFile(t, "rsa.crt")); err == nil {
		t.Fatal("leaf loaded as CA")
	}
	if _, err := s.LoadCRL("p", ssFile(t, "inter.crl")); err == nil {
		t.Fatal("CRL without CA")
	}
	l, err := s.LoadLocal("ec", ssFile(t, "ecdsa.crt"), ssFile(t, "ecdsa.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Key.(*rsa.PrivateKey); ok {
		t.Fatal("type")
	}
	// A self-signed local certificate as a peer would see it: its own
	// ca-profile verifies it.
	s.GenerateKeyPair("self", RSA, 2048)
	self, err := s.GenerateSelfSigned("self", Names{Subject: "CN=self", DomainName: "self.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyChain(TrustPolicy{Profile: "selfca"}, [][]byte{self.Cert.Raw}, time.Now()); CauseOf(err) != CauseUnknownCA {
		t.Fatal(err)
	}
	if _, err := s.LoadCA("selfca", certPEM(self.Cert.Raw)); err != nil {
		t.Fatal(err)
	}
	chain, err := s.VerifyChain(TrustPolicy{Profile: "selfca", CheckCRL: true}, [][]byte{self.Cert.Raw}, time.Now())
	if err != nil || len(chain) != 1 {
		t.Fatalf("pinned self-signed certificate: %v", err)
	}
	if _, err := s.VerifyChain(TrustPolicy{Profile: "selfca"}, [][]byte{l.Cert.Raw}, time.Now()); CauseOf(err) != CauseUnknownCA {
		t.Fatalf("another certificate against a pinned one: %v", err)
	}
}

func TestCertPayloadsAndRequests(t *testing.T) {
	s, _ := Open(t.TempDir(), Options{})
	withChain := append(ssFile(t, "rsa.crt"), ssFile(t, "inter.crt")...)
	l, err := s.LoadLocal("rsa", withChain, ssFile(t, "rsa.key"))
	if err != nil {
		t.Fatal(err)
	}
	if p := l.CertPayloads(); len(p) != 2 || !bytesEqual(p[0].Data, l.Cert.Raw) || !bytesEqual(p[1].Data, ssDER(t, "inter.crt")) {
		t.Fatalf("CERT payloads: %d", len(p))
	}
	if _, err := s.LoadLocal("bad", append(ssFile(t, "rsa.crt"), ssFile(t, "ecdsa.crt")...), ssFile(t, "rsa.key")); err == nil {
		t.Fatal("a leaf accepted as an intermediate")
	}
	s.LoadCA("example", ssFile(t, "root.crt"))
	s.LoadCA("other", ssFile(t, "other-root.crt"))
	example, _ := s.CertReq("example").CAs()
	other, _ := s.CertReq("other").CAs()
	if len(example) != 1 || len(other) != 1 {
		t.Fatalf("CERTREQ hashes: %d %d", len(example), len(other))
	}
	// The chain is kept across a restart.
	s2, _ := Open(filepath.Dir(s.dir), Options{})
	l2, _ := s2.Local("rsa")
	if len(l2.Chain) != 1 {
		t.Fatalf("chain after restart: %d", len(l2.Chain))
	}
	if !s2.Requested(l2, example) || s2.Requested(l2, other) || !s2.Requested(l2, nil) {
		t.Fatal("Requested")
	}
	inter, _ := ParseCertificates(ssFile(t, "inter.crt"))
	if !s2.Requested(l2, [][wire.CAKeyHashLen]byte{wire.CAKeyHash(inter[0].RawSubjectPublicKeyInfo)}) {
		t.Fatal("the intermediate's hash is not a request for rsa")
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
