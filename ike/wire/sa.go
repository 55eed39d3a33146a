package wire

import "ipsecgw/transform"

// SA is the Security Association payload (§3.3): proposals in order of
// preference. A request offers one or more; a response carries the one
// chosen, with the number it had in the request.
type SA struct {
	Proposals []Proposal
}

// Proposal is one Proposal substructure (§3.3.1): a protocol and the
// transforms offered for it. Transforms of the same type are
// alternatives; one of each type is chosen.
type Proposal struct {
	// Number is 1 for the first proposal of a request and one more for
	// each next. When building, zero means exactly that: one more than
	// the previous proposal, 1 for the first.
	Number   uint8
	Protocol ProtocolID
	// SPI is empty in an IKE_SA_INIT; 8 bytes when rekeying an IKE SA;
	// the 4-byte inbound SPI for ESP and AH.
	SPI        []byte
	Transforms []Transform
}

// Transform is one Transform substructure (§3.3.2).
type Transform struct {
	Type transform.Type
	ID   transform.ID
	// KeyLength is the Key Length attribute in bits (§3.3.5), zero when
	// the transform has none.
	KeyLength int
	// Attributes are any other attributes, which IKEv2 does not define: a
	// transform with one the receiver does not know must be refused
	// (§3.3.6).
	Attributes []Attribute
}

// Attribute is a transform attribute other than Key Length.
type Attribute struct {
	Type AttributeType // 15 bits
	// TV is the short Type/Value form, whose Value is exactly 2 bytes;
	// otherwise the Type/Length/Value form.
	TV    bool
	Value []byte
}

// Lookup finds the transform table row the transform names. It fails for a
// transform with attributes other than Key Length, which §3.3.6 says to
// refuse.
func (t Transform) Lookup() (*transform.Transform, bool) {
	if len(t.Attributes) != 0 {
		return nil, false
	}
	return transform.Lookup(t.Type, t.ID, t.KeyLength)
}

func (*SA) PayloadType() PayloadType { return PayloadSA }

// Last Substruc values (§3.3.1, §3.3.2): 0 on the last of a list, these
// on every other.
const (
	moreProposals  = 2
	moreTransforms = 3

	proposalHeaderLen  = 8
	transformHeaderLen = 8

	attributeTV = 0x8000 // the AF bit
)

func parseSA(r *reader) (Payload, error) {
	// Requests offer a few proposals, responses carry one.
	sa := &SA{Proposals: make([]Proposal, 0, 2)}
	if r.Empty() {
		return nil, r.errorf(r.Offset(), "no proposals, want at least one")
	}
	for !r.Empty() {
		p, last, err := parseProposal(r, len(sa.Proposals)+1)
		if err != nil {
			return nil, err
		}
		if n := len(sa.Proposals); n > 0 && p.Number != sa.Proposals[n-1].Number+1 {
			return nil, r.errorf(p.at+4, "proposal %d is numbered %d, want %d (one more than the previous)",
				n+1, p.Number, sa.Proposals[n-1].Number+1)
		}
		if p.Number == 0 {
			return nil, r.errorf(p.at+4, "proposal number 0, want 1 or more")
		}
		if last != r.Empty() {
			return nil, r.errorf(p.at, "proposal %d: Last Substruc says %s, but %d bytes follow",
				len(sa.Proposals)+1, lastWord(last), r.Left())
		}
		sa.Proposals = append(sa.Proposals, p.Proposal)
	}
	return sa, nil
}

func lastWord(last bool) string {
	if last {
		return "last"
	}
	return "more"
}

type parsedProposal struct {
	Proposal
	at int // offset of the substructure, for errors
}

