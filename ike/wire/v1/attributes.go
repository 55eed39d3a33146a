package v1

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Attribute is one data attribute (RFC 2408 §3.3) of a transform, or of
// a RESPONDER-LIFETIME notification:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!A!       Attribute Type        !    AF=0  Attribute Length     !
//	!F!                             !    AF=1  Attribute Value      !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                   AF=0  Attribute Value                       .
//
// Which registry Type is read in depends on the transform: the IKE*
// classes for KEY_IKE, the IPsec* ones for ESP and AH.
type Attribute struct {
	Type AttributeType // 15 bits
	// TV is the short Type/Value form (the AF bit), whose Value is
	// exactly 2 bytes; otherwise Type/Length/Value.
	TV    bool
	Value []byte
}

// AttributeType is an attribute class. The numbers of phase 1 and phase
// 2 overlap (4 is Group Description in one, Encapsulation Mode in the
// other), hence the prefixes; AttributeName names one given the protocol.
type AttributeType uint16

// Phase 1 classes (RFC 2409 Appendix A), the attributes of KEY_IKE.
const (
	IKEEncryptionAlgorithm AttributeType = 1  // Basic: the IKE* Encr values
	IKEHashAlgorithm       AttributeType = 2  // Basic: the IKEHash values
	IKEAuthMethod          AttributeType = 3  // Basic: the Auth values
	IKEGroupDescription    AttributeType = 4  // Basic: the IANA group number (2 is MODP 1024)
	IKEGroupType           AttributeType = 5  // Basic
	IKEGroupPrime          AttributeType = 6  // Variable
	IKEGroupGeneratorOne   AttributeType = 7  // Variable
	IKEGroupGeneratorTwo   AttributeType = 8  // Variable
	IKEGroupCurveA         AttributeType = 9  // Variable
	IKEGroupCurveB         AttributeType = 10 // Variable
	IKELifeType            AttributeType = 11 // Basic: LifeSeconds or LifeKilobytes
	IKELifeDuration        AttributeType = 12 // Variable: often TV, 4 bytes TLV when large
	IKEPRF                 AttributeType = 13 // Basic
	IKEKeyLength           AttributeType = 14 // Basic: bits, for ciphers of variable key size (AES)
	IKEFieldSize           AttributeType = 15 // Basic
	IKEGroupOrder          AttributeType = 16 // Variable
)

// Phase 2 classes (RFC 2407 §4.5), the attributes of ESP and AH
// transforms and of RESPONDER-LIFETIME.
const (
	IPsecLifeType               AttributeType = 1 // LifeSeconds or LifeKilobytes
	IPsecLifeDuration           AttributeType = 2 // Variable
	IPsecGroupDescription       AttributeType = 3 // PFS group
	IPsecEncapsulationMode      AttributeType = 4 // the Encap values
	IPsecAuthAlgorithm          AttributeType = 5 // the AuthHMAC values
	IPsecKeyLength              AttributeType = 6 // bits
	IPsecKeyRounds              AttributeType = 7
	IPsecCompressDictionarySize AttributeType = 8
	IPsecCompressPrivateAlg     AttributeType = 9
	IPsecECNTunnel              AttributeType = 10 // RFC 3168
	IPsecExtendedSequenceNumber AttributeType = 11 // RFC 4304: 1 = 64-bit sequence numbers
)

// Values of the phase 1 attributes (RFC 2409 Appendix A, RFC 3602, RFC
// 4868, RFC 4754 and draft-ietf-ipsec-isakmp-xauth for XAUTH).
const (
	EncrDES  = 1
	Encr3DES = 5
	EncrAES  = 7 // AES-CBC, with IKEKeyLength

	HashMD5     = 1
	HashSHA1    = 2
	HashSHA2256 = 4
	HashSHA2384 = 5
	HashSHA2512 = 6

	AuthPSK               = 1
	AuthDSS               = 2
	AuthRSASignature      = 3
	AuthRSAEncryption     = 4
	AuthRSARevisedEncrypt = 5
	AuthECDSASHA256       = 9
	AuthECDSASHA384       = 10
	AuthECDSASHA512       = 11
	// Hybrid and XAUTH methods: accepted and named, the exchange decides
	// whether it speaks them.
	AuthHybridInitRSA   = 64221
	AuthHybridRespRSA   = 64222
	AuthHybridInitDSS   = 64223
	AuthHybridRespDSS   = 64224
	AuthXAUTHInitPSK    = 65001
	AuthXAUTHRespPSK    = 65002
	AuthXAUTHInitDSS    = 65003
	AuthXAUTHRespDSS    = 65004
	AuthXAUTHInitRSA    = 65005
	AuthXAUTHRespRSA    = 65006
	AuthXAUTHInitRSAEnc = 65007
	AuthXAUTHRespRSAEnc = 65008
	AuthXAUTHInitRSARev = 65009
	AuthXAUTHRespRSARev = 65010

	// Life types, phase 1 and 2 alike.
	LifeSeconds   = 1
	LifeKilobytes = 2
)

