package wire

// Message is one IKEv2 message: the header and its payload chain, in wire
// order. A message protected by the IKE SA ends with an *Encrypted or
// *EncryptedFragment payload, whose contents the IKE SA decrypts and then
// decodes with ParseInner.
type Message struct {
	Header   Header
	Payloads []Payload
	// Raw is the message as received, set by Parse: IKE_AUTH signs the
	// raw IKE_SA_INIT messages (§2.15), and Regions points into it. The
	// codec never sets it when building; the bytes built are returned.
	Raw []byte
}

// The generic payload header (§3.2), in front of every payload:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	genericHeaderLen = 4
	criticalBit      = 0x80
)

// Parse decodes a whole message, b being exactly the message (after the
// non-ESP marker on port 4500). The Message and its payloads alias b: the
// caller must not reuse b while they are in use.
//
// Errors are *ParseError values wrapping ErrInvalidSyntax or
// ErrUnsupportedVersion; NotifyFor names the answer.
func Parse(b []byte) (*Message, error) {
	h, first, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	r := newReader(b[HeaderLen:], HeaderLen, PayloadNone)
	ps, err := parseChain(first, &r, false)
	if err != nil {
		return nil, err
	}
	return &Message{Header: h, Payloads: ps, Raw: b}, nil
}

// ParsePayloads decodes a payload chain whose first payload is of type
// first: the decrypted and reassembled contents of an Encrypted payload,
// without padding. Offsets in errors count from the start of chain.
func ParsePayloads(first PayloadType, chain []byte) ([]Payload, error) {
	r := newReader(chain, 0, PayloadNone)
	return parseChain(first, &r, true)
}

// parseChain follows Next Payload fields from first to the end of r. In
// the outer chain an Encrypted payload ends it, its Next Payload naming the
// first payload inside; inside one (inner), an Encrypted payload is an
// error (§3.14).
func parseChain(first PayloadType, r *reader, inner bool) ([]Payload, error) {
	// Most messages have a few payloads: one (SK) after IKE_SA_INIT, up
	// to eight in it.
	ps := make([]Payload, 0, 8)
	for next := first; next != PayloadNone; {
		at := r.Offset()
		t := next
		if r.Empty() {
			return nil, r.errorf(at, "Next Payload names %v, but the message ends", t)
		}
		var n, flags uint8
		var length uint16
		if !r.U8(&n) || !r.U8(&flags) || !r.U16(&length) {
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
		p, err := parseBody(t, next, flags&criticalBit != 0, &body)
		if err != nil {
			return nil, err
		}
		if !body.Empty() {
			return nil, body.errorf(body.Offset(), "%d bytes after the payload's fields", body.Left())
		}
		ps = append(ps, p)
		if t == PayloadSK || t == PayloadSKF {
			if inner {
				return nil, r.errorf(at, "%v payload inside an encrypted payload", t)
			}
			if !r.Empty() {
				return nil, r.errorf(r.Offset(), "%d bytes after the %v payload, which must be last", r.Left(), t)
			}
			// Its Next Payload names the first payload inside it.
			return ps, nil
		}
	}
	if !r.Empty() {
		return nil, r.errorf(r.Offset(), "%d bytes after the last payload", r.Left())
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return ps, nil
}

func inPayload(t PayloadType, e *ParseError) *ParseError {
	e.Payload = t
	return e
}

// parseBody decodes one payload body; next is the Next Payload field of its
// generic header, which an encrypted payload keeps.
func parseBody(t, next PayloadType, critical bool, r *reader) (Payload, error) {
	switch t {
	case PayloadSA:
		return parseSA(r)
	case PayloadKE:
		return parseKE(r)
	case PayloadIDi:
		id, err := parseIdentification(r)
		return (*IDi)(&id), err
	case PayloadIDr:
		id, err := parseIdentification(r)
		return (*IDr)(&id), err
	case PayloadCERT:
		return parseCert(r)
	case PayloadCERTREQ:
		return parseCertReq(r)
	case PayloadAUTH:
		return parseAuth(r)
	case PayloadNonce:
		return parseNonce(r)
	case PayloadNotify:
		return parseNotify(r)
	case PayloadDelete:
		return parseDelete(r)
	case PayloadVendorID:
		return parseVendorID(r)
	case PayloadTSi:
		return parseTSi(r)
	case PayloadTSr:
		return parseTSr(r)
	case PayloadSK:
		return parseEncrypted(r, next)
	case PayloadSKF:
		return parseEncryptedFragment(r, next)
	case PayloadCP:
		return parseCP(r)
	case PayloadEAP:
		return parseEAP(r)
	}
	return &Unknown{Type: t, Critical: critical, Body: r.Rest()}, nil
}

// Marshal encodes the message. Next Payload and Length fields are computed;
// an *Encrypted or *EncryptedFragment payload must come last and is written
// with the Body it holds (see AppendEncrypted to lay one out for sealing).
func (m *Message) Marshal() ([]byte, error) {
	return m.Append(make([]byte, 0, 512))
}

// Append appends the encoded message to dst.
func (m *Message) Append(dst []byte) ([]byte, error) {
	b := newBuilder(dst)
	m.appendTo(&b)
	if b.err != nil {
		return dst, b.err
	}
	return b.Bytes(), nil
}

// appendTo writes the header and chain and patches Length.
func (m *Message) appendTo(b *builder) {
	start := b.Open()
	first := PayloadNone
	if len(m.Payloads) > 0 && m.Payloads[0] != nil {
		first = m.Payloads[0].PayloadType()
	}
	b.header(m.Header, first)
	b.chain(m.Payloads, false, PayloadNone)
	b.close32(start, offsetLength)
}

// AppendPayloads appends a payload chain without header: the plaintext an
// Encrypted payload protects, before padding. It returns the type of the
// first payload, which goes in the Encrypted payload's Next Payload field.
func AppendPayloads(dst []byte, ps []Payload) (PayloadType, []byte, error) {
	b := newBuilder(dst)
	b.chain(ps, true, PayloadNone)
	if b.err != nil {
		return PayloadNone, dst, b.err
	}
	first := PayloadNone
	if len(ps) > 0 {
		first = ps[0].PayloadType()
	}
	return first, b.Bytes(), nil
}

// chain writes payloads with their generic headers, each Next Payload
// naming the payload after it and the last naming after (an SK payload the
// caller writes next, or none).
func (b *builder) chain(ps []Payload, inner bool, after PayloadType) {
	for i, p := range ps {
		b.at = position{inner: inner, payload: i + 1}
		if p == nil {
			b.fail("nil")
			return
		}
		b.at.payloadType = p.PayloadType()
		next := after
		if i+1 < len(ps) && ps[i+1] != nil {
			next = ps[i+1].PayloadType()
		}
		switch e := p.(type) {
		case *Encrypted:
			next = e.First
		case *EncryptedFragment:
			next = e.First
		}
		if t := p.PayloadType(); t == PayloadSK || t == PayloadSKF {
			if inner {
				b.fail("inside an encrypted payload")
			} else if i != len(ps)-1 || after != PayloadNone {
				b.fail("not last; an encrypted payload must be")
			}
		}
		var flags uint8
		if u, ok := p.(*Unknown); ok && u.Critical {
			flags = criticalBit
		}
		start := b.Open()
		b.U8(uint8(next))
		b.U8(flags)
		b.U16(0)
		p.encode(b)
		b.close16(start, 2, "payload")
	}
	b.at = position{}
}
