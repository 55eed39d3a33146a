package v1

import "net/netip"

// Payload is one ISAKMP payload, the body after the generic payload
// header. The concrete types are the pointers *SA, *KE, *Identification,
// *Cert, *CertReq, *Hash, *Signature, *Nonce, *Notify, *Delete, *VendorID,
// *NATD, *NATOA and *Unknown; a type switch over them is how an exchange
// reads a message.
//
// Parsed payloads alias the bytes they were parsed from.
type Payload interface {
	// PayloadType is the number the previous Next Payload field carries.
	PayloadType() PayloadType
	// encode appends the body; the generic header is the chain's.
	encode(b *builder)
}

// Find returns the first payload of type P in ps and its index, -1 if
// there is none:
//
//	sa, i := v1.Find[*v1.SA](msg.Payloads)
//	saiB := msg.RawBody(i)
func Find[P Payload](ps []Payload) (P, int) {
	for i, p := range ps {
		if v, ok := p.(P); ok {
			return v, i
		}
	}
	var zero P
	return zero, -1
}

// KE is the Key Exchange payload (RFC 2408 §3.7): the sender's public
// Diffie-Hellman value. Unlike IKEv2's, it does not name its group; the SA
// (phase 1) or the Group Description attribute (Quick Mode PFS) does.
type KE struct {
	Data []byte
}

// Hash is the Hash payload (RFC 2408 §3.11): HASH_I, HASH_R, or Quick
// Mode's HASH(1) to HASH(3). A HASH computed over the payloads after it is
// built with ReserveHash and filled in with Chain.SetHash.
type Hash struct {
	Data []byte
}

// ReserveHash is a Hash payload of size bytes, all zero: a placeholder to be
// filled in with Chain.SetHash once the rest of the chain is encoded.
func ReserveHash(size int) *Hash { return &Hash{Data: make([]byte, size)} }

// Signature is the Signature payload (RFC 2408 §3.12): SIG_I or SIG_R.
type Signature struct {
	Data []byte
}

// Nonce is the Nonce payload (RFC 2408 §3.13): Ni or Nr, 8 to 256 bytes
// (RFC 2409 §5).
type Nonce struct {
	Data []byte
}

// Nonce sizes allowed by RFC 2409 §5.
const (
	MinNonceLen = 8
	MaxNonceLen = 256
)

// CertEncoding is a Certificate or Certificate Request payload's encoding
// (RFC 2408 §3.9).
type CertEncoding uint8

const (
	CertPKCS7           CertEncoding = 1
	CertPGP             CertEncoding = 2
	CertX509Signature   CertEncoding = 4
	CertX509KeyExchange CertEncoding = 5
	CertCRL             CertEncoding = 7
	CertARL             CertEncoding = 8
)

// Cert is a Certificate payload (RFC 2408 §3.9), its data opaque to the
// codec.
type Cert struct {
	Encoding CertEncoding
	Data     []byte
}

// CertReq is a Certificate Request payload (RFC 2408 §3.10): a wanted
// encoding and, for X.509, the DER distinguished name of a trusted CA, or
// nothing for any.
type CertReq struct {
	Encoding  CertEncoding
	Authority []byte
}

// VendorID is a Vendor ID payload (RFC 2408 §3.16). IKEv1 peers announce
// extensions with them (NAT-T, DPD, fragmentation, XAUTH); vendor.go has
// the well-known ones.
type VendorID struct {
	Data []byte
}

// NATD is a NAT Discovery payload (RFC 3947 §3.2): the hash of an address
// and port as the sender sees them. Draft is set for payload type 130,
// which peers use after negotiating a draft NAT-T vendor ID.
type NATD struct {
	Draft bool
	Data  []byte
}

// NATOA is a NAT Original Address payload (RFC 3947 §5.2): the address
// the sender of a Quick Mode message sees itself at, for transport mode
// checksum fix-up. Draft is set for payload type 131.
type NATOA struct {
	Draft bool
	Addr  netip.Addr
}

