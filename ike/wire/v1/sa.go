package v1

// SA is the Security Association payload (RFC 2408 §3.4) of the IPsec DOI
// (RFC 2407 §4.6.1). Proposals with the same Number are one offer, all of
// whose protocols are wanted together (an AH and ESP bundle); different
// Numbers are alternatives, in order of preference (RFC 2408 §4.2). A
// response carries the one chosen.
type SA struct {
	DOI       DOI       // DOIIPsec; the parser refuses others
	Situation Situation // SIT_IDENTITY_ONLY
	Proposals []Proposal
}

// Proposal is one Proposal payload inside an SA (RFC 2408 §3.5).
// Transforms are alternatives for its protocol, in order of preference;
// one is chosen.
type Proposal struct {
	Number   uint8
	Protocol ProtocolID
	// SPI is empty for ISAKMP (phase 1; the cookies name the SA) and the
	// 4-byte inbound SPI for ESP and AH.
	SPI        []byte
	Transforms []Transform
}

// Transform is one Transform payload inside a Proposal (RFC 2408 §3.6):
// KEY_IKE with the phase 1 algorithms as attributes, or an ESP or AH
// transform with the phase 2 attributes.
type Transform struct {
	Number     uint8
	ID         TransformID
	Attributes []Attribute
}

func (*SA) PayloadType() PayloadType { return PayloadSA }

// Header sizes and the Next Payload values that chain proposals and
// transforms: 0 on the last of a list, these on every other.
const (
	saHeaderLen        = 8 // DOI and Situation
	proposalHeaderLen  = 8
	transformHeaderLen = 8
)

// parseSA decodes an SA body:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!              Domain of Interpretation  (DOI)                  !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                           Situation                           ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                    Proposal payloads                          ~
func parseSA(r *reader) (Payload, error) {
	at := r.Offset()
	var doi, sit uint32
	if !r.U32(&doi) || !r.U32(&sit) {
		return nil, r.short(at, "DOI and Situation", saHeaderLen)
	}
	sa := &SA{DOI: DOI(doi), Situation: Situation(sit), Proposals: make([]Proposal, 0, 2)}
	if sa.DOI != DOIIPsec {
		e := r.errorf(at, "DOI %d, want IPsec (1)", doi)
		e.Err = ErrUnsupportedDOI
		return nil, e
	}
	// With secrecy or integrity, labelled domain fields follow the bitmap
	// (RFC 2407 §4.6.1); without them the gateway has nothing to check.
	if sa.Situation&(SIT_SECRECY|SIT_INTEGRITY) != 0 {
		e := r.errorf(at+4, "Situation %#x asks for secrecy or integrity labels", sit)
		e.Err = ErrUnsupportedSituation
		return nil, e
	}
	if r.Empty() {
		return nil, r.errorf(r.Offset(), "no proposals, want at least one")
	}
	for !r.Empty() {
		p, last, err := parseProposal(r, len(sa.Proposals)+1)
		if err != nil {
			return nil, err
		}
		sa.Proposals = append(sa.Proposals, p)
		if last != r.Empty() {
			return nil, r.errorf(r.Offset(), "proposal %d: Next Payload says %s, but %d bytes follow",
				len(sa.Proposals), lastWord(last), r.Left())
		}
	}
	return sa, nil
}

func lastWord(last bool) string {
	if last {
		return "last"
	}
	return "more"
}

