package ikev1

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
	"ipsecgw/transform"
)

// Proposals in IKEv1 are SA payloads of one Proposal with one Transform per
// alternative, each a list of attributes (RFC 2409 App. A for phase 1, RFC
// 2407 §4.5 for phase 2). The responder answers with the one transform it
// chose, attributes as offered.

// phase1Offer is our phase 1 SA payload.
func phase1Offer(props []Phase1Proposal) *v1.SA {
	p := v1.Proposal{Number: 1, Protocol: v1.ProtocolISAKMP}
	for i, pp := range props {
		attrs := []v1.Attribute{v1.Basic(v1.IKEEncryptionAlgorithm, pp.Encryption.IKEv1)}
		if pp.Encryption.KeyLengthAttribute {
			attrs = append(attrs, v1.Basic(v1.IKEKeyLength, uint16(pp.Encryption.KeyBits)))
		}
		attrs = append(attrs, v1.Basic(v1.IKEHashAlgorithm, pp.Hash.IKEv1), v1.Basic(v1.IKEAuthMethod, pp.auth()),
			v1.Basic(v1.IKEGroupDescription, pp.Group.IKEv1))
		if pp.Lifetime > 0 {
			attrs = append(attrs, v1.Basic(v1.IKELifeType, v1.LifeSeconds), v1.Variable(v1.IKELifeDuration, uint64(pp.Lifetime/time.Second)))
		}
		p.Transforms = append(p.Transforms, v1.Transform{Number: uint8(i + 1), ID: v1.KEY_IKE, Attributes: attrs})
	}
	return &v1.SA{DOI: v1.DOIIPsec, Situation: v1.SIT_IDENTITY_ONLY, Proposals: []v1.Proposal{p}}
}

// phase1Of reads one phase 1 transform: its algorithms and lifetime.
func phase1Of(t v1.Transform) (Phase1Proposal, error) {
	u := func(a v1.AttributeType) uint64 { v, _ := t.Uint(a); return v }
	if t.ID != v1.KEY_IKE {
		return Phase1Proposal{}, fmt.Errorf("transform ID %d is not KEY_IKE", t.ID)
	}
	m := u(v1.IKEAuthMethod)
	if m != v1.AuthPSK && m != v1.AuthRSASignature {
		return Phase1Proposal{}, fmt.Errorf("authentication method %s (pre-shared keys and RSA signatures only)", v1.AuthMethodName(uint16(m)))
	}
	enc := byIKEv1(transform.TypeENCR, u(v1.IKEEncryptionAlgorithm), int(u(v1.IKEKeyLength)))
	hash := byIKEv1(transform.TypePRF, u(v1.IKEHashAlgorithm), 0)
	group := byIKEv1(transform.TypeKE, u(v1.IKEGroupDescription), 0)
	if enc == nil || hash == nil || group == nil || group.Insecure || enc.Insecure {
		return Phase1Proposal{}, fmt.Errorf("cipher %d/%d, hash %d or group %d unknown or refused",
			u(v1.IKEEncryptionAlgorithm), u(v1.IKEKeyLength), u(v1.IKEHashAlgorithm), u(v1.IKEGroupDescription))
	}
	pp := Phase1Proposal{Encryption: enc, Hash: hash, Group: group, Auth: uint16(m)}
	pp.Lifetime, _ = lifetimes(t.Attributes, v1.IKELifeType, v1.IKELifeDuration)
	return pp, nil
}

// lifetimes reads a transform's lifetimes. Each Life Duration belongs to
// the Life Type before it (RFC 2407 §4.5), and a transform may carry one of
// each type, in either order: a duration is not simply "the" duration.
func lifetimes(attrs []v1.Attribute, typ, dur v1.AttributeType) (secs time.Duration, kb uint64) {
	var current uint64
	for _, a := range attrs {
		v, ok := a.Uint()
		switch {
		case !ok:
		case a.Type == typ:
			current = v
		case a.Type == dur && current == v1.LifeSeconds:
			secs = time.Duration(v) * time.Second
		case a.Type == dur && current == v1.LifeKilobytes:
			kb = v
		}
	}
	return secs, kb
}