// Values of the phase 2 attributes (RFC 2407 §4.5, RFC 3947 §5.1, RFC
// 4868).
const (
	EncapTunnel            = 1
	EncapTransport         = 2
	EncapUDPTunnel         = 3     // RFC 3947
	EncapUDPTransport      = 4     // RFC 3947
	EncapUDPTunnelDraft    = 61443 // draft-ietf-ipsec-nat-t-ike, as older peers send
	EncapUDPTransportDraft = 61444
	AuthHMACMD5            = 1
	AuthHMACSHA1           = 2
	AuthHMACSHA2256        = 5
	AuthHMACSHA2384        = 6
	AuthHMACSHA2512        = 7
)

// Basic is a TV attribute: a 16-bit value.
func Basic(t AttributeType, v uint16) Attribute {
	return Attribute{Type: t, TV: true, Value: binary.BigEndian.AppendUint16(nil, v)}
}

// Variable is an attribute of a Variable class such as Life Duration: TV
// when v fits 16 bits, as charon and Junos send it, otherwise TLV of 4
// bytes, or 8 beyond 32 bits.
func Variable(t AttributeType, v uint64) Attribute {
	switch {
	case v <= math.MaxUint16:
		return Basic(t, uint16(v))
	case v <= math.MaxUint32:
		return Attribute{Type: t, Value: binary.BigEndian.AppendUint32(nil, uint32(v))}
	}
	return Attribute{Type: t, Value: binary.BigEndian.AppendUint64(nil, v)}
}

