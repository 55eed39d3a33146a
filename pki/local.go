package pki

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"time"
)

// Names are what a request for a local certificate carries: the subject
// in Junos's form ("DC=example,DC=net,CN=gw1") and the subjectAltName
// entries (domain-name, ip-address, email).
type Names struct {
	Subject    string
	DomainName string
	IPAddress  netip.Addr
	Email      string
}

func (n Names) template() (*x509.Certificate, error) {
	if n.Subject == "" {
		return nil, fmt.Errorf("a subject is required, such as \"DC=example,DC=net,CN=gw1\"")
	}
	subject, err := SubjectDER(n.Subject)
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{RawSubject: subject}
	if n.DomainName != "" {
		t.DNSNames = []string{n.DomainName}
	}
	if n.IPAddress.IsValid() {
		t.IPAddresses = []net.IP{net.IP(n.IPAddress.AsSlice())}
	}
	if n.Email != "" {
		t.EmailAddresses = []string{n.Email}
	}
	return t, nil
}

// SelfSignedValidity is how long a self-signed certificate is valid
// (Junos: five years [U]).
const SelfSignedValidity = 5 * 365 * 24 * time.Hour

// GenerateSelfSigned issues a self-signed certificate for id's key pair
// (request security pki local-certificate generate-self-signed): the key
// pair must exist (generate-key-pair first, as in Junos).
func (s *Store) GenerateSelfSigned(id string, n Names) (*Local, error) {
	l, t, err := s.keyAndTemplate(id, n)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial(s)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t.SerialNumber = serial
	t.NotBefore = now.Add(-time.Minute).UTC() // a peer's clock a little behind still accepts it
	t.NotAfter = now.Add(SelfSignedValidity).UTC()
	t.BasicConstraintsValid = true
	t.KeyUsage = x509.KeyUsageDigitalSignature
	if _, isRSA := l.Key.Public().(*rsa.PublicKey); isRSA {
		t.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(s.rand, t, t, l.Key.Public(), l.Key)
	if err != nil {
		return nil, fmt.Errorf("certificate-id %s: %w", id, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return s.setCert(id, cert)
}

// CertificateRequest makes a PKCS #10 request, in PEM, for id's key pair
// (request security pki generate-certificate-request).
func (s *Store) CertificateRequest(id string, n Names) ([]byte, error) {
	l, t, err := s.keyAndTemplate(id, n)
	if err != nil {
		return nil, err
	}
	req := &x509.CertificateRequest{RawSubject: t.RawSubject, DNSNames: t.DNSNames, IPAddresses: t.IPAddresses, EmailAddresses: t.EmailAddresses}
	der, err := x509.CreateCertificateRequest(s.rand, req, l.Key)
	if err != nil {
		return nil, fmt.Errorf("certificate-id %s: %w", id, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// randomSerial is a positive 127-bit serial number (RFC 5280 §4.1.2.2:
// at most 20 octets, positive).
func randomSerial(s *Store) (*big.Int, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	b[0] |= 0x01 // never zero
	return new(big.Int).SetBytes(b[:]), nil
}

// keyAndTemplate finds id's key pair (generate-key-pair comes first, as in
// Junos) and makes the certificate template of n.
func (s *Store) keyAndTemplate(id string, n Names) (*Local, *x509.Certificate, error) {
	l, ok := s.Local(id)
	if !ok {
		return nil, nil, fmt.Errorf("certificate-id %s has no key pair; generate one with request security pki generate-key-pair certificate-id %s", id, id)
	}
	t, err := n.template()
	if err != nil {
		return nil, nil, err
	}
	return l, t, nil
}
