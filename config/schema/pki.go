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

// refuseSignatures refuses a policy that would authenticate with
// certificates. Package pki holds keys, certificates and the signature
// and chain checks, but the IKE engines do not carry CERT payloads or
// signature AUTH yet; a tunnel that is accepted and then never comes up
// is worse than a refused commit, so this is an error, not a notice.
// Remove this check when the engines authenticate with signatures.
func (b *builder) refuseSignatures(ps *config.Stmt, p *IKEPolicy) {
	for _, pr := range p.Proposals {
		if !signatureMethods[pr.AuthenticationMethod] {
			continue
		}
		const why = ", but ipsecgw's IKE engines do not authenticate with certificates yet (keys and certificates can be managed with request security pki)"
		const expected = "proposals whose authentication-method is pre-shared-keys"
		if props := child(ps, "proposals"); props != nil {
			for i, name := range props.Values {
				if name == pr.Name {
					b.failValue(props, i, fmt.Sprintf("proposal %s uses authentication-method %s", pr.Name, pr.AuthenticationMethod)+why, expected)
				}
			}
		} else if set := child(ps, "proposal-set"); set != nil {
			b.fail(set, fmt.Sprintf("proposal-set %s authenticates with %s", p.ProposalSet, pr.AuthenticationMethod)+why, expected)
		}
		return
	}
}

// checkDNIdentities checks a gateway's distinguished-name identities.
func (b *builder) checkDNIdentities(gs *config.Stmt, g *IKEGateway) {
	var cert *PolicyCertificate
	if g.Policy != nil {
		cert = g.Policy.Certificate
	}
	b.checkDNIdentity(child(gs, "local-identity"), g.LocalIdentity, cert)
	b.checkDNIdentity(child(gs, "remote-identity"), g.RemoteIdentity, nil)
}

// checkDNIdentity refuses the distinguished-name forms the engines cannot
// use yet: the local certificate's subject (no name given) and the Junos
// container and wildcard matches, which need the peer's certificate. The
// exact form ("distinguished-name "CN=.., O=.."") works with pre-shared
// keys today.
func (b *builder) checkDNIdentity(s *config.Stmt, id Identity, cert *PolicyCertificate) {
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
	case id.Container != "" || id.Wildcard != "":
		b.fail(dn, "distinguished-name container and wildcard match the peer's certificate, which ipsecgw's IKE engines do not take yet",
			`an exact name: distinguished-name "CN=.., O=.."`)
	case cert == nil || cert.LocalCertificate == "":
		b.fail(dn, "distinguished-name without a name is the subject of the local certificate, and the IKE policy names none",
			`certificate local-certificate ID in the gateway's ike-policy, or an exact name: distinguished-name "CN=.., O=.."`)
	default:
		b.fail(dn, "distinguished-name without a name is the subject of the local certificate, which ipsecgw's IKE engines do not send yet",
			`an exact name: distinguished-name "CN=.., O=.."`)
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