// byIKEv1 finds the row of an IKEv1 attribute value (and key length).
func byIKEv1(typ transform.Type, value uint64, keyBits int) *transform.Transform {
	if value == 0 {
		return nil
	}
	for _, t := range transform.All() {
		if t.Type != typ || uint64(t.IKEv1) != value {
			continue
		}
		if t.KeyLengthAttribute && t.KeyBits != keyBits {
			continue
		}
		if typ == transform.TypeENCR && !t.IsCBC() {
			continue
		}
		return t
	}
	return nil
}

// selectPhase1 is the responder's choice: the first offered transform, in
// the initiator's order, that one of ours matches (the lifetime is not
// negotiated: the shorter one applies).
func selectPhase1(offered *v1.SA, ours []Phase1Proposal) (v1.Proposal, Phase1Proposal, error) {
	if len(offered.Proposals) == 0 {
		return v1.Proposal{}, Phase1Proposal{}, fmt.Errorf("no proposal offered")
	}
	var seen []string
	for _, prop := range offered.Proposals {
		if prop.Protocol != v1.ProtocolISAKMP {
			continue
		}
		for _, t := range prop.Transforms {
			pp, err := phase1Of(t)
			if err != nil {
				seen = append(seen, err.Error())
				continue
			}
			seen = append(seen, phase1Name(pp))
			for _, mine := range ours {
				if mine.Encryption == pp.Encryption && mine.Hash == pp.Hash && mine.Group == pp.Group && mine.auth() == pp.auth() {
					chosen := v1.Proposal{Number: prop.Number, Protocol: prop.Protocol, Transforms: []v1.Transform{t}}
					pp.Lifetime = shorter(pp.Lifetime, mine.Lifetime)
					return chosen, pp, nil
				}
			}
		}
	}
	var want []string
	for _, m := range ours {
		want = append(want, phase1Name(m))
	}
	return v1.Proposal{}, Phase1Proposal{}, fmt.Errorf("no proposal chosen: peer offered [%s], we accept [%s]",
		strings.Join(seen, ", "), strings.Join(want, ", "))
}

func phase1Name(p Phase1Proposal) string {
	return p.Encryption.Display + "/" + p.Hash.Display + "/" + p.Group.Display
}