// parseProposal decodes one Proposal substructure (§3.3.1):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Last Substruc |   RESERVED    |         Proposal Length       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                        SPI (variable)                         ~
//	~                        <Transforms>                           ~
func parseProposal(r *reader, index int) (parsedProposal, bool, error) {
	p := parsedProposal{at: r.Offset()}
	var lastSub, proto, spiSize, count uint8
	var length uint16
	if !r.U8(&lastSub) || !r.Skip(1) || !r.U16(&length) {
		return p, false, r.short(p.at, "proposal header", proposalHeaderLen)
	}
	if lastSub != 0 && lastSub != moreProposals {
		return p, false, r.errorf(p.at, "proposal %d: Last Substruc %d, want 0 or %d", index, lastSub, moreProposals)
	}
	if length < proposalHeaderLen {
		return p, false, r.errorf(p.at+2, "proposal %d: Proposal Length %d, want at least %d", index, length, proposalHeaderLen)
	}
	pr, ok := r.sub(int(length)-4, r.payload)
	if !ok {
		return p, false, r.errorf(p.at+2, "proposal %d: Proposal Length %d, only %d bytes left", index, length, r.Left()+4)
	}
	if !pr.U8(&p.Number) || !pr.U8(&proto) || !pr.U8(&spiSize) || !pr.U8(&count) {
		return p, false, pr.short(p.at, "proposal header", proposalHeaderLen) // unreachable: length >= 8
	}
	p.Protocol = ProtocolID(proto)
	if !pr.Bytes(&p.SPI, int(spiSize)) {
		return p, false, pr.errorf(p.at+6, "proposal %d: SPI Size %d, only %d bytes left in the proposal", index, spiSize, pr.Left())
	}
	if count > 0 {
		p.Transforms = make([]Transform, 0, count)
	}
	for i := 0; !pr.Empty(); i++ {
		if i == int(count) {
			return p, false, pr.errorf(pr.Offset(), "proposal %d: Num Transforms says %d, more follow", index, count)
		}
		t, last, err := parseTransform(&pr, index, i+1)
		if err != nil {
			return p, false, err
		}
		if last != pr.Empty() {
			return p, false, pr.errorf(pr.Offset(), "proposal %d: transform %d: Last Substruc says %s, but %d bytes follow",
				index, i+1, lastWord(last), pr.Left())
		}
		p.Transforms = append(p.Transforms, t)
	}
	if len(p.Transforms) != int(count) {
		return p, false, pr.errorf(p.at+7, "proposal %d: Num Transforms says %d, found %d", index, count, len(p.Transforms))
	}
	return p, lastSub == 0, nil
}

// parseTransform decodes one Transform substructure (§3.3.2):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Last Substruc |   RESERVED    |        Transform Length       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Transform Type |   RESERVED    |          Transform ID         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                      Transform Attributes                     ~
func parseTransform(r *reader, proposal, index int) (Transform, bool, error) {
	at := r.Offset()
	var lastSub, typ uint8
	var length, id uint16
	if !r.U8(&lastSub) || !r.Skip(1) || !r.U16(&length) {
		return Transform{}, false, r.short(at, "transform header", transformHeaderLen)
	}
	if lastSub != 0 && lastSub != moreTransforms {
		return Transform{}, false, r.errorf(at, "proposal %d: transform %d: Last Substruc %d, want 0 or %d",
			proposal, index, lastSub, moreTransforms)
	}
	if length < transformHeaderLen {
		return Transform{}, false, r.errorf(at+2, "proposal %d: transform %d: Transform Length %d, want at least %d",
			proposal, index, length, transformHeaderLen)
	}
	tr, ok := r.sub(int(length)-4, r.payload)
	if !ok {
		return Transform{}, false, r.errorf(at+2, "proposal %d: transform %d: Transform Length %d, only %d bytes left in the proposal",
			proposal, index, length, r.Left()+4)
	}
	tr.U8(&typ)
	tr.Skip(1)
	tr.U16(&id)
	t := Transform{Type: transform.Type(typ), ID: transform.ID(id)}
	for !tr.Empty() {
		aat := tr.Offset()
		var a Attribute
		var af, n uint16
		if !tr.U16(&af) {
			return Transform{}, false, tr.errorf(aat, "proposal %d: transform %d: attribute needs at least 4 bytes, %d left",
				proposal, index, tr.End()-aat)
		}
		a.Type = AttributeType(af &^ attributeTV)
		a.TV = af&attributeTV != 0
		if a.TV {
			n = 2 // the value itself
		} else if !tr.U16(&n) {
			return Transform{}, false, tr.errorf(aat, "proposal %d: transform %d: attribute needs at least 4 bytes, %d left",
				proposal, index, tr.End()-aat)
		}
		if !tr.Bytes(&a.Value, int(n)) {
			return Transform{}, false, tr.errorf(aat+2, "proposal %d: transform %d: attribute %d needs %d value bytes, %d left",
				proposal, index, a.Type, n, tr.Left())
		}
		if a.Type != AttributeKeyLength {
			t.Attributes = append(t.Attributes, a)
			continue
		}
		switch {
		case !a.TV:
			return Transform{}, false, tr.errorf(aat, "proposal %d: transform %d: Key Length in TLV form, want TV", proposal, index)
		case t.KeyLength != 0:
			return Transform{}, false, tr.errorf(aat, "proposal %d: transform %d: second Key Length attribute", proposal, index)
		}
		t.KeyLength = int(a.Value[0])<<8 | int(a.Value[1])
		if t.KeyLength == 0 {
			return Transform{}, false, tr.errorf(aat+2, "proposal %d: transform %d: Key Length 0", proposal, index)
		}
	}
	return t, lastSub == 0, nil
}

