package wire

import (
	"fmt"
	"net/netip"

	"ipsecgw/transform"
)

// Payload is one IKEv2 payload, the body after the generic payload header
// (§3.2). The concrete types are the pointers *SA, *KE, *IDi, *IDr, *Cert,
// *CertReq, *Auth, *Nonce, *Notify, *Delete, *VendorID, *TSi, *TSr, *CP,
// *EAP, *Encrypted, *EncryptedFragment and *Unknown; a type switch over
// them is how the IKE code reads a message.
//
// Parsed payloads alias the bytes they were parsed from.
type Payload interface {
	// PayloadType is the number the previous Next Payload field carries.
	PayloadType() PayloadType
	// encode appends the body; the generic header is the chain's.
	encode(b *builder)
}

// Find returns the first payload of type P in ps:
//
//	sa, ok := wire.Find[*wire.SA](msg.Payloads)
func Find[P Payload](ps []Payload) (P, bool) {
	for _, p := range ps {
		if v, ok := p.(P); ok {
			return v, true
		}
	}
	var zero P
	return zero, false
}

// FindNotify returns the first Notify payload of type t in ps.
func FindNotify(ps []Payload, t NotifyType) (*Notify, bool) {
	for _, p := range ps {
		if n, ok := p.(*Notify); ok && n.Type == t {
			return n, true
		}
	}
	return nil, false
}

// KE is the Key Exchange payload (§3.4): the sender's public value for the
// key exchange method Group.
type KE struct {
	Group transform.ID // a transform.TypeKE ID, e.g. transform.ECP_256
	Data  []byte
}

// Identification is the body of an IDi or IDr payload (§3.5).
type Identification struct {
	Type IDType
	Data []byte // 4 bytes for ID_IPV4_ADDR, 16 for ID_IPV6_ADDR
}

// IDi identifies the initiator, IDr the responder.
type (
	IDi Identification
	IDr Identification
)

// Cert is a Certificate payload (§3.6), its data opaque to the codec.
type Cert struct {
	Encoding CertEncoding
	Data     []byte
}

// CertReq is a Certificate Request payload (§3.7): for X.509, the
// concatenated SHA-1 hashes of the trusted CAs' public keys.
type CertReq struct {
	Encoding CertEncoding
	Data     []byte
}

// Auth is the Authentication payload (§3.8).
type Auth struct {
	Method AuthMethod
	Data   []byte
}

// Nonce is the Ni or Nr payload (§3.9): 16 to 256 random bytes.
type Nonce struct {
	Data []byte
}

// Nonce sizes allowed by §3.9.
const (
	MinNonceLen = 16
	MaxNonceLen = 256
)

// Notify is a Notify payload (§3.10). SPI is empty for notifications about
// the IKE SA; for one about a Child SA it is the 4-byte ESP or AH SPI.
type Notify struct {
	Protocol ProtocolID
	SPI      []byte
	Type     NotifyType
	Data     []byte
}

// Delete is a Delete payload (§3.11): the IKE SA itself (Protocol
// ProtocolIKE, no SPIs), or Child SAs by their inbound ESP or AH SPIs.
type Delete struct {
	Protocol ProtocolID
	SPIs     []uint32
}

// VendorID is a Vendor ID payload (§3.12).
type VendorID struct {
	Data []byte
}

// EAP is an EAP payload (§3.16): one EAP message, carried opaque.
type EAP struct {
	Data []byte
}

// Unknown is a payload of a type this codec does not decode, kept with its
// Critical bit: if it is set, the IKE code must refuse the message with
// UNSUPPORTED_CRITICAL_PAYLOAD (§2.5), otherwise skip the payload.
type Unknown struct {
	Type     PayloadType
	Critical bool
	Body     []byte
}

func (*KE) PayloadType() PayloadType        { return PayloadKE }
func (*IDi) PayloadType() PayloadType       { return PayloadIDi }
func (*IDr) PayloadType() PayloadType       { return PayloadIDr }
func (*Cert) PayloadType() PayloadType      { return PayloadCERT }
func (*CertReq) PayloadType() PayloadType   { return PayloadCERTREQ }
func (*Auth) PayloadType() PayloadType      { return PayloadAUTH }
func (*Nonce) PayloadType() PayloadType     { return PayloadNonce }
func (*Notify) PayloadType() PayloadType    { return PayloadNotify }
func (*Delete) PayloadType() PayloadType    { return PayloadDelete }
func (*VendorID) PayloadType() PayloadType  { return PayloadVendorID }
func (*EAP) PayloadType() PayloadType       { return PayloadEAP }
func (u *Unknown) PayloadType() PayloadType { return u.Type }