// Uint returns the value as a number: TV values, and TLV values of up to
// 8 bytes (a Life Duration of 4 bytes, say).
func (a Attribute) Uint() (uint64, bool) {
	if len(a.Value) > 8 || (a.TV && len(a.Value) != 2) {
		return 0, false
	}
	var v uint64
	for _, c := range a.Value {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// Attribute returns the transform's first attribute of type t.
func (t Transform) Attribute(typ AttributeType) (Attribute, bool) {
	return findAttribute(t.Attributes, typ)
}

// Uint returns the value of the transform's attribute of type t as a
// number, false if it is absent or too long.
func (t Transform) Uint(typ AttributeType) (uint64, bool) {
	a, ok := findAttribute(t.Attributes, typ)
	if !ok {
		return 0, false
	}
	return a.Uint()
}

func findAttribute(as []Attribute, t AttributeType) (Attribute, bool) {
	for _, a := range as {
		if a.Type == t {
			return a, true
		}
	}
	return Attribute{}, false
}

const attributeTV = 0x8000 // the AF bit

// parseAttributes reads attributes to the end of r.
func parseAttributes(r *reader) ([]Attribute, error) {
	if r.Empty() {
		return nil, nil
	}
	// KEY_IKE transforms carry six or so.
	as := make([]Attribute, 0, 6)
	for !r.Empty() {
		at := r.Offset()
		var typ, length uint16
		if !r.U16(&typ) {
			return nil, r.short(at, "attribute header", 4)
		}
		a := Attribute{Type: AttributeType(typ &^ attributeTV), TV: typ&attributeTV != 0}
		if a.TV {
			// The value sits where TLV's length would: alias it.
			if !r.Bytes(&a.Value, 2) {
				return nil, r.short(at, "attribute header", 4)
			}
		} else if !r.U16(&length) {
			return nil, r.short(at, "attribute header", 4)
		} else if !r.Bytes(&a.Value, int(length)) {
			return nil, r.errorf(at+2, "attribute %d: Attribute Length %d, only %d bytes left", a.Type, length, r.Left())
		}
		as = append(as, a)
	}
	return as, nil
}

func appendAttributes(b *builder, as []Attribute) {
	for _, a := range as {
		if a.Type > 0x7fff {
			b.fail("attribute type %d does not fit 15 bits", a.Type)
		}
		if a.TV {
			if len(a.Value) != 2 {
				b.fail("TV attribute %d with a %d-byte value, want 2", a.Type, len(a.Value))
				continue
			}
			b.U16(uint16(a.Type) | attributeTV)
			b.Append(a.Value)
			continue
		}
		b.U16(uint16(a.Type))
		b.u16Len(len(a.Value), "attribute length")
		b.Append(a.Value)
	}
}

// AttributeName names attribute type t of a transform of protocol p:
// "Encryption Algorithm" for ISAKMP's 1, "SA Life Type" for ESP's.
func AttributeName(p ProtocolID, t AttributeType) string {
	names := ipsecAttributeNames
	if p == ProtocolISAKMP {
		names = ikeAttributeNames
	}
	if s, ok := names[t]; ok {
		return s
	}
	return fmt.Sprintf("attribute %d", uint16(t))
}

var ikeAttributeNames = map[AttributeType]string{
	IKEEncryptionAlgorithm: "Encryption Algorithm", IKEHashAlgorithm: "Hash Algorithm",
	IKEAuthMethod: "Authentication Method", IKEGroupDescription: "Group Description",
	IKEGroupType: "Group Type", IKEGroupPrime: "Group Prime/Irreducible Polynomial",
	IKEGroupGeneratorOne: "Group Generator One", IKEGroupGeneratorTwo: "Group Generator Two",
	IKEGroupCurveA: "Group Curve A", IKEGroupCurveB: "Group Curve B",
	IKELifeType: "Life Type", IKELifeDuration: "Life Duration", IKEPRF: "PRF",
	IKEKeyLength: "Key Length", IKEFieldSize: "Field Size", IKEGroupOrder: "Group Order",
}

var ipsecAttributeNames = map[AttributeType]string{
	IPsecLifeType: "SA Life Type", IPsecLifeDuration: "SA Life Duration",
	IPsecGroupDescription: "Group Description", IPsecEncapsulationMode: "Encapsulation Mode",
	IPsecAuthAlgorithm: "Authentication Algorithm", IPsecKeyLength: "Key Length",
	IPsecKeyRounds: "Key Rounds", IPsecCompressDictionarySize: "Compress Dictionary Size",
	IPsecCompressPrivateAlg: "Compress Private Algorithm", IPsecECNTunnel: "ECN Tunnel",
	IPsecExtendedSequenceNumber: "Extended (64-bit) Sequence Number",
}

// AuthMethodName names a phase 1 Authentication Method value, XAUTH and
// hybrid ones included, for logs of what a peer offered.
func AuthMethodName(v uint16) string {
	if s, ok := authMethodNames[v]; ok {
		return s
	}
	return fmt.Sprintf("authentication method %d", v)
}

var authMethodNames = map[uint16]string{
	AuthPSK: "pre-shared key", AuthDSS: "DSS signatures", AuthRSASignature: "RSA signatures",
	AuthRSAEncryption: "RSA encryption", AuthRSARevisedEncrypt: "revised RSA encryption",
	AuthECDSASHA256: "ECDSA SHA-256 P-256", AuthECDSASHA384: "ECDSA SHA-384 P-384",
	AuthECDSASHA512:   "ECDSA SHA-512 P-521",
	AuthHybridInitRSA: "hybrid initiator RSA", AuthHybridRespRSA: "hybrid responder RSA",
	AuthHybridInitDSS: "hybrid initiator DSS", AuthHybridRespDSS: "hybrid responder DSS",
	AuthXAUTHInitPSK: "XAUTH initiator pre-shared key", AuthXAUTHRespPSK: "XAUTH responder pre-shared key",
	AuthXAUTHInitDSS: "XAUTH initiator DSS", AuthXAUTHRespDSS: "XAUTH responder DSS",
	AuthXAUTHInitRSA: "XAUTH initiator RSA", AuthXAUTHRespRSA: "XAUTH responder RSA",
	AuthXAUTHInitRSAEnc: "XAUTH initiator RSA encryption", AuthXAUTHRespRSAEnc: "XAUTH responder RSA encryption",
	AuthXAUTHInitRSARev: "XAUTH initiator revised RSA encryption", AuthXAUTHRespRSARev: "XAUTH responder revised RSA encryption",
}
