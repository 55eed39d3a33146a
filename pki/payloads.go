package pki

import (
	"bytes"
	"crypto/x509"

	"ipsecgw/ike/wire"
)

// The CERT and CERTREQ payloads of IKE_AUTH (RFC 7296 §3.6, §3.7).

// CertPayloads are the CERT payloads we send: the local certificate, then
// the intermediates loaded with it.
func (l *Local) CertPayloads() []*wire.Cert {
	if l.Cert == nil {
		return nil
	}
	out := []*wire.Cert{wire.X509Cert(l.Cert.Raw)}
	for _, c := range l.Chain {
		out = append(out, wire.X509Cert(c.Raw))
	}
	return out
}

// CertReq is the CERTREQ we send for a ca-profile: the key hashes of its
// CA certificates, so the peer picks a certificate we can verify.
func (s *Store) CertReq(profile string) *wire.CertReq {
	var hashes [][wire.CAKeyHashLen]byte
	for _, c := range s.CACertificates(profile) {
		hashes = append(hashes, wire.CAKeyHash(c.RawSubjectPublicKeyInfo))
	}
	return wire.X509CertReq(hashes...)
}

// Requested reports whether a peer's CERTREQ names a CA our local
// certificate chains to (by the intermediates loaded with it and the CA
// certificates of every ca-profile), or names none. An engine may send
// its certificate anyway (RFC 7296 §3.7); this chooses between several.
func (s *Store) Requested(l *Local, cas [][wire.CAKeyHashLen]byte) bool {
	if l.Cert == nil {
		return false
	}
	if len(cas) == 0 {
		return true
	}
	want := map[[wire.CAKeyHashLen]byte]bool{}
	for _, h := range cas {
		want[h] = true
	}
	candidates := append([]*x509.Certificate{}, l.Chain...)
	for _, p := range s.CAProfiles() {
		candidates = append(candidates, s.CACertificates(p)...)
	}
	c := l.Cert
	for range 8 { // chains are short; a loop in the names must end
		// The leaf itself counts only when self-signed (a peer that pinned it).
		if want[wire.CAKeyHash(c.RawSubjectPublicKeyInfo)] && (c != l.Cert || isSelfSigned(c)) {
			return true
		}
		next := issuerIn(c, candidates)
		if next == nil || next == c {
			return false
		}
		c = next
	}
	return false
}

// issuerIn returns the certificate of list that issued c, or nil.
func issuerIn(c *x509.Certificate, list []*x509.Certificate) *x509.Certificate {
	for _, p := range list {
		if bytes.Equal(p.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(p) == nil {
			return p
		}
	}
	return nil
}
