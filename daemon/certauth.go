package daemon

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
	"ipsecgw/pki"
)

// Certificate authentication: the IKE policy's "certificate { ... }"
// statement and its proposals' authentication-method, resolved against the
// pki store into the ike.Authenticator an engine uses. The engines see
// neither the configuration nor the store.

// certAuthenticator is the pki store behind one gateway's policy.
type certAuthenticator struct {
	store  *pki.Store
	certID string
	// trust are the ca-profiles a peer's chain may end in: trusted-ca, or
	// every configured ca-profile when the policy names none.
	trust []pki.TrustPolicy
	// method is the policy's authentication-method (its first proposal's:
	// IKEv2 does not negotiate it).
	method           string
	local, remote    schema.Identity
	gateway, profile string
}

// authenticatorFor is the Authenticator of a VPN's gateway, or nil when
// its policy authenticates with a pre-shared key.
func (d *Daemon) authenticatorFor(v *schema.VPN, cfg *schema.Config) (ike.Authenticator, error) {
	if v.IKE == nil || v.IKE.Gateway == nil || v.IKE.Gateway.Policy == nil {
		return nil, nil
	}
	g := v.IKE.Gateway
	pol := g.Policy
	if !resolve.SignatureAuth(pol) {
		return nil, nil
	}
	if pol.Certificate == nil || pol.Certificate.LocalCertificate == "" {
		return nil, fmt.Errorf("ike policy %s authenticates with %s and names no certificate local-certificate", pol.Name, pol.Proposals[0].AuthenticationMethod)
	}
	a := &certAuthenticator{store: d.pki, certID: pol.Certificate.LocalCertificate, method: pol.Proposals[0].AuthenticationMethod,
		local: g.LocalIdentity, remote: g.RemoteIdentity, gateway: g.Name}
	if ca := pol.Certificate.TrustedCA; ca != nil {
		a.trust = []pki.TrustPolicy{pki.TrustPolicyFor(ca)}
	} else if cfg != nil {
		for _, ca := range cfg.PKI.CAProfiles {
			a.trust = append(a.trust, pki.TrustPolicyFor(ca))
		}
	}
	return a, nil
}

// Local is our key, certificate chain, identity and Auth Method, read from
// the store now (a certificate loaded after the commit counts).
func (a *certAuthenticator) Local() (*ike.Credential, error) {
	l, ok := a.store.Local(a.certID)
	if !ok || l.Cert == nil {
		return nil, fmt.Errorf("gateway %s: local certificate %s is not loaded (request security pki local-certificate load or generate-self-signed)", a.gateway, a.certID)
	}
	method, err := pki.AuthMethod(a.method, l.Key.Public())
	if err != nil {
		return nil, fmt.Errorf("gateway %s: local certificate %s: %w", a.gateway, a.certID, err)
	}
	id, err := pki.LocalIdentity(l, a.local)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", a.gateway, err)
	}
	c := &ike.Credential{Key: l.Key, ID: ike.Identity{Type: ike.IDType(id.Type), Data: id.Data}, Method: method,
		Subject: pki.DNString(l.Cert.RawSubject)}
	for _, p := range l.CertPayloads() {
		c.Certificates = append(c.Certificates, p.Data)
	}
	return c, nil
}

// CAKeyHashes name the CA certificates of the trusted profiles.
func (a *certAuthenticator) CAKeyHashes() [][wire.CAKeyHashLen]byte {
	var out [][wire.CAKeyHashLen]byte
	for _, t := range a.trust {
		for _, c := range a.store.CACertificates(t.Profile) {
			out = append(out, wire.CAKeyHash(c.RawSubjectPublicKeyInfo))
		}
	}
	return out
}

// VerifyPeer verifies the chain to a trusted profile (the first that
// accepts it; else the first profile's refusal), then the identity.
func (a *certAuthenticator) VerifyPeer(certs [][]byte, id ike.Identity, now time.Time) (*ike.PeerCertificate, error) {
	if len(a.trust) == 0 {
		return nil, &ike.AuthError{Reason: pki.CauseUnknownCA.String(), Err: errors.New("no ca-profile is configured to verify the peer's certificate")}
	}
	var chain []*x509.Certificate
	var first error
	for _, t := range a.trust {
		c, err := a.store.VerifyChain(t, certs, now)
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
	if err := pki.MatchRemoteIdentity(a.remote, chain[0], wire.Identification{Type: wire.IDType(id.Type), Data: id.Data}); err != nil {
		return nil, authError(err)
	}
	return &ike.PeerCertificate{Subject: pki.DNString(chain[0].RawSubject), Key: chain[0].PublicKey}, nil
}

// SignAuth signs our AUTH payload.
func (a *certAuthenticator) SignAuth(rand io.Reader, c *ike.Credential, peerHashes []wire.HashAlgorithm, octets []byte) (*wire.Auth, error) {
	return pki.SignAuth(rand, c.Key, c.Method, peerHashes, octets)
}

// VerifyAuth checks the peer's AUTH payload with its certificate's key.
func (a *certAuthenticator) VerifyAuth(p *ike.PeerCertificate, auth *wire.Auth, octets []byte) error {
	if err := pki.VerifyAuth(p.Key, auth, octets); err != nil {
		return authError(err)
	}
	return nil
}

// authError carries pki's cause as the failure's reason.
func authError(err error) error {
	reason := pki.CauseOf(err).String()
	if pki.CauseOf(err) == pki.CauseNone {
		reason = "certificate refused"
	}
	return &ike.AuthError{Reason: reason, Err: err}
}