// IDFromAddr is the identification of an IP address: ID_IPV4_ADDR or
// ID_IPV6_ADDR.
func IDFromAddr(a netip.Addr) Identification {
	a = a.Unmap()
	t := ID_IPV6_ADDR
	if a.Is4() {
		t = ID_IPV4_ADDR
	}
	return Identification{Type: t, Data: a.AsSlice()}
}

// Addr returns the address of an ID_IPV4_ADDR or ID_IPV6_ADDR
// identification.
func (id Identification) Addr() (netip.Addr, bool) {
	switch {
	case id.Type == ID_IPV4_ADDR && len(id.Data) == 4,
		id.Type == ID_IPV6_ADDR && len(id.Data) == 16:
		return netip.AddrFromSlice(id.Data)
	}
	return netip.Addr{}, false
}

// AppendBody appends the payload body, ID Type, three zero bytes and the
// data: RestOfInitIDPayload and RestOfRespIDPayload, the octets AUTH is
// computed over (§2.15).
func (id Identification) AppendBody(dst []byte) []byte {
	dst = append(dst, uint8(id.Type), 0, 0, 0)
	return append(dst, id.Data...)
}

func (id Identification) String() string {
	switch id.Type {
	case ID_IPV4_ADDR, ID_IPV6_ADDR:
		if a, ok := id.Addr(); ok {
			return a.String()
		}
	case ID_FQDN, ID_RFC822_ADDR:
		return string(id.Data)
	}
	return fmt.Sprintf("%v:%x", id.Type, id.Data)
}

// The bodies of the simple payloads.

func parseKE(r *reader) (Payload, error) {
	var group uint16
	if !r.U16(&group) || !r.Skip(2) {
		return nil, r.short(r.Offset(), "Diffie-Hellman Group Num and RESERVED", 4)
	}
	return &KE{Group: transform.ID(group), Data: r.Rest()}, nil
}

func (p *KE) encode(b *builder) {
	b.U16(uint16(p.Group))
	b.U16(0)
	b.Append(p.Data)
}

func parseIdentification(r *reader) (Identification, error) {
	at := r.Offset()
	var t uint8
	if !r.U8(&t) || !r.Skip(3) {
		return Identification{}, r.short(at, "ID Type and RESERVED", 4)
	}
	id := Identification{Type: IDType(t), Data: r.Rest()}
	if want := addrLen(id.Type); want != 0 && len(id.Data) != want {
		return Identification{}, r.errorf(at+4, "%v data is %d bytes, want %d", id.Type, len(id.Data), want)
	}
	return id, nil
}

func addrLen(t IDType) int {
	switch t {
	case ID_IPV4_ADDR:
		return 4
	case ID_IPV6_ADDR:
		return 16
	}
	return 0
}

func (id Identification) encode(b *builder) {
	if want := addrLen(id.Type); want != 0 && len(id.Data) != want {
		b.fail("%v data is %d bytes, want %d", id.Type, len(id.Data), want)
	}
	b.AppendWith(id.AppendBody)
}

func (p *IDi) encode(b *builder) { Identification(*p).encode(b) }
func (p *IDr) encode(b *builder) { Identification(*p).encode(b) }

func parseCert(r *reader) (Payload, error) {
	var enc uint8
	if !r.U8(&enc) {
		return nil, r.short(r.Offset(), "Cert Encoding", 1)
	}
	return &Cert{Encoding: CertEncoding(enc), Data: r.Rest()}, nil
}

func (p *Cert) encode(b *builder) {
	b.U8(uint8(p.Encoding))
	b.Append(p.Data)
}

func parseCertReq(r *reader) (Payload, error) {
	var enc uint8
	if !r.U8(&enc) {
		return nil, r.short(r.Offset(), "Cert Encoding", 1)
	}
	return &CertReq{Encoding: CertEncoding(enc), Data: r.Rest()}, nil
}

func (p *CertReq) encode(b *builder) {
	b.U8(uint8(p.Encoding))
	b.Append(p.Data)
}

func parseAuth(r *reader) (Payload, error) {
	var m uint8
	if !r.U8(&m) || !r.Skip(3) {
		return nil, r.short(r.Offset(), "Auth Method and RESERVED", 4)
	}
	return &Auth{Method: AuthMethod(m), Data: r.Rest()}, nil
}

func (p *Auth) encode(b *builder) {
	b.U8(uint8(p.Method))
	b.Zeros(3)
	b.Append(p.Data)
}