func (p *SA) encode(b *builder) {
	if len(p.Proposals) == 0 {
		b.fail("no proposals, want at least one")
	}
	prev := uint8(0)
	for i := range p.Proposals {
		pr := &p.Proposals[i]
		num := pr.Number
		if num == 0 {
			num = prev + 1
		}
		if num != prev+1 && i > 0 || num == 0 {
			b.fail("proposal %d numbered %d, want %d", i+1, num, prev+1)
		}
		prev = num
		last := uint8(moreProposals)
		if i == len(p.Proposals)-1 {
			last = 0
		}
		start := b.Open()
		b.U8(last)
		b.U8(0)
		b.U16(0)
		b.U8(num)
		b.U8(uint8(pr.Protocol))
		b.u8Len(len(pr.SPI), "proposal SPI size")
		b.u8Len(len(pr.Transforms), "proposal Num Transforms")
		b.Append(pr.SPI)
		for j, t := range pr.Transforms {
			last := uint8(moreTransforms)
			if j == len(pr.Transforms)-1 {
				last = 0
			}
			t.encode(b, last, i+1, j+1)
		}
		b.close16(start, 2, "proposal")
	}
}

func (t *Transform) encode(b *builder, last uint8, proposal, index int) {
	b.at.proposal, b.at.transform = proposal, index
	start := b.Open()
	b.U8(last)
	b.U8(0)
	b.U16(0)
	b.U8(uint8(t.Type))
	b.U8(0)
	b.U16(uint16(t.ID))
	if t.KeyLength != 0 {
		if t.KeyLength < 0 || t.KeyLength > 0xffff {
			b.fail("Key Length %d bits does not fit 16 bits", t.KeyLength)
		}
		b.U16(attributeTV | uint16(AttributeKeyLength))
		b.U16(uint16(t.KeyLength))
	}
	for _, a := range t.Attributes {
		if a.Type == AttributeKeyLength {
			b.fail("Key Length in Attributes; it goes in KeyLength")
		} else if a.Type&attributeTV != 0 {
			b.fail("attribute type %d does not fit 15 bits", a.Type)
		}
		if a.TV {
			if len(a.Value) != 2 {
				b.fail("TV attribute %d has %d value bytes, want 2", a.Type, len(a.Value))
			}
			b.U16(attributeTV | uint16(a.Type))
		} else {
			b.U16(uint16(a.Type))
			b.u16Len(len(a.Value), "attribute length")
		}
		b.Append(a.Value)
	}
	b.close16(start, 2, "transform")
	b.at.proposal, b.at.transform = 0, 0
}
