package daemon

import (
	"fmt"

	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
	"ipsecgw/pki"
)

// authenticatorFor is the ike.Authenticator of a VPN's gateway, from its
// IKE policy's "certificate { ... }" and the pki store; nil when the policy
// authenticates with a pre-shared key. The engines see neither the
// configuration nor the store.
func (d *Daemon) authenticatorFor(v *schema.VPN, cfg *schema.Config) (ike.Authenticator, error) {
	if v.IKE == nil || v.IKE.Gateway == nil || !resolve.SignatureAuth(v.IKE.Gateway.Policy) {
		return nil, nil
	}
	g := v.IKE.Gateway
	pol := g.Policy
	if pol.Certificate == nil || pol.Certificate.LocalCertificate == "" {
		return nil, fmt.Errorf("ike policy %s authenticates with %s and names no certificate local-certificate", pol.Name, pol.Proposals[0].AuthenticationMethod)
	}
	a := &pki.Authenticator{Store: d.pki, Gateway: g.Name, CertificateID: pol.Certificate.LocalCertificate,
		Method: pol.Proposals[0].AuthenticationMethod, LocalIdentity: g.LocalIdentity, RemoteIdentity: g.RemoteIdentity}
	if ca := pol.Certificate.TrustedCA; ca != nil {
		a.Trust = []pki.TrustPolicy{pki.TrustPolicyFor(ca)}
	} else if cfg != nil {
		for _, ca := range cfg.PKI.CAProfiles {
			a.Trust = append(a.Trust, pki.TrustPolicyFor(ca))
		}
	}
	return a, nil
}