// Unknown is a payload of a type this codec does not decode. IKEv1 has no
// critical bit; the exchange skips it.
type Unknown struct {
	Type PayloadType
	Body []byte
}

func (*KE) PayloadType() PayloadType        { return PayloadKE }
func (*Hash) PayloadType() PayloadType      { return PayloadHash }
func (*Signature) PayloadType() PayloadType { return PayloadSignature }
func (*Nonce) PayloadType() PayloadType     { return PayloadNonce }
func (*Cert) PayloadType() PayloadType      { return PayloadCert }
func (*CertReq) PayloadType() PayloadType   { return PayloadCertReq }
func (*VendorID) PayloadType() PayloadType  { return PayloadVendorID }
func (u *Unknown) PayloadType() PayloadType { return u.Type }

func (p *NATD) PayloadType() PayloadType {
	if p.Draft {
		return PayloadNATDDraft
	}
	return PayloadNATD
}

func (p *NATOA) PayloadType() PayloadType {
	if p.Draft {
		return PayloadNATOADraft
	}
	return PayloadNATOA
}

func (p *KE) encode(b *builder)        { b.Append(p.Data) }
func (p *Hash) encode(b *builder)      { b.Append(p.Data) }
func (p *Signature) encode(b *builder) { b.Append(p.Data) }
func (p *VendorID) encode(b *builder)  { b.Append(p.Data) }
func (p *NATD) encode(b *builder)      { b.Append(p.Data) }

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
		return nil, r.short(r.Offset(), "Cert Type", 1)
	}
	return &CertReq{Encoding: CertEncoding(enc), Authority: r.Rest()}, nil
}

func (p *CertReq) encode(b *builder) {
	b.U8(uint8(p.Encoding))
	b.Append(p.Authority)
}

// parseNATOA decodes a NAT-OA body (RFC 3947 §5.2): ID Type (ID_IPV4_ADDR
// or ID_IPV6_ADDR), three reserved bytes, the address.
func parseNATOA(r *reader, draft bool) (Payload, error) {
	at := r.Offset()
	var t uint8
	if !r.U8(&t) || !r.Skip(3) {
		return nil, r.short(at, "ID Type and RESERVED", 4)
	}
	want := addrLen(IDType(t))
	if want == 0 {
		return nil, r.errorf(at, "%v, want ID_IPV4_ADDR or ID_IPV6_ADDR", IDType(t))
	}
	var a []byte
	if !r.Bytes(&a, want) || !r.Empty() {
		return nil, r.errorf(at+4, "%v is %d bytes, want %d", IDType(t), r.Left()+len(a), want)
	}
	addr, _ := netip.AddrFromSlice(a)
	return &NATOA{Draft: draft, Addr: addr}, nil
}

func (p *NATOA) encode(b *builder) {
	// An IPv4-mapped IPv6 address stays an ID_IPV6_ADDR, as received.
	a := p.Addr
	if !a.IsValid() {
		b.fail("no address")
		return
	}
	t := ID_IPV6_ADDR
	if a.Is4() {
		t = ID_IPV4_ADDR
	}
	b.U8(uint8(t))
	b.Append([]byte{0, 0, 0})
	b.Append(a.AsSlice())
}

func (p *Unknown) encode(b *builder) {
	if hasGoType(p.Type) {
		b.fail("Unknown payload of type %v, which has its own Go type", p.Type)
	}
	b.Append(p.Body)
}

// hasGoType reports whether parsing gives payloads of type t a type of
// their own (or refuses them), so that an *Unknown of that type would not
// parse back to itself.
func hasGoType(t PayloadType) bool {
	switch t {
	case PayloadNone, PayloadSA, PayloadProposal, PayloadTransform, PayloadKE, PayloadID,
		PayloadCert, PayloadCertReq, PayloadHash, PayloadSignature, PayloadNonce,
		PayloadNotification, PayloadDelete, PayloadVendorID, PayloadNATD, PayloadNATOA,
		PayloadNATDDraft, PayloadNATOADraft:
		return true
	}
	return false
}
