package view

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"ipsecgw/pki"
	"ipsecgw/show"
)

// The views of `show security pki`: the store's certificates and CRLs in
// the form the layouts print.

// LocalCertificates lists the local certificates and bare key pairs.
func LocalCertificates(s *pki.Store) []show.Certificate {
	var out []show.Certificate
	for _, l := range s.Locals() {
		location := "Keypair generated locally"
		if l.Source == "loaded" {
			location = "Keypair loaded from a file"
		}
		if l.Cert == nil {
			out = append(out, show.Certificate{ID: l.ID, KeyPairOnly: true, PublicKey: pki.KeyAlgorithm(l.Key.Public()),
				KeyFingerprint: pki.KeyFingerprint(l.Key.Public()), KeyPairLocation: location})
			continue
		}
		c := certificate(l.ID, l.Cert)
		c.KeyPairLocation = location
		out = append(out, c)
	}
	return out
}

// CACertificates lists every ca-profile's certificates; the first of a
// profile is identified by the profile's name, the next by NAME_2, NAME_3.
func CACertificates(s *pki.Store) []show.Certificate {
	var out []show.Certificate
	for _, p := range s.CAProfiles() {
		for i, cert := range s.CACertificates(p) {
			id := p
			if i > 0 {
				id = fmt.Sprintf("%s_%d", p, i+1)
			}
			c := certificate(id, cert)
			c.CAProfile = p
			out = append(out, c)
		}
	}
	return out
}

// CRLs lists every ca-profile's CRLs.
func CRLs(s *pki.Store) []show.CRL {
	var out []show.CRL
	for _, p := range s.CAProfiles() {
		for _, crl := range s.CRLs(p) {
			c := show.CRL{CAProfile: p, Issuer: pki.DNString(crl.RawIssuer), ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate}
			if crl.Number != nil {
				c.Version = int(crl.Number.Int64())
			}
			for _, r := range crl.RevokedCertificateEntries {
				c.Revoked = append(c.Revoked, show.RevokedCertificate{Serial: fmt.Sprintf("%x", r.SerialNumber), Time: r.RevocationTime})
			}
			out = append(out, c)
		}
	}
	return out
}

func certificate(id string, c *x509.Certificate) show.Certificate {
	sha1, sha256 := pki.CertFingerprints(c.Raw)
	out := show.Certificate{
		ID: id, Version: c.Version, Serial: fmt.Sprintf("%x", c.SerialNumber),
		Issuer: pki.DNString(c.RawIssuer), Subject: pki.DNString(c.RawSubject),
		IssuerLabels: pki.DNLabels(c.RawIssuer), SubjectLabels: pki.DNLabels(c.RawSubject),
		IssuedTo: commonName(c.RawSubject), IssuedBy: commonName(c.RawIssuer),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		PublicKey: pki.KeyAlgorithm(c.PublicKey), KeyFingerprint: pki.KeyFingerprint(c.PublicKey),
		SignatureAlgorithm: signatureName(c.SignatureAlgorithm), SHA1: sha1, SHA256: sha256,
	}
	out.AltNames = append(out.AltNames, c.EmailAddresses...)
	out.AltNames = append(out.AltNames, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out.AltNames = append(out.AltNames, ip.String())
	}
	return out
}

// commonName is a name's CN, or the whole name when it has none ("Issued
// to: gw1").
func commonName(der []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdns); err == nil {
		var n pkix.Name
		n.FillFromRDNSequence(&rdns)
		if n.CommonName != "" {
			return n.CommonName
		}
	}
	return pki.DNString(der)
}

// signatureName is the OpenSSL name Junos prints.
func signatureName(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.SHA1WithRSA:
		return "sha1WithRSAEncryption"
	case x509.SHA256WithRSA:
		return "sha256WithRSAEncryption"
	case x509.SHA384WithRSA:
		return "sha384WithRSAEncryption"
	case x509.SHA512WithRSA:
		return "sha512WithRSAEncryption"
	case x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return "rsassaPss"
	case x509.ECDSAWithSHA1:
		return "ecdsa-with-SHA1"
	case x509.ECDSAWithSHA256:
		return "ecdsa-with-SHA256"
	case x509.ECDSAWithSHA384:
		return "ecdsa-with-SHA384"
	case x509.ECDSAWithSHA512:
		return "ecdsa-with-SHA512"
	case x509.PureEd25519:
		return "ED25519"
	}
	return a.String()
}
