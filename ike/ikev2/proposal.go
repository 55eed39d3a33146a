package ikev2

import (
	"encoding/binary"
	"fmt"
	"strings"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// IKEOffer turns the resolved proposals of an IKE policy into the
// proposals of an IKE_SA_INIT SA payload, one for one and in the
// configured order (highest priority first): proposal i comes from
// props[i] and is numbered i+1, which is how a selection's Local index
// finds the proposal (and its lifetime) again. Each carries one transform
// of each type, in the order ENCR, PRF, INTEG (none with an AEAD cipher,
// RFC 7296 §3.3), KE. The daemon's resolver (daemon/plan) has checked
// the algorithms and the count.
func IKEOffer(props []ike.IKEProposal) []wire.Proposal {
	out := make([]wire.Proposal, 0, len(props))
	for i, p := range props {
		ts := []wire.Transform{offerTransform(p.Encryption), offerTransform(p.PRF)}
		if p.Integrity != nil {
			ts = append(ts, offerTransform(p.Integrity))
		}
		ts = append(ts, offerTransform(p.Group))
		ts = appendAddKE(ts, p.AddKE) // addke.go
		out = append(out, wire.Proposal{Number: uint8(i + 1), Protocol: wire.ProtocolIKE, Transforms: ts})
	}
	return out
}

// ESPOffer turns the resolved proposals of an IPsec policy into the
// proposals of a Child SA's SA payload, one for one and in the configured
// order, each carrying spi, the inbound SPI this gateway chose for the
// Child SA. Each proposal has, in this order:
//
//	encryption-algorithm      ENCR, with the Key Length attribute for AES
//	authentication-algorithm  INTEG; none with an AEAD cipher
//	pfs                       KE, only when not nil (the policy's
//	                          perfect-forward-secrecy keys)
//	extended-sequence-number  ESN: Extended Sequence Numbers (1) when set,
//	                          else No Extended Sequence Numbers (0)
//
// The Child SA of IKE_AUTH has no key exchange (RFC 7296 §1.2: its SA
// payload carries no KE transform), so pass nil there and the policy's
// group in CREATE_CHILD_SA.
func ESPOffer(props []ike.ESPProposal, pfs *transform.Transform, spi uint32) ([]wire.Proposal, error) {
	if len(props) == 0 {
		return nil, fmt.Errorf("ikev2: no IPsec proposals to offer")
	}
	if spi == 0 {
		return nil, fmt.Errorf("ikev2: ESP SPI 0 is reserved (RFC 4303 §2.1), want a nonzero inbound SPI")
	}
	if pfs != nil && pfs.Insecure {
		return nil, fmt.Errorf("ikev2: IPsec proposal of the IPsec policy: perfect-forward-secrecy keys %s is insecure and never offered", pfs.IPsecKeyword)
	}
	spiBytes := binary.BigEndian.AppendUint32(nil, spi)
	out := make([]wire.Proposal, 0, len(props))
	for i, p := range props {
		ts := []wire.Transform{offerTransform(p.Encryption)}
		if p.Integrity != nil {
			ts = append(ts, offerTransform(p.Integrity))
		}
		if pfs != nil {
			ts = append(ts, offerTransform(pfs))
		}
		esn := transform.NO_ESN
		if p.ESN {
			esn = transform.ESN
		}
		ts = append(ts, wire.Transform{Type: transform.TypeESN, ID: esn})
		out = append(out, wire.Proposal{Number: uint8(i + 1), Protocol: wire.ProtocolESP,
			SPI: spiBytes, Transforms: ts})
	}
	return out, nil
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
