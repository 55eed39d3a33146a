package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Cause is why a peer's certificate was refused. The IKE engines keep it
// with the failed negotiation (AUTHENTICATION_FAILED and its cause) and the
// show commands print it.
type Cause int

const (
	CauseNone Cause = iota
	// CauseMalformed: a certificate that does not parse.
	CauseMalformed
	// CauseExpired: outside its validity dates (expired or not yet valid),
	// the leaf or a CA on the chain.
	CauseExpired
	// CauseUnknownCA: no chain to the ca-profile's certificates.
	CauseUnknownCA
	// CauseBadSignature: the issuer is known but its signature on the
	// certificate does not verify; or an AUTH signature does not.
	CauseBadSignature
	// CauseRevoked: listed in the issuer's CRL.
	CauseRevoked
	// CauseNoCRL: revocation checking is on and the issuer's CRL is not
	// loaded or is past its next update (Junos refuses unless
	// "crl disable on-download-failure").
	CauseNoCRL
	// CauseKeyUsage: the leaf's key usage does not allow signing.
	CauseKeyUsage
	// CauseIdentityMismatch: the peer's IKE identity is not in the
	// certificate, or the certificate does not match remote-identity.
	CauseIdentityMismatch
)

var causeNames = [...]string{
	CauseNone:             "none",
	CauseMalformed:        "malformed certificate",
	CauseExpired:          "certificate expired",
	CauseUnknownCA:        "unknown CA",
	CauseBadSignature:     "bad signature",
	CauseRevoked:          "certificate revoked",
	CauseNoCRL:            "CRL unavailable",
	CauseKeyUsage:         "key usage does not allow signing",
	CauseIdentityMismatch: "identity mismatch",
}

func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return fmt.Sprintf("cause %d", int(c))
}

// Error is a refused certificate or signature: the cause, the certificate's
// subject and what exactly was wrong.
type Error struct {
	Cause   Cause
	Subject string // the certificate concerned, "CN=.., O=.."; "" when none
	Detail  string
}

func (e *Error) Error() string {
	s := e.Cause.String()
	if e.Subject != "" {
		s += ": " + e.Subject
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is lets errors.Is(err, &pki.Error{Cause: pki.CauseRevoked}) match by cause.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Cause == e.Cause && t.Subject == "" && t.Detail == ""
}

// CauseOf returns the cause of a verification error (CauseNone for nil or
// an error that is not ours).
func CauseOf(err error) Cause {
	var e *Error
	if errors.As(err, &e) {
		return e.Cause
	}
	return CauseNone
}

func fail(c Cause, cert *x509.Certificate, format string, args ...any) *Error {
	e := &Error{Cause: c, Detail: fmt.Sprintf(format, args...)}
	if cert != nil {
		e.Subject = DNString(cert.RawSubject)
	}
	return e
}

// TrustPolicy is how a ca-profile checks certificates (from
// config/schema.CAProfile).
type TrustPolicy struct {
	Profile          string // the ca-profile whose certificates are the anchors
	CheckCRL         bool
	AcceptWithoutCRL bool
}

// VerifyChain checks a peer's certificates, as CERT payloads carry them
// (the first is the peer's own, the rest intermediates, in any order),
// against a ca-profile at time now: a chain to the profile's root (its
// own intermediates help), validity dates on every certificate, a leaf
// key usage that allows signing, and each certificate's issuer CRL when
// the policy checks revocation. It returns the verified chain, leaf first.
func (s *Store) VerifyChain(p TrustPolicy, certs [][]byte, now time.Time) ([]*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, fail(CauseMalformed, nil, "the peer sent no certificate")
	}
	parsed := make([]*x509.Certificate, len(certs))
	for i, der := range certs {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fail(CauseMalformed, nil, "certificate %d: %v", i+1, err)
		}
		parsed[i] = c
	}
	leaf := parsed[0]
	anchors := s.CACertificates(p.Profile)
	if len(anchors) == 0 {
		return nil, fail(CauseUnknownCA, leaf, "ca-profile %s has no CA certificate loaded", p.Profile)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	// The profile's self-signed certificates are the trust anchors and
	// its others intermediates, so that a chain runs to the root and
	// the root's CRL is consulted for the intermediate. A profile
	// holding no root trusts what the operator loaded as anchors.
	selfSigned := 0
	for _, c := range anchors {
		if isSelfSigned(c) {
			roots.AddCert(c)
			selfSigned++
		} else {
			inter.AddCert(c)
		}
	}
	if selfSigned == 0 {
		for _, c := range anchors {
			roots.AddCert(c)
		}
	}
	for _, c := range parsed[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		// IKE certificates carry any or no extended key usage (RFC 4945
		// §5.1.3.12): do not require serverAuth.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, s.explain(err, leaf, parsed[1:], anchors, now)
	}
	chain := chains[0]
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, fail(CauseKeyUsage, leaf, "keyUsage has neither digitalSignature nor nonRepudiation")
	}
	if p.CheckCRL {
		if err := s.checkRevocation(p, chain, now); err != nil {
			return nil, err
		}
	}
	return chain, nil
}

