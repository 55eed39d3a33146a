package schema

import (
	"fmt"
	"time"

	"ipsecgw/config"
)

// PKI is [security pki]: the CA profiles that IKE policies trust. The
// certificates and keys themselves are operational state (package pki).
type PKI struct {
	CAProfiles []*CAProfile
}

// CAProfile is one [security pki ca-profile].
type CAProfile struct {
	Name       string
	CAIdentity string // defaults to the profile's name
	// CheckCRL is revocation checking against the profile's loaded CRL
	// (Junos's default: revocation-check crl). With it, a certificate
	// whose CA has no CRL loaded fails verification unless
	// AcceptWithoutCRL ("crl disable on-download-failure").
	CheckCRL         bool
	AcceptWithoutCRL bool
	RefreshInterval  time.Duration // crl refresh-interval (kept; ipsecgw does not download)
}

// PolicyCertificate is an IKE policy's "certificate { ... }".
type PolicyCertificate struct {
	LocalCertificate string     // certificate-id of the local certificate; "" = not configured
	TrustedCA        *CAProfile // trusted-ca ca-profile; nil = not configured
	PeerType         string     // peer-certificate-type: x509-signature (the default)
}

// CAProfile returns the CA profile called name, or nil.
func (c *Config) CAProfile(name string) *CAProfile {
	return find(c.PKI.CAProfiles, func(p *CAProfile) string { return p.Name }, name)
}

const defaultCRLRefresh = 24 * time.Hour // Junos: refresh-interval default 24 hours

func (b *builder) securityPKI(s *config.Stmt) {
	if s == nil || s.Inactive {
		return
	}
	for _, ps := range entries(s, "ca-profile") {
		p := &CAProfile{Name: ps.Key, CAIdentity: str(ps, "ca-identity"), CheckCRL: true, RefreshInterval: defaultCRLRefresh}
		if p.CAIdentity == "" {
			p.CAIdentity = p.Name
		}
		rc := child(ps, "revocation-check")
		if has(rc, "disable") {
			p.CheckCRL = false
		}
		if crl := child(rc, "crl"); crl != nil {
			p.AcceptWithoutCRL = has(child(crl, "disable"), "on-download-failure")
			if c := child(crl, "refresh-interval"); c != nil {
				p.RefreshInterval = time.Duration(num(crl, "refresh-interval", 24)) * time.Hour
			}
		}
		b.cfg.PKI.CAProfiles = append(b.cfg.PKI.CAProfiles, p)
	}
}

func (b *builder) policyCertificate(s *config.Stmt) *PolicyCertificate {
	if s == nil {
		return nil
	}
	c := &PolicyCertificate{LocalCertificate: str(s, "local-certificate"), PeerType: str(s, "peer-certificate-type")}
	if c.PeerType == "" {
		c.PeerType = "x509-signature"
	}
	if c.PeerType == "pkcs7" {
		b.fail(child(s, "peer-certificate-type"), "ipsecgw does not accept PKCS#7-wrapped certificates", "peer-certificate-type x509-signature")
	}
	if ts := child(child(s, "trusted-ca"), "ca-profile"); ts != nil {
		c.TrustedCA = b.cfg.CAProfile(ts.Value())
		if c.TrustedCA == nil {
			b.fail(ts, fmt.Sprintf("CA profile %s is not defined", ts.Value()),
				"the name of a CA profile under [edit security pki ca-profile] ("+names(b.cfg.PKI.CAProfiles, func(p *CAProfile) string { return p.Name })+")")
		}
	}
	return c
}

// signatureMethods are the authentication methods that need certificates.
var signatureMethods = map[string]bool{
	"rsa-signatures": true, "dsa-signatures": true, "certificates": true,
	"ecdsa-signatures-256": true, "ecdsa-signatures-384": true, "ecdsa-signatures-521": true,
}

// refuseServicesSignatures refuses a services ipsec-vpn policy that would
// authenticate with certificates: the services form resolves no
// certificate statement, so such a tunnel would never come up. (The
// security ike form authenticates with certificates: checkSignatureAuth.)
func (b *builder) refuseServicesSignatures(ps *config.Stmt, p *IKEPolicy) {
	for _, pr := range p.Proposals {
		if !signatureMethods[pr.AuthenticationMethod] {
			continue
		}
		const why = ", but services ipsec-vpn authenticates with pre-shared keys only (certificates work in [edit security ike])"
		const expected = "proposals whose authentication-method is pre-shared-keys"
		if props := child(ps, "proposals"); props != nil {
			for i, name := range props.Values {
				if name == pr.Name {
					b.failValue(props, i, fmt.Sprintf("proposal %s uses authentication-method %s", pr.Name, pr.AuthenticationMethod)+why, expected)
				}
			}
		}
		return
	}
}