func parseNonce(r *reader) (Payload, error) {
	at := r.Offset()
	n := &Nonce{Data: r.Rest()}
	if len(n.Data) < MinNonceLen || len(n.Data) > MaxNonceLen {
		return nil, r.errorf(at, "nonce is %d bytes, want %d to %d", len(n.Data), MinNonceLen, MaxNonceLen)
	}
	return n, nil
}

func (p *Nonce) encode(b *builder) {
	if len(p.Data) < MinNonceLen || len(p.Data) > MaxNonceLen {
		b.fail("nonce is %d bytes, want %d to %d", len(p.Data), MinNonceLen, MaxNonceLen)
	}
	b.Append(p.Data)
}

// parseNotify decodes a Notify payload body (§3.10):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Protocol ID  |   SPI Size    |      Notify Message Type      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                Security Parameter Index (SPI)                 ~
//	~                       Notification Data                       ~
func parseNotify(r *reader) (Payload, error) {
	at := r.Offset()
	var proto, spiSize uint8
	var typ uint16
	if !r.U8(&proto) || !r.U8(&spiSize) || !r.U16(&typ) {
		return nil, r.short(at, "Protocol ID, SPI Size and Notify Message Type", 4)
	}
	n := &Notify{Protocol: ProtocolID(proto), Type: NotifyType(typ)}
	if !r.Bytes(&n.SPI, int(spiSize)) {
		return nil, r.short(r.Offset(), "SPI", int(spiSize))
	}
	n.Data = r.Rest()
	return n, nil
}

func (p *Notify) encode(b *builder) {
	b.U8(uint8(p.Protocol))
	b.u8Len(len(p.SPI), "Notify SPI size")
	b.U16(uint16(p.Type))
	b.Append(p.SPI)
	b.Append(p.Data)
}

// parseDelete decodes a Delete payload body (§3.11):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Protocol ID  |   SPI Size    |          Num of SPIs          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~               Security Parameter Index(es) (SPI)              ~
func parseDelete(r *reader) (Payload, error) {
	at := r.Offset()
	var proto, spiSize uint8
	var count uint16
	if !r.U8(&proto) || !r.U8(&spiSize) || !r.U16(&count) {
		return nil, r.short(at, "Protocol ID, SPI Size and Num of SPIs", 4)
	}
	d := &Delete{Protocol: ProtocolID(proto)}
	switch d.Protocol {
	case ProtocolIKE:
		// The IKE SA is named by the header; Num of SPIs is meaningless
		// with SPI Size zero and is ignored.
		if spiSize != 0 {
			return nil, r.errorf(at+1, "SPI Size %d for IKE, want 0", spiSize)
		}
	case ProtocolAH, ProtocolESP:
		if spiSize != 4 {
			return nil, r.errorf(at+1, "SPI Size %d for %v, want 4", spiSize, d.Protocol)
		}
		if r.Left() != 4*int(count) {
			return nil, r.errorf(at+2, "Num of SPIs %d needs %d bytes, %d left", count, 4*int(count), r.Left())
		}
		if count > 0 {
			d.SPIs = make([]uint32, count)
		}
		for i := range d.SPIs {
			r.U32(&d.SPIs[i])
		}
	default:
		return nil, r.errorf(at, "Protocol ID %d, want IKE (1), AH (2) or ESP (3)", proto)
	}
	return d, nil
}

func (p *Delete) encode(b *builder) {
	b.U8(uint8(p.Protocol))
	switch p.Protocol {
	case ProtocolIKE:
		if len(p.SPIs) != 0 {
			b.fail("a Delete of the IKE SA carries no SPIs, got %d", len(p.SPIs))
		}
		b.U8(0)
		b.U16(0)
	case ProtocolAH, ProtocolESP:
		b.U8(4)
		b.u16Len(len(p.SPIs), "Delete Num of SPIs")
		for _, spi := range p.SPIs {
			b.U32(spi)
		}
	default:
		b.fail("Protocol ID %d, want IKE (1), AH (2) or ESP (3)", p.Protocol)
	}
}

func parseVendorID(r *reader) (Payload, error) { return &VendorID{Data: r.Rest()}, nil }
func (p *VendorID) encode(b *builder)          { b.Append(p.Data) }

func parseEAP(r *reader) (Payload, error) { return &EAP{Data: r.Rest()}, nil }
func (p *EAP) encode(b *builder)          { b.Append(p.Data) }

func (p *Unknown) encode(b *builder) {
	if p.Type == PayloadNone {
		b.fail("Unknown payload without a type")
	} else if _, known := payloadNames[p.Type]; known {
		b.fail("Unknown payload of type %v, which has its own Go type", p.Type)
	}
	b.Append(p.Body)
}
