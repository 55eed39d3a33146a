package resolve

import (
	"fmt"
	"strings"

	"ipsecgw/config/schema"
	"ipsecgw/ike"
	"ipsecgw/transform"
)

// IKEv2Proposals looks up the algorithms of an IKE policy's proposals for
// IKEv2, in the configured order (highest priority first). A Junos IKE
// proposal names one algorithm of each kind:
//
//	encryption-algorithm      ENCR
//	authentication-algorithm  PRF and INTEG (the same hash); no INTEG with
//	                          an AEAD cipher (RFC 7296 §3.3)
//	dh-group                  KE
//
// The schema fills in unset leaves (sha1, 3des-cbc, group2). An unknown or
// insecure keyword is an error naming the proposal: ipsecgw never offers
// an insecure algorithm, not even from a predefined proposal-set.
func IKEv2Proposals(props []*schema.IKEProposal) ([]ike.IKEProposal, error) {
	if err := checkProposalCount(len(props), "IKE"); err != nil {
		return nil, err
	}
	out := make([]ike.IKEProposal, 0, len(props))
	for _, p := range props {
		encr, err := keywordRow(transform.IKE, transform.TypeENCR, p.EncryptionAlgorithm, "encryption-algorithm", p.Name)
		if err != nil {
			return nil, err
		}
		prf, err := keywordRow(transform.IKE, transform.TypePRF, p.AuthenticationAlgorithm, "authentication-algorithm", p.Name)
		if err != nil {
			return nil, err
		}
		ke, err := keywordRow(transform.IKE, transform.TypeKE, p.DHGroup, "dh-group", p.Name)
		if err != nil {
			return nil, err
		}
		r := ike.IKEProposal{Name: p.Name, Encryption: encr, PRF: prf, Group: ke, Lifetime: p.Lifetime}
		if !encr.IsAEAD() {
			if r.Integrity, err = keywordRow(transform.IKE, transform.TypeINTEG, p.AuthenticationAlgorithm, "authentication-algorithm", p.Name); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// IKEv2ESPProposals looks up the algorithms of an IPsec policy's
// proposals for IKEv2, in the configured order:
//
//	encryption-algorithm      ENCR
//	authentication-algorithm  INTEG; none with an AEAD cipher
//	extended-sequence-number  ESN
func IKEv2ESPProposals(props []*schema.IPsecProposal) ([]ike.ESPProposal, error) {
	if err := checkProposalCount(len(props), "IPsec"); err != nil {
		return nil, err
	}
	out := make([]ike.ESPProposal, 0, len(props))
	for _, p := range props {
		if p.Protocol != "" && p.Protocol != "esp" {
			return nil, fmt.Errorf("ikev2: IPsec proposal %s: protocol %s is not implemented, want esp", p.Name, p.Protocol)
		}
		encr, err := keywordRow(transform.IPsec, transform.TypeENCR, p.EncryptionAlgorithm, "encryption-algorithm", p.Name)
		if err != nil {
			return nil, err
		}
		r := ike.ESPProposal{Name: p.Name, Encryption: encr, ESN: p.ExtendedSequenceNumbers,
			Lifetime: p.Lifetime, LifeKilobytes: p.LifetimeKilobytes}
		switch {
		case encr.IsAEAD() && p.AuthenticationAlgorithm != "":
			return nil, fmt.Errorf("ikev2: IPsec proposal %s: %s is an AEAD and takes no authentication-algorithm, got %s",
				p.Name, p.EncryptionAlgorithm, p.AuthenticationAlgorithm)
		case !encr.IsAEAD():
			if r.Integrity, err = keywordRow(transform.IPsec, transform.TypeINTEG, p.AuthenticationAlgorithm, "authentication-algorithm", p.Name); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// checkProposalCount refuses an empty list (nothing to offer) and one
// longer than the 8-bit proposal number can count.
func checkProposalCount(n int, what string) error {
	switch {
	case n == 0:
		return fmt.Errorf("ikev2: no %s proposals to offer", what)
	case n > 255:
		return fmt.Errorf("ikev2: %d %s proposals, at most 255 fit an SA payload", n, what)
	}
	return nil
}

// keywordRow finds the transform a Junos keyword names and refuses an
// insecure one.
func keywordRow(ctx transform.Context, typ transform.Type, keyword, leaf, proposal string) (*transform.Transform, error) {
	if keyword == "" {
		return nil, fmt.Errorf("ikev2: %s proposal %s has no %s", ctx, proposal, leaf)
	}
	t, ok := transform.LookupKeyword(ctx, typ, keyword)
	if !ok {
		return nil, fmt.Errorf("ikev2: %s proposal %s: %s %q is not one ipsecgw knows, want one of %s",
			ctx, proposal, leaf, keyword, strings.Join(transform.Keywords(ctx, typ), ", "))
	}
	if t.Insecure {
		return nil, fmt.Errorf("ikev2: %s proposal %s: %s %s is insecure and never offered", ctx, proposal, leaf, keyword)
	}
	return t, nil
}

// ikev1Policies takes the phase 1 proposals and key of an IKE policy and
// the phase 2 proposals of an IPsec policy, each algorithm one IKEv1 can
// name.
func ikev1Policies(p *ike.Peer, ikePol *schema.IKEPolicy, ipsec *schema.IPsecPolicy) error {
	psk, err := ikePol.PreSharedKey.Bytes()
	if (err != nil || len(psk) == 0) && !SignatureAuth(ikePol) {
		return fmt.Errorf("policy %s has no usable pre-shared key", ikePol.Name)
	}
	p.PSK = psk
	p.Aggressive = ikePol.Mode == "aggressive"
	for _, prop := range ikePol.Proposals {
		pp, err := phase1Proposal(prop)
		if err != nil {
			return err
		}
		p.IKEProposals = append(p.IKEProposals, pp)
	}
	if len(p.IKEProposals) == 0 {
		return fmt.Errorf("policy %s has no proposals", ikePol.Name)
	}
	if ipsec == nil || len(ipsec.Proposals) == 0 {
		return fmt.Errorf("no IPsec proposals")
	}
	if ipsec.PFSGroup != "" {
		g, ok := transform.LookupKeyword(transform.IPsec, transform.TypeKE, ipsec.PFSGroup)
		if !ok || g.IKEv1 == 0 {
			return fmt.Errorf("perfect-forward-secrecy %s has no IKEv1 group number", ipsec.PFSGroup)
		}
		p.PFSGroup = g
	}
	for _, prop := range ipsec.Proposals {
		enc, ok := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, prop.EncryptionAlgorithm)
		if !ok || enc.IKEv1ESP == 0 {
			return fmt.Errorf("IPsec proposal %s: %s has no IKEv1 ESP transform", prop.Name, prop.EncryptionAlgorithm)
		}
		r := ike.ESPProposal{Name: prop.Name, Encryption: enc, ESN: prop.ExtendedSequenceNumbers,
			Lifetime: prop.Lifetime, LifeKilobytes: prop.LifetimeKilobytes}
		if !enc.IsAEAD() {
			integ, ok := transform.LookupKeyword(transform.IPsec, transform.TypeINTEG, prop.AuthenticationAlgorithm)
			if !ok || integ.IKEv1 == 0 {
				return fmt.Errorf("IPsec proposal %s: authentication-algorithm %q has no IKEv1 value", prop.Name, prop.AuthenticationAlgorithm)
			}
			r.Integrity = integ
		}
		p.ESPProposals = append(p.ESPProposals, r)
	}
	return nil
}

// phase1Proposal looks up a Junos IKE proposal's algorithms for IKEv1
// phase 1: a CBC cipher, a hash, a group, each with an IKEv1 number.
func phase1Proposal(prop *schema.IKEProposal) (ike.IKEProposal, error) {
	if m := prop.AuthenticationMethod; m != "" && m != "pre-shared-keys" && m != "rsa-signatures" {
		return ike.IKEProposal{}, fmt.Errorf("proposal %s: authentication-method %s is not supported (pre-shared-keys and rsa-signatures are)", prop.Name, m)
	}
	enc, ok := transform.LookupKeyword(transform.IKE, transform.TypeENCR, prop.EncryptionAlgorithm)
	if !ok || enc.IKEv1 == 0 || !enc.IsCBC() {
		return ike.IKEProposal{}, fmt.Errorf("proposal %s: encryption-algorithm %s has no IKEv1 phase 1 cipher", prop.Name, prop.EncryptionAlgorithm)
	}
	hash, ok := transform.LookupKeyword(transform.IKE, transform.TypePRF, prop.AuthenticationAlgorithm)
	if !ok || hash.IKEv1 == 0 {
		return ike.IKEProposal{}, fmt.Errorf("proposal %s: authentication-algorithm %s has no IKEv1 hash", prop.Name, prop.AuthenticationAlgorithm)
	}
	group, ok := transform.LookupKeyword(transform.IKE, transform.TypeKE, prop.DHGroup)
	if !ok || group.IKEv1 == 0 {
		return ike.IKEProposal{}, fmt.Errorf("proposal %s: dh-group %s has no IKEv1 group number", prop.Name, prop.DHGroup)
	}
	return ike.IKEProposal{Name: prop.Name, Encryption: enc, PRF: hash, Group: group, Lifetime: prop.Lifetime}, nil
}
