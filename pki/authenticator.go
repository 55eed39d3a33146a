package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// Authenticator is the ike.Authenticator of one gateway: its IKE policy's
// local certificate and trusted CAs in the store, its identities. The
// daemon makes one per peer; the engines see only the interface. Every
// call reads the store afresh, so a certificate loaded after the commit
// counts.
type Authenticator struct {
	Store         *Store
	Gateway       string // for messages
	CertificateID string // the policy's local-certificate
	// Method is the policy's authentication-method keyword
	// (rsa-signatures, ecdsa-signatures-N, certificates).
	Method string
	// Trust are the ca-profiles a peer's chain may end in (the first
	// that accepts it wins): trusted-ca, or every ca-profile.
	Trust                         []TrustPolicy
	LocalIdentity, RemoteIdentity schema.Identity
}

var _ ike.Authenticator = (*Authenticator)(nil)

// Local is our key, certificate chain, identity and Auth Method, read from
// the store now (a certificate loaded after the commit counts).
func (a *Authenticator) Local() (*ike.Credential, error) {
	l, ok := a.Store.Local(a.CertificateID)
	if !ok || l.Cert == nil {
		return nil, fmt.Errorf("gateway %s: local certificate %s is not loaded (request security pki local-certificate load or generate-self-signed)", a.Gateway, a.CertificateID)
	}
	method, err := AuthMethod(a.Method, l.Key.Public())
	if err != nil {
		return nil, fmt.Errorf("gateway %s: local certificate %s: %w", a.Gateway, a.CertificateID, err)
	}
	id, err := LocalIdentity(l, a.LocalIdentity)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", a.Gateway, err)
	}
	c := &ike.Credential{Key: l.Key, ID: ike.Identity{Type: ike.IDType(id.Type), Data: id.Data}, Method: method,
		Subject: DNString(l.Cert.RawSubject)}
	for _, p := range l.CertPayloads() {
		c.Certificates = append(c.Certificates, p.Data)
	}
	return c, nil
}

// CAKeyHashes name the CA certificates of the trusted profiles.
func (a *Authenticator) CAKeyHashes() [][wire.CAKeyHashLen]byte {
	var out [][wire.CAKeyHashLen]byte
	for _, t := range a.Trust {
		for _, c := range a.Store.CACertificates(t.Profile) {
			out = append(out, wire.CAKeyHash(c.RawSubjectPublicKeyInfo))
		}
	}
	return out
}

// CASubjects are the DER subjects of the same CA certificates.
func (a *Authenticator) CASubjects() [][]byte {
	var out [][]byte
	for _, t := range a.Trust {
		for _, c := range a.Store.CACertificates(t.Profile) {
			out = append(out, c.RawSubject)
		}
	}
	return out
}

// VerifyPeer verifies the chain to a trusted profile (the first that
// accepts it; else the first profile's refusal), then the identity.
func (a *Authenticator) VerifyPeer(certs [][]byte, id ike.Identity, now time.Time) (*ike.PeerCertificate, error) {
	if len(a.Trust) == 0 {
		return nil, &ike.AuthError{Reason: CauseUnknownCA.String(), Err: errors.New("no ca-profile is configured to verify the peer's certificate")}
	}
	var chain []*x509.Certificate
	var first error
	for _, t := range a.Trust {
		c, err := a.Store.VerifyChain(t, certs, now)
		if err == nil {
			chain = c
			break
		}
		if first == nil {
			first = fmt.Errorf("ca-profile %s: %w", t.Profile, err)
		}
	}
	if chain == nil {
		return nil, authError(first)
	}
	if err := MatchRemoteIdentity(a.RemoteIdentity, chain[0], wire.Identification{Type: wire.IDType(id.Type), Data: id.Data}); err != nil {
		return nil, authError(err)
	}
	return &ike.PeerCertificate{Subject: DNString(chain[0].RawSubject), Key: chain[0].PublicKey}, nil
}

// SignAuth signs our AUTH payload.
func (a *Authenticator) SignAuth(rand io.Reader, c *ike.Credential, peerHashes []wire.HashAlgorithm, octets []byte) (*wire.Auth, error) {
	return SignAuth(rand, c.Key, c.Method, peerHashes, octets)
}

// VerifyAuth checks the peer's AUTH payload with its certificate's key.
func (a *Authenticator) VerifyAuth(p *ike.PeerCertificate, auth *wire.Auth, octets []byte) error {
	if err := VerifyAuth(p.Key, auth, octets); err != nil {
		return authError(err)
	}
	return nil
}

// authError carries pki's cause as the failure's reason.
func authError(err error) error {
	reason := CauseOf(err).String()
	if CauseOf(err) == CauseNone {
		reason = "certificate refused"
	}
	return &ike.AuthError{Reason: reason, Err: err}
}