// parseProposal decodes one Proposal payload:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Proposal #   !  Protocol-Id  !    SPI Size   !# of Transforms!
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                        SPI (variable)                         !
//	~                        Transforms                             ~
func parseProposal(r *reader, index int) (Proposal, bool, error) {
	at := r.Offset()
	var next, proto, spiSize, count uint8
	var length uint16
	var p Proposal
	if !r.U8(&next) || !r.Skip(1) || !r.U16(&length) {
		return p, false, r.short(at, "proposal header", proposalHeaderLen)
	}
	if next != 0 && next != uint8(PayloadProposal) {
		return p, false, r.errorf(at, "proposal %d: Next Payload %d, want 0 or %d", index, next, PayloadProposal)
	}
	if length < proposalHeaderLen {
		return p, false, r.errorf(at+2, "proposal %d: Payload Length %d, want at least %d", index, length, proposalHeaderLen)
	}
	pr, ok := r.sub(int(length)-4, PayloadProposal)
	if !ok {
		return p, false, r.errorf(at+2, "proposal %d: Payload Length %d, only %d bytes left", index, length, r.Left()+4)
	}
	pr.U8(&p.Number) // length >= 8: these four bytes are there
	pr.U8(&proto)
	pr.U8(&spiSize)
	pr.U8(&count)
	p.Protocol = ProtocolID(proto)
	if !pr.Bytes(&p.SPI, int(spiSize)) {
		return p, false, pr.errorf(at+6, "proposal %d: SPI Size %d, only %d bytes left in the proposal", index, spiSize, pr.Left())
	}
	if count > 0 {
		p.Transforms = make([]Transform, 0, count)
	}
	for i := 0; !pr.Empty(); i++ {
		if i == int(count) {
			return p, false, pr.errorf(pr.Offset(), "proposal %d: # of Transforms says %d, more follow", index, count)
		}
		t, last, err := parseTransform(&pr, index, i+1)
		if err != nil {
			return p, false, err
		}
		p.Transforms = append(p.Transforms, t)
		if last != pr.Empty() {
			return p, false, pr.errorf(pr.Offset(), "proposal %d: transform %d: Next Payload says %s, but %d bytes follow",
				index, i+1, lastWord(last), pr.Left())
		}
	}
	if len(p.Transforms) != int(count) {
		return p, false, pr.errorf(at+7, "proposal %d: # of Transforms says %d, found %d", index, count, len(p.Transforms))
	}
	return p, next == 0, nil
}

// parseTransform decodes one Transform payload:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Transform #  !  Transform-Id !           RESERVED2           !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                        SA Attributes                          ~
func parseTransform(r *reader, proposal, index int) (Transform, bool, error) {
	at := r.Offset()
	var next, id uint8
	var length uint16
	var t Transform
	if !r.U8(&next) || !r.Skip(1) || !r.U16(&length) {
		return t, false, r.short(at, "transform header", transformHeaderLen)
	}
	if next != 0 && next != uint8(PayloadTransform) {
		return t, false, r.errorf(at, "proposal %d: transform %d: Next Payload %d, want 0 or %d",
			proposal, index, next, PayloadTransform)
	}
	if length < transformHeaderLen {
		return t, false, r.errorf(at+2, "proposal %d: transform %d: Payload Length %d, want at least %d",
			proposal, index, length, transformHeaderLen)
	}
	tr, ok := r.sub(int(length)-4, PayloadTransform)
	if !ok {
		return t, false, r.errorf(at+2, "proposal %d: transform %d: Payload Length %d, only %d bytes left",
			proposal, index, length, r.Left()+4)
	}
	tr.U8(&t.Number) // length >= 8: these four bytes are there
	tr.U8(&id)
	tr.Skip(2)
	t.ID = TransformID(id)
	attrs, err := parseAttributes(&tr)
	if err != nil {
		return t, false, err
	}
	t.Attributes = attrs
	return t, next == 0, nil
}

func (sa *SA) encode(b *builder) {
	b.U32(uint32(sa.DOI))
	b.U32(uint32(sa.Situation))
	if len(sa.Proposals) == 0 {
		b.fail("no proposals")
	}
	for i, p := range sa.Proposals {
		b.at.proposal = i + 1
		start := b.Open()
		b.U8(nextIf(i+1 < len(sa.Proposals), PayloadProposal))
		b.U8(0)
		b.U16(0)
		b.U8(p.Number)
		b.U8(uint8(p.Protocol))
		b.u8Len(len(p.SPI), "SPI Size")
		b.u8Len(len(p.Transforms), "# of Transforms")
		b.Append(p.SPI)
		for j, t := range p.Transforms {
			b.at.transform = j + 1
			ts := b.Open()
			b.U8(nextIf(j+1 < len(p.Transforms), PayloadTransform))
			b.U8(0)
			b.U16(0)
			b.U8(t.Number)
			b.U8(uint8(t.ID))
			b.U16(0)
			appendAttributes(b, t.Attributes)
			b.close16(ts, 2, "transform")
		}
		b.at.transform = 0
		b.close16(start, 2, "proposal")
	}
	b.at.proposal = 0
}

func nextIf(more bool, t PayloadType) uint8 {
	if more {
		return uint8(t)
	}
	return 0
}
