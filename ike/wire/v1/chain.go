package v1

// Chain is a payload chain, the payloads after the ISAKMP header in wire
// order, together with the bytes each payload was read from or written to.
// Those bytes are what IKEv1's HASH payloads cover: Main Mode's HASH_I
// takes the SA payload's body (SAi_b, RFC 2409 §5), Quick Mode's HASH(1)
// everything after the HASH payload (§5.5), and they must be the bytes as
// sent, not a re-encoding.
type Chain struct {
	Payloads []Payload
	// Padding is what followed the last payload of a decrypted body
	// (ParseDecrypted): IKEv1 pads the plaintext to the cipher's block
	// size and, unlike IKEv2, says nothing of how much (RFC 2409
	// Appendix B), so the chain's end is where the padding starts.
	Padding []byte

	raw  []byte // the payloads, padding excluded; set by parsing and BuildChain
	ends []int  // ends[i] is the offset in raw one past payload i
}

// genericHeaderLen is the size of the generic payload header (RFC 2408
// §3.2), in front of every payload:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const genericHeaderLen = 4

// Raw returns payload i as received or built, generic header included, or
// nil if the chain was put together by hand.
func (c *Chain) Raw(i int) []byte {
	if i < 0 || i >= len(c.ends) {
		return nil
	}
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.raw[start:c.ends[i]:c.ends[i]]
}

// RawBody returns payload i's body as received or built, without the
// generic header: for the SA payload, SAi_b.
func (c *Chain) RawBody(i int) []byte {
	if p := c.Raw(i); p != nil {
		return p[genericHeaderLen:]
	}
	return nil
}

// RawAfter returns the payloads after payload i, generic headers included
// and padding excluded, as received or built: for a HASH payload first in
// a Quick Mode or Informational message, what HASH(1) is computed over
// after the Message ID. It is empty (not nil) when payload i is the last.
func (c *Chain) RawAfter(i int) []byte {
	if i < 0 || i >= len(c.ends) {
		return nil
	}
	return c.raw[c.ends[i]:len(c.raw):len(c.raw)]
}

// Bytes returns the whole chain as received or built, padding excluded.
func (c *Chain) Bytes() []byte { return c.raw }

// SetHash writes digest into the body of payload i of a built chain,
// which must be a *Hash built with a placeholder of the same size
// (ReserveHash): the back-patch of a HASH computed over the payloads after
// it. The Hash value's Data is updated too.
func (c *Chain) SetHash(i int, digest []byte) error {
	if i < 0 || i >= len(c.Payloads) || i >= len(c.ends) {
		return encodeError("SetHash: no built payload %d", i+1)
	}
	h, ok := c.Payloads[i].(*Hash)
	if !ok {
		return encodeError("SetHash: payload %d is %v, not HASH", i+1, c.Payloads[i].PayloadType())
	}
	body := c.RawBody(i)
	if len(body) != len(digest) {
		return encodeError("SetHash: digest is %d bytes, the reserved HASH %d", len(digest), len(body))
	}
	copy(body, digest)
	h.Data = body
	return nil
}

// ParseChain decodes a payload chain whose first payload is of type
// first and which fills b exactly. Offsets in errors count from the start
// of b. The Chain and its payloads alias b.
func ParseChain(first PayloadType, b []byte) (*Chain, error) {
	return parseChain(first, b, 0, false)
}

// ParseDecrypted decodes the plaintext of an encrypted body, after the
// exchange has decrypted it: a payload chain whose first payload is the
// header's Next Payload, then padding, which is kept in Padding.
func ParseDecrypted(first PayloadType, plaintext []byte) (*Chain, error) {
	return parseChain(first, plaintext, 0, true)
}