// explain turns crypto/x509's error into a cause.
func (s *Store) explain(err error, leaf *x509.Certificate, sent, anchors []*x509.Certificate, now time.Time) error {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) {
		switch inv.Reason {
		case x509.Expired:
			c := inv.Cert
			if c == nil {
				c = leaf
			}
			when := "expired " + c.NotAfter.UTC().Format(time.RFC3339)
			if now.Before(c.NotBefore) {
				when = "not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
			}
			return fail(CauseExpired, c, "%s", when)
		case x509.NotAuthorizedToSign, x509.CANotAuthorizedForThisName, x509.TooManyIntermediates:
			return fail(CauseUnknownCA, inv.Cert, "%v", err)
		}
		return fail(CauseUnknownCA, leaf, "%v", err)
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		// A known issuer whose signature does not verify is a bad
		// signature, not an unknown CA: look for the issuer by name.
		for _, c := range append(append([]*x509.Certificate{}, sent...), anchors...) {
			if bytes.Equal(c.RawSubject, leaf.RawIssuer) {
				if sigErr := leaf.CheckSignatureFrom(c); sigErr != nil {
					return fail(CauseBadSignature, leaf, "signature by %s does not verify: %v", DNString(c.RawSubject), sigErr)
				}
			}
		}
		return fail(CauseUnknownCA, leaf, "issuer %s is not a certificate of the ca-profile or a chain to one", DNString(leaf.RawIssuer))
	}
	return fail(CauseUnknownCA, leaf, "%v", err)
}

// checkRevocation looks each certificate of the chain but the anchor up
// in its issuer's CRL.
func (s *Store) checkRevocation(p TrustPolicy, chain []*x509.Certificate, now time.Time) error {
	crls := s.CRLs(p.Profile)
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		var crl *x509.RevocationList
		for _, c := range crls {
			if bytes.Equal(c.RawIssuer, issuer.RawSubject) && c.CheckSignatureFrom(issuer) == nil {
				crl = c
				break
			}
		}
		switch {
		case crl == nil || (!crl.NextUpdate.IsZero() && now.After(crl.NextUpdate)):
			if p.AcceptWithoutCRL {
				continue
			}
			why := "no CRL of " + DNString(issuer.RawSubject) + " is loaded in ca-profile " + p.Profile
			if crl != nil {
				why = "the CRL of " + DNString(issuer.RawSubject) + " was due for update at " + crl.NextUpdate.UTC().Format(time.RFC3339)
			}
			return fail(CauseNoCRL, cert, "%s (revocation-check crl disable on-download-failure accepts it anyway)", why)
		}
		for _, r := range crl.RevokedCertificateEntries {
			if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return fail(CauseRevoked, cert, "serial %x revoked at %s", cert.SerialNumber, r.RevocationTime.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}