// signs reports whether a policy authenticates with certificates (its
// proposals' authentication-method; checkSignatureAuth makes them agree).
func (p *IKEPolicy) signs() bool {
	return p != nil && len(p.Proposals) > 0 && signatureMethods[p.Proposals[0].AuthenticationMethod]
}

// checkSignatureAuth checks a gateway whose policy authenticates with
// certificates: the proposals agree on the method (IKEv2 does not
// negotiate it; the first proposal's is used), the policy names its local
// certificate, and what the engines cannot do is refused: IKEv1 signs
// only with rsa-signatures, in main mode.
func (b *builder) checkSignatureAuth(gs *config.Stmt, g *IKEGateway) {
	p := g.Policy
	if p == nil || len(p.Proposals) == 0 {
		return
	}
	first := p.Proposals[0].AuthenticationMethod
	for _, pr := range p.Proposals[1:] {
		if pr.AuthenticationMethod != first && (signatureMethods[first] || signatureMethods[pr.AuthenticationMethod]) {
			b.fail(child(gs, "ike-policy"), fmt.Sprintf("IKE policy %s mixes authentication-method %s and %s", p.Name, first, pr.AuthenticationMethod),
				"proposals that share one authentication-method")
			return
		}
	}
	if !p.signs() {
		return
	}
	if p.Certificate == nil || p.Certificate.LocalCertificate == "" {
		b.fail(child(gs, "ike-policy"), fmt.Sprintf("IKE policy %s authenticates with %s and names no local certificate", p.Name, first),
			"certificate local-certificate ID in the IKE policy")
		return
	}
	if g.Version == 1 {
		at := child(gs, "version")
		if at == nil {
			at = gs // IKEv1 is the default
		}
		switch {
		case first != "rsa-signatures":
			b.fail(at, fmt.Sprintf("IKE policy %s authenticates with %s, which ipsecgw's IKEv1 does not do (rsa-signatures only)", p.Name, first),
				"version v2-only, or authentication-method rsa-signatures")
		case p.Mode == "aggressive":
			b.fail(at, fmt.Sprintf("IKE policy %s authenticates with rsa-signatures in aggressive mode, which ipsecgw's IKEv1 does not do", p.Name),
				"mode main, or version v2-only")
		}
	}
}

// checkDNIdentities checks a gateway's distinguished-name identities.
func (b *builder) checkDNIdentities(gs *config.Stmt, g *IKEGateway) {
	b.checkSignatureAuth(gs, g)
	var cert *PolicyCertificate
	signs := g.Policy.signs()
	if g.Policy != nil {
		cert = g.Policy.Certificate
	}
	b.checkDNIdentity(child(gs, "local-identity"), g.LocalIdentity, cert, signs)
	b.checkDNIdentity(child(gs, "remote-identity"), g.RemoteIdentity, nil, signs)
}

// checkDNIdentity refuses the distinguished-name forms that need
// certificates where the policy authenticates with a pre-shared key: the
// local certificate's subject (no name given) and the Junos container and
// wildcard matches of the peer's certificate. The exact form
// ("distinguished-name "CN=.., O=.."") works either way.
func (b *builder) checkDNIdentity(s *config.Stmt, id Identity, cert *PolicyCertificate, signs bool) {
	if s == nil || id.Type != "distinguished-name" {
		return
	}
	dn := child(s, "distinguished-name")
	switch {
	case id.Value != "" && (id.Container != "" || id.Wildcard != ""):
		b.fail(dn, "an exact name and container or wildcard are both configured", "one of a name, container or wildcard")
	case id.Value != "":
	case id.Container != "" && id.Wildcard != "":
		b.fail(dn, "container and wildcard are both configured", "one of container or wildcard")
	case (id.Container != "" || id.Wildcard != "") && !signs:
		b.fail(dn, "distinguished-name container and wildcard match the peer's certificate, and the IKE policy authenticates with a pre-shared key",
			`an exact name: distinguished-name "CN=.., O=..", or a policy whose authentication-method signs (rsa-signatures, ecdsa-signatures-N, certificates)`)
	case id.Container != "" || id.Wildcard != "":
	case cert == nil || cert.LocalCertificate == "":
		b.fail(dn, "distinguished-name without a name is the subject of the local certificate, and the IKE policy names none",
			`certificate local-certificate ID in the gateway's ike-policy, or an exact name: distinguished-name "CN=.., O=.."`)
	case !signs:
		b.fail(dn, "distinguished-name without a name is the subject of the local certificate, and the IKE policy authenticates with a pre-shared key",
			`an exact name: distinguished-name "CN=.., O=..", or a policy whose authentication-method signs`)
	}
}

// distinguishedName reads the three forms of the identity (see
// config.distinguishedName).
func distinguishedName(s *config.Stmt) Identity {
	id := Identity{Type: "distinguished-name", Container: str(s, "container"), Wildcard: str(s, "wildcard")}
	for _, e := range entries(s, "") {
		id.Value = e.Key
	}
	return id
}