// parseChain follows Next Payload fields from first. base is the offset of
// b in the message, for errors. Bytes after the last payload are padding
// when padded, an error otherwise.
func parseChain(first PayloadType, b []byte, base int, padded bool) (*Chain, error) {
	r := newReader(b, base, PayloadNone)
	// Most messages have a handful of payloads; Main Mode's first up to
	// ten with vendor IDs.
	c := &Chain{Payloads: make([]Payload, 0, 8), ends: make([]int, 0, 8)}
	for next := first; next != PayloadNone; {
		at := r.Offset()
		t := next
		if r.Empty() {
			return nil, r.errorf(at, "Next Payload names %v, but the data ends", t)
		}
		var n uint8
		var length uint16
		if !r.U8(&n) || !r.Skip(1) || !r.U16(&length) {
			return nil, inPayload(t, r.short(at, "generic payload header", genericHeaderLen))
		}
		if length < genericHeaderLen {
			return nil, inPayload(t, r.errorf(at+2, "Payload Length %d, want at least %d", length, genericHeaderLen))
		}
		body, ok := r.sub(int(length)-genericHeaderLen, t)
		if !ok {
			return nil, inPayload(t, r.errorf(at+2, "Payload Length %d, only %d bytes left", length, r.Left()+genericHeaderLen))
		}
		next = PayloadType(n)
		p, err := parseBody(t, &body)
		if err != nil {
			return nil, err
		}
		if !body.Empty() {
			return nil, body.errorf(body.Offset(), "%d bytes after the payload's fields", body.Left())
		}
		c.Payloads = append(c.Payloads, p)
		c.ends = append(c.ends, r.Offset()-base)
	}
	end := r.Offset() - base
	c.raw = b[:end:end]
	if !r.Empty() {
		if !padded {
			return nil, r.errorf(r.Offset(), "%d bytes after the last payload", r.Left())
		}
		c.Padding = r.Rest()
	}
	if len(c.Payloads) == 0 {
		c.Payloads, c.ends, c.raw = nil, nil, nil
	}
	return c, nil
}

func inPayload(t PayloadType, e *ParseError) *ParseError {
	e.Payload = t
	return e
}

// parseBody decodes one payload body. Types the codec does not know are
// kept as *Unknown: IKEv1 has no critical bit, and RFC 2408 §5.2 has the
// receiver skip what it does not understand by its length.
func parseBody(t PayloadType, r *reader) (Payload, error) {
	switch t {
	case PayloadSA:
		return parseSA(r)
	case PayloadProposal, PayloadTransform:
		return nil, r.errorf(r.Offset()-genericHeaderLen, "%v payload outside an SA payload", t)
	case PayloadKE:
		return &KE{Data: r.Rest()}, nil
	case PayloadID:
		return parseID(r)
	case PayloadCert:
		return parseCert(r)
	case PayloadCertReq:
		return parseCertReq(r)
	case PayloadHash:
		return &Hash{Data: r.Rest()}, nil
	case PayloadSignature:
		return &Signature{Data: r.Rest()}, nil
	case PayloadNonce:
		return parseNonce(r)
	case PayloadNotification:
		return parseNotify(r)
	case PayloadDelete:
		return parseDelete(r)
	case PayloadVendorID:
		return &VendorID{Data: r.Rest()}, nil
	case PayloadNATD, PayloadNATDDraft:
		return &NATD{Draft: t == PayloadNATDDraft, Data: r.Rest()}, nil
	case PayloadNATOA, PayloadNATOADraft:
		return parseNATOA(r, t == PayloadNATOADraft)
	}
	return &Unknown{Type: t, Body: r.Rest()}, nil
}

// BuildChain encodes payloads into a chain, each Next Payload naming the
// payload after it, and returns it with the bytes of each payload
// recorded, for a HASH over them (RawAfter, SetHash). Padding is not
// written: the exchange pads to its cipher's block size.
func BuildChain(ps []Payload) (*Chain, error) {
	b := newBuilder(make([]byte, 0, 256))
	ends := b.chain(ps)
	if b.err != nil {
		return nil, b.err
	}
	return &Chain{Payloads: ps, raw: b.Bytes(), ends: ends}, nil
}

// chain writes payloads with their generic headers and returns where each
// ends, counted from where the chain starts.
func (b *builder) chain(ps []Payload) []int {
	base := b.Len()
	ends := make([]int, 0, len(ps))
	for i, p := range ps {
		b.at = position{payload: i + 1}
		if p == nil {
			b.fail("nil")
			return nil
		}
		b.at.payloadType = p.PayloadType()
		next := PayloadNone
		if i+1 < len(ps) && ps[i+1] != nil {
			next = ps[i+1].PayloadType()
		}
		start := b.Open()
		b.U8(uint8(next))
		b.U8(0)
		b.U16(0)
		p.encode(b)
		b.close16(start, 2, "payload")
		ends = append(ends, b.Len()-base)
	}
	b.at = position{}
	return ends
}

func (c *Chain) String() string {
	s := "["
	for i, p := range c.Payloads {
		if i > 0 {
			s += " "
		}
		s += p.PayloadType().String()
	}
	return s + "]"
}
