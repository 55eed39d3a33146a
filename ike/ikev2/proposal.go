package ikev2

import (
	"encoding/binary"
	"fmt"
	"strings"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// IKEOffer turns the proposals of an IKE policy into the proposals of an
// IKE_SA_INIT SA payload, one for one and in the configured order
// (highest priority first): proposal i comes from props[i] and is numbered
// i+1, which is how a selection's Local index finds the Junos proposal
// (and its lifetime and authentication-method) again.
//
// A Junos IKE proposal names one algorithm of each kind, so each IKEv2
// proposal carries one transform of each type, in the order ENCR, PRF,
// INTEG, KE:
//
//	encryption-algorithm      ENCR, with the Key Length attribute for AES
//	authentication-algorithm  PRF and INTEG (the same hash); no INTEG with
//	                          an AEAD cipher (RFC 7296 §3.3)
//	dh-group                  KE
//
// The schema fills in unset leaves (sha1, 3des-cbc, group2). An unknown or
// insecure keyword is an error naming the proposal: ipsecgw never offers
// an insecure algorithm, not even from a predefined proposal-set.
func IKEOffer(props []*schema.IKEProposal) ([]wire.Proposal, error) {
	if err := checkProposalCount(len(props), "IKE"); err != nil {
		return nil, err
	}
	out := make([]wire.Proposal, 0, len(props))
	for i, p := range props {
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
		ts := []wire.Transform{offerTransform(encr), offerTransform(prf)}
		if !encr.IsAEAD() {
			integ, err := keywordRow(transform.IKE, transform.TypeINTEG, p.AuthenticationAlgorithm, "authentication-algorithm", p.Name)
			if err != nil {
				return nil, err
			}
			ts = append(ts, offerTransform(integ))
		}
		ts = append(ts, offerTransform(ke))
		out = append(out, wire.Proposal{Number: uint8(i + 1), Protocol: wire.ProtocolIKE, Transforms: ts})
	}
	return out, nil
}

// ESPOffer turns the proposals of an IPsec policy into the proposals of a
// Child SA's SA payload, one for one and in the configured order, each
// carrying spi, the inbound SPI this gateway chose for the Child SA. Each
// proposal has, in this order:
//
//	encryption-algorithm      ENCR, with the Key Length attribute for AES
//	authentication-algorithm  INTEG; none with an AEAD cipher
//	pfsGroup                  KE, only when not empty (the policy's
//	                          perfect-forward-secrecy keys)
//	extended-sequence-number  ESN: Extended Sequence Numbers (1) when set,
//	                          else No Extended Sequence Numbers (0)
//
// The Child SA of IKE_AUTH has no key exchange (RFC 7296 §1.2: its SA
// payload carries no KE transform), so pass "" there and the policy's
// group in CREATE_CHILD_SA.
func ESPOffer(props []*schema.IPsecProposal, pfsGroup string, spi uint32) ([]wire.Proposal, error) {
	if err := checkProposalCount(len(props), "IPsec"); err != nil {
		return nil, err
	}
	if spi == 0 {
		return nil, fmt.Errorf("ikev2: ESP SPI 0 is reserved (RFC 4303 §2.1), want a nonzero inbound SPI")
	}
	var ke *transform.Transform
	if pfsGroup != "" {
		var err error
		if ke, err = keywordRow(transform.IPsec, transform.TypeKE, pfsGroup, "perfect-forward-secrecy keys", "of the IPsec policy"); err != nil {
			return nil, err
		}
	}
	spiBytes := binary.BigEndian.AppendUint32(nil, spi)
	out := make([]wire.Proposal, 0, len(props))
	for i, p := range props {
		if p.Protocol != "" && p.Protocol != "esp" {
			return nil, fmt.Errorf("ikev2: IPsec proposal %s: protocol %s is not implemented, want esp", p.Name, p.Protocol)
		}
		encr, err := keywordRow(transform.IPsec, transform.TypeENCR, p.EncryptionAlgorithm, "encryption-algorithm", p.Name)
		if err != nil {
			return nil, err
		}
		ts := []wire.Transform{offerTransform(encr)}
		switch {
		case encr.IsAEAD() && p.AuthenticationAlgorithm != "":
			return nil, fmt.Errorf("ikev2: IPsec proposal %s: %s is an AEAD and takes no authentication-algorithm, got %s",
				p.Name, p.EncryptionAlgorithm, p.AuthenticationAlgorithm)
		case !encr.IsAEAD():
			integ, err := keywordRow(transform.IPsec, transform.TypeINTEG, p.AuthenticationAlgorithm, "authentication-algorithm", p.Name)
			if err != nil {
				return nil, err
			}
			ts = append(ts, offerTransform(integ))
		}
		if ke != nil {
			ts = append(ts, offerTransform(ke))
		}
		esn := transform.NO_ESN
		if p.ExtendedSequenceNumbers {
			esn = transform.ESN
		}
		ts = append(ts, wire.Transform{Type: transform.TypeESN, ID: esn})
		out = append(out, wire.Proposal{Number: uint8(i + 1), Protocol: wire.ProtocolESP,
			SPI: spiBytes, Transforms: ts})
	}
	return out, nil
}

// checkProposalCount refuses an empty list (nothing to offer) and one longer than
// the 8-bit proposal number can count.
func checkProposalCount(n int, what string) error {
	switch {
	case n == 0:
		return fmt.Errorf("ikev2: no %s proposals to offer", what)
	case n > 255:
		return fmt.Errorf("ikev2: %d %s proposals, at most 255 fit an SA payload", n, what)
	}
	return nil
}

// keywordRow finds the transform a Junos keyword names and refuses an insecure
// one.
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

// offerTransform is the Transform substructure naming a table row.
func offerTransform(t *transform.Transform) wire.Transform {
	w := wire.Transform{Type: t.Type, ID: t.ID}
	if t.KeyLengthAttribute {
		w.KeyLength = t.KeyBits
	}
	return w
}

// Describe writes a proposal the way operators read it: number, protocol,
// SPI, then the transforms of each type with the names Junos show commands
// use, for example
//
//	#1 IKE ENCR=aes256-cbc PRF=hmac-sha256 INTEG=hmac-sha256-128 KE=DH-group-14
//	#2 ESP spi=0xc001d00d ENCR=aes256-gcm ESN=Disabled
//
// Alternatives of one type are separated by commas; transforms the table
// does not know show their numbers, insecure ones say so, and NONE (ID 0
// of INTEG or KE) shows as none.
func Describe(p wire.Proposal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %v", p.Number, p.Protocol)
	switch len(p.SPI) {
	case 0:
	case 4:
		fmt.Fprintf(&b, " spi=0x%08x", binary.BigEndian.Uint32(p.SPI))
	default:
		fmt.Fprintf(&b, " spi=0x%x", p.SPI)
	}
	// Types in order of first appearance, each with its alternatives.
	var order []transform.Type
	names := map[transform.Type][]string{}
	for _, t := range p.Transforms {
		if _, seen := names[t.Type]; !seen {
			order = append(order, t.Type)
		}
		names[t.Type] = append(names[t.Type], describeTransform(t))
	}
	for _, typ := range order {
		fmt.Fprintf(&b, " %v=%s", typ, strings.Join(names[typ], ","))
	}
	if len(p.Transforms) == 0 {
		b.WriteString(" (no transforms)")
	}
	return b.String()
}

func describeTransform(t wire.Transform) string {
	if r, ok := t.Lookup(); ok {
		if r.Insecure {
			return r.Display + "(insecure)"
		}
		return r.Display
	}
	if isNoneTransform(t) {
		return "none"
	}
	s := fmt.Sprintf("unknown-%d", t.ID)
	if t.KeyLength != 0 {
		s += fmt.Sprintf("/%d", t.KeyLength)
	}
	if len(t.Attributes) != 0 {
		s += fmt.Sprintf("(%d unknown attributes)", len(t.Attributes))
	}
	return s
}

func describeAll(ps []wire.Proposal) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = Describe(p)
	}
	return out
}