func shorter(a, b time.Duration) time.Duration {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// espSuite is a phase 2 choice: the cipher, the integrity algorithm (nil
// with an AEAD), the PFS group (nil without), the lifetimes (zero: none
// said), UDP encapsulation.
type espSuite struct {
	Encryption, Integrity, Group *transform.Transform
	Lifetime                     time.Duration
	LifeKilobytes                uint64
	UDP                          bool
}

// espOffer is our Quick Mode SA payload, spi our inbound SPI; life and
// lifeKB are the lifetimes of a proposal that sets none. The daemon's
// resolver (daemon/plan) has checked that IKEv1 can name every algorithm.
func espOffer(props []ike.ESPProposal, group *transform.Transform, spi uint32, udp bool, life time.Duration, lifeKB uint64) (*v1.SA, error) {
	if len(props) == 0 {
		return nil, fmt.Errorf("no IPsec proposals")
	}
	p := v1.Proposal{Number: 1, Protocol: v1.ProtocolESP, SPI: binary.BigEndian.AppendUint32(nil, spi)}
	for i, prop := range props {
		enc := prop.Encryption
		attrs := []v1.Attribute{v1.Basic(v1.IPsecLifeType, v1.LifeSeconds)}
		l := prop.Lifetime
		if l == 0 {
			l = life
		}
		attrs = append(attrs, v1.Variable(v1.IPsecLifeDuration, uint64(l/time.Second)))
		kb := prop.LifeKilobytes
		if kb == 0 {
			kb = lifeKB
		}
		if kb > 0 {
			attrs = append(attrs, v1.Basic(v1.IPsecLifeType, v1.LifeKilobytes), v1.Variable(v1.IPsecLifeDuration, kb))
		}
		if group != nil {
			attrs = append(attrs, v1.Basic(v1.IPsecGroupDescription, group.IKEv1))
		}
		mode := uint16(v1.EncapTunnel)
		if udp {
			mode = v1.EncapUDPTunnel
		}
		attrs = append(attrs, v1.Basic(v1.IPsecEncapsulationMode, mode))
		if prop.Integrity != nil {
			attrs = append(attrs, v1.Basic(v1.IPsecAuthAlgorithm, prop.Integrity.IKEv1))
		}
		if enc.KeyLengthAttribute {
			attrs = append(attrs, v1.Basic(v1.IPsecKeyLength, uint16(enc.KeyBits)))
		}
		p.Transforms = append(p.Transforms, v1.Transform{Number: uint8(i + 1), ID: v1.TransformID(enc.IKEv1ESP), Attributes: attrs})
	}
	return &v1.SA{DOI: v1.DOIIPsec, Situation: v1.SIT_IDENTITY_ONLY, Proposals: []v1.Proposal{p}}, nil
}

// espOf reads one phase 2 transform.
func espOf(t v1.Transform) (espSuite, error) {
	u := func(a v1.AttributeType) uint64 { v, _ := t.Uint(a); return v }
	var s espSuite
	for _, r := range transform.All() {
		if r.Type == transform.TypeENCR && uint64(r.IKEv1ESP) == uint64(t.ID) && (!r.KeyLengthAttribute || r.KeyBits == int(u(v1.IPsecKeyLength))) && !r.Insecure {
			s.Encryption = r
			break
		}
	}
	if s.Encryption == nil {
		return s, fmt.Errorf("ESP transform %d (key length %d) unknown", t.ID, u(v1.IPsecKeyLength))
	}
	if !s.Encryption.IsAEAD() {
		if s.Integrity = byIKEv1(transform.TypeINTEG, u(v1.IPsecAuthAlgorithm), 0); s.Integrity == nil {
			return s, fmt.Errorf("%s without a known authentication algorithm (%d)", s.Encryption.Display, u(v1.IPsecAuthAlgorithm))
		}
	}
	if g := u(v1.IPsecGroupDescription); g != 0 {
		if s.Group = byIKEv1(transform.TypeKE, g, 0); s.Group == nil || s.Group.Insecure {
			return s, fmt.Errorf("PFS group %d unknown or refused", g)
		}
	}
	switch u(v1.IPsecEncapsulationMode) {
	case v1.EncapTunnel, 0:
	case v1.EncapUDPTunnel, v1.EncapUDPTunnelDraft:
		s.UDP = true
	default:
		return s, fmt.Errorf("encapsulation mode %d (tunnel mode only)", u(v1.IPsecEncapsulationMode))
	}
	s.Lifetime, s.LifeKilobytes = lifetimes(t.Attributes, v1.IPsecLifeType, v1.IPsecLifeDuration)
	return s, nil
}

func espName(s espSuite) string {
	n := s.Encryption.Display
	if s.Integrity != nil {
		n += "/" + s.Integrity.Display
	}
	if s.Group != nil {
		n += "/" + s.Group.Display
	}
	return n
}

// selectESP is the Quick Mode responder's choice among the offered ESP
// transforms: the first that one of our proposals (with our PFS group)
// matches. It returns the chosen proposal (with the peer's SPI), to be
// answered with our SPI, and the suite.
func selectESP(offered *v1.SA, ours *v1.SA) (v1.Proposal, espSuite, error) {
	mine := map[string]bool{}
	var want []string
	for _, t := range ours.Proposals[0].Transforms {
		if s, err := espOf(t); err == nil {
			mine[espName(s)] = true
			want = append(want, espName(s))
		}
	}
	var seen []string
	for _, prop := range offered.Proposals {
		if prop.Protocol != v1.ProtocolESP || len(prop.SPI) != 4 {
			continue
		}
		for _, t := range prop.Transforms {
			s, err := espOf(t)
			if err != nil {
				seen = append(seen, err.Error())
				continue
			}
			seen = append(seen, espName(s))
			if mine[espName(s)] {
				return v1.Proposal{Number: prop.Number, Protocol: prop.Protocol, SPI: prop.SPI, Transforms: []v1.Transform{t}}, s, nil
			}
		}
	}
	return v1.Proposal{}, espSuite{}, fmt.Errorf("no proposal chosen: peer offered [%s], we accept [%s]",
		strings.Join(seen, ", "), strings.Join(want, ", "))
}
