package wire

import "fmt"

// The Encrypted payload, SK (§3.14), and the Encrypted Fragment payload,
// SKF (RFC 7383 §2.5), whose header carries two more fields:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Next Payload  |C|  RESERVED   |         Payload Length        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Fragment Number        |        Total Fragments        |  (SKF only)
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     Initialization Vector                     |
//	~             Encrypted IKE Payloads, Padding, Pad Length       ~
//	~                    Integrity Checksum Data                    ~
//
// The codec frames these payloads and never encrypts: the IKE SA, which
// holds the keys, works on the Regions of the message. Received:
//
//	msg, _ := wire.Parse(b)
//	r, _ := msg.Regions(sizes)
//	AEAD:        plain, err := aead.Open(r.Ciphertext[:0], salt||r.IV, r.Sealed(), r.AssociatedData)
//	CBC + HMAC:  check HMAC(r.Integrity) == r.ICV, then decrypt r.Ciphertext with r.IV
//	inner, _ := wire.ParseInner(sk.First, plain)
//
// Sent, laid out with the plaintext already in place:
//
//	out, r, _ := msg.AppendEncrypted(buf, inner, sizes)   // r.IV, r.ICV zero
//	AEAD:        fill r.IV; aead.Seal(r.Ciphertext[:0], salt||r.IV, r.Ciphertext, r.AssociatedData)
//	CBC + HMAC:  fill r.IV; encrypt r.Ciphertext in place; copy(r.ICV, HMAC(r.Integrity))
//
// Or, with a body encrypted elsewhere, Marshal a Message whose last payload
// is an *Encrypted holding IV || ciphertext || ICV.

// Encrypted is the SK payload as carried: Body is IV || ciphertext || ICV,
// split by Regions or Split once the IKE SA's sizes are known.
type Encrypted struct {
	// First is the SK header's Next Payload: the type of the first payload
	// inside, PayloadNone for an empty one (a liveness check).
	First PayloadType
	Body  []byte
}

// EncryptedFragment is the SKF payload of RFC 7383: one piece of an SK
// payload's plaintext, encrypted on its own.
type EncryptedFragment struct {
	// First is the type of the first inner payload in fragment 1 and
	// PayloadNone in every other.
	First  PayloadType
	Number uint16 // 1 to Total
	Total  uint16
	Body   []byte // IV || ciphertext || ICV
}

func (*Encrypted) PayloadType() PayloadType         { return PayloadSK }
func (*EncryptedFragment) PayloadType() PayloadType { return PayloadSKF }

const fragmentFieldsLen = 4

func parseEncrypted(r *reader, next PayloadType) (Payload, error) {
	return &Encrypted{First: next, Body: r.Rest()}, nil
}

func parseEncryptedFragment(r *reader, next PayloadType) (Payload, error) {
	at := r.Offset()
	f := &EncryptedFragment{First: next}
	if !r.U16(&f.Number) || !r.U16(&f.Total) {
		return nil, r.short(at, "Fragment Number and Total Fragments", fragmentFieldsLen)
	}
	if f.Number > 1 {
		// Senders must write zero here (RFC 7383 §2.5); receivers need
		// not care, as strongSwan does not.
		f.First = PayloadNone
	}
	if err := f.check(); err != "" {
		return nil, r.errorf(at, "%s", err)
	}
	f.Body = r.Rest()
	return f, nil
}

// check returns what is wrong with the fragment fields (RFC 7383 §2.5).
func (f *EncryptedFragment) check() string {
	switch {
	case f.Total == 0:
		return "Total Fragments 0, want 1 or more"
	case f.Number == 0 || f.Number > f.Total:
		return fmt.Sprintf("Fragment Number %d, want 1 to %d", f.Number, f.Total)
	case f.Number > 1 && f.First != PayloadNone:
		return fmt.Sprintf("fragment %d names first payload %v; only fragment 1 may", f.Number, f.First)
	}
	return ""
}

func (p *Encrypted) encode(b *builder) { b.Append(p.Body) }

func (p *EncryptedFragment) encode(b *builder) {
	if err := p.check(); err != "" {
		b.fail("%s", err)
	}
	b.U16(p.Number)
	b.U16(p.Total)
	b.Append(p.Body)
}

// Split cuts the body into IV, ciphertext and ICV.
func (p *Encrypted) Split(c CipherSizes) (iv, ciphertext, icv []byte, ok bool) {
	return split(p.Body, c)
}

// Split cuts the body into IV, ciphertext and ICV.
func (p *EncryptedFragment) Split(c CipherSizes) (iv, ciphertext, icv []byte, ok bool) {
	return split(p.Body, c)
}

func split(body []byte, c CipherSizes) (iv, ciphertext, icv []byte, ok bool) {
	if c.check() != "" || len(body) < c.IV+1+c.ICV {
		return nil, nil, nil, false
	}
	n := len(body) - c.ICV
	return body[:c.IV:c.IV], body[c.IV:n:n], body[n:], true
}

// CipherSizes are the sizes the IKE SA's transforms give an SK payload; the
// transform table has them (transform.Transform IVSize, BlockSize, ICVSize).
type CipherSizes struct {
	IV int // the explicit IV: 16 for AES-CBC, 8 for AES-GCM and ChaCha20-Poly1305
	// Block is what the plaintext with padding and Pad Length is a
	// multiple of: the cipher's block for CBC, 1 (no padding) for AEADs.
	Block int
	ICV   int // the AEAD tag, or the integrity transform's truncated output
}

func (c CipherSizes) check() string {
	if c.IV < 0 || c.ICV < 0 || c.Block < 0 || c.Block > 256 {
		return fmt.Sprintf("cipher sizes IV %d, block %d, ICV %d out of range", c.IV, c.Block, c.ICV)
	}
	return ""
}

// Regions are the parts of a message with an SK or SKF payload that the IKE
// SA's cipher works on, all within the one message buffer.
type Regions struct {
	// AssociatedData runs from the IKE header through the SK or SKF
	// payload header (with Fragment Number and Total Fragments): the AEAD
	// associated data of RFC 5282 §5.1.
	AssociatedData []byte
	IV             []byte
	// Ciphertext is the encrypted inner payloads, Padding and Pad Length.
	// Its capacity runs on over the ICV, so an AEAD can seal into
	// Ciphertext[:0] and write its tag into ICV.
	Ciphertext []byte
	ICV        []byte
	// Integrity runs from the IKE header through Pad Length: what CBC's
	// integrity transform covers (§3.14).
	Integrity []byte
}

// Sealed is Ciphertext followed by ICV: what an AEAD opens.
func (r Regions) Sealed() []byte { return r.Ciphertext[:len(r.Ciphertext)+len(r.ICV)] }

func regions(msg []byte, bodyStart int, c CipherSizes) Regions {
	ivEnd := bodyStart + c.IV
	icvStart := len(msg) - c.ICV
	return Regions{
		AssociatedData: msg[:bodyStart:bodyStart],
		IV:             msg[bodyStart:ivEnd:ivEnd],
		Ciphertext:     msg[ivEnd:icvStart:len(msg)],
		ICV:            msg[icvStart:len(msg):len(msg)],
		Integrity:      msg[:icvStart:icvStart],
	}
}

// Regions finds the parts of a parsed message's SK or SKF payload, in Raw.
// The IKE SA decrypts in place; Raw then holds plaintext. A body too short
// for the sizes, or a ciphertext that is not a whole number of blocks, is
// a syntax error.
func (m *Message) Regions(c CipherSizes) (Regions, error) {
	var body []byte
	var t PayloadType
	if n := len(m.Payloads); n > 0 {
		switch p := m.Payloads[n-1].(type) {
		case *Encrypted:
			body, t = p.Body, PayloadSK
		case *EncryptedFragment:
			body, t = p.Body, PayloadSKF
		}
	}
	if t == PayloadNone {
		return Regions{}, &ParseError{Offset: HeaderLen, Err: ErrInvalidSyntax, Reason: "no SK or SKF payload"}
	}
	bodyStart := len(m.Raw) - len(body)
	if s := c.check(); s != "" {
		return Regions{}, encodeError("%s", s)
	}
	if bodyStart < HeaderLen+genericHeaderLen {
		return Regions{}, encodeError("Raw does not hold the %v payload; Regions needs a message from Parse", t)
	}
	if len(body) < c.IV+1+c.ICV {
		return Regions{}, &ParseError{Payload: t, Offset: bodyStart, Err: ErrInvalidSyntax,
			Reason: fmt.Sprintf("body is %d bytes, want at least IV %d + Pad Length 1 + ICV %d", len(body), c.IV, c.ICV)}
	}
	if n := len(body) - c.IV - c.ICV; c.Block > 1 && n%c.Block != 0 {
		return Regions{}, &ParseError{Payload: t, Offset: bodyStart + c.IV, Err: ErrInvalidSyntax,
			Reason: fmt.Sprintf("ciphertext is %d bytes, not a multiple of the %d-byte block", n, c.Block)}
	}
	return regions(m.Raw, bodyStart, c), nil
}

// AppendEncrypted appends the message with its Payloads (usually none) in
// clear, followed by an SK payload laid out for the IKE SA to seal: a zero
// IV, the inner payloads and padding in Ciphertext, still in clear, and a
// zero ICV. See the Regions recipe above.
func (m *Message) AppendEncrypted(dst []byte, inner []Payload, c CipherSizes) ([]byte, Regions, error) {
	first := PayloadNone
	if len(inner) > 0 && inner[0] != nil {
		first = inner[0].PayloadType()
	}
	return m.appendSealable(dst, PayloadSK, first, 0, 0, c, func(b *builder) { b.chain(inner, true, PayloadNone) })
}

// AppendFragment is AppendEncrypted for one fragment (RFC 7383): content
// is the fragment's piece of the inner chain built by AppendPayloads, and
// first names the chain's first payload (it is written in fragment 1 only).
func (m *Message) AppendFragment(dst []byte, first PayloadType, number, total uint16, content []byte, c CipherSizes) ([]byte, Regions, error) {
	if number != 1 {
		first = PayloadNone
	}
	f := &EncryptedFragment{First: first, Number: number, Total: total}
	if s := f.check(); s != "" {
		return dst, Regions{}, encodeError("%s", s)
	}
	return m.appendSealable(dst, PayloadSKF, first, number, total, c, func(b *builder) { b.Append(content) })
}

func (m *Message) appendSealable(dst []byte, t, first PayloadType, number, total uint16, c CipherSizes, content func(*builder)) ([]byte, Regions, error) {
	if s := c.check(); s != "" {
		return dst, Regions{}, encodeError("%s", s)
	}
	b := newBuilder(dst)
	start := b.Open()
	headerNext := t
	if len(m.Payloads) > 0 && m.Payloads[0] != nil {
		headerNext = m.Payloads[0].PayloadType()
	}
	b.header(m.Header, headerNext)
	b.chain(m.Payloads, false, t)

	sk := b.Open()
	b.U8(uint8(first))
	b.U8(0)
	b.U16(0)
	if t == PayloadSKF {
		b.U16(number)
		b.U16(total)
	}
	bodyStart := b.Len()
	b.Zeros(c.IV)
	plain := b.Len()
	content(&b)
	pad := 0
	if c.Block > 1 {
		pad = (c.Block - (b.Len()-plain+1)%c.Block) % c.Block
	}
	b.Zeros(pad)
	b.U8(uint8(pad))
	b.Zeros(c.ICV)
	b.close16(sk, 2, t.String()+" payload")
	b.close32(start, offsetLength)
	if b.err != nil {
		return dst, Regions{}, b.err
	}
	msg := b.Bytes()[start:]
	return b.Bytes(), regions(msg, bodyStart-start, c), nil
}

// TrimPadding removes Padding and Pad Length from decrypted SK or SKF
// contents (§3.14); any padding bytes are accepted.
func TrimPadding(plaintext []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, &ParseError{Payload: PayloadSK, Err: ErrInvalidSyntax, Reason: "decrypted contents are empty, want at least Pad Length"}
	}
	pad := int(plaintext[len(plaintext)-1])
	if pad+1 > len(plaintext) {
		return nil, &ParseError{Payload: PayloadSK, Offset: len(plaintext) - 1, Err: ErrInvalidSyntax,
			Reason: fmt.Sprintf("Pad Length %d, only %d bytes before it", pad, len(plaintext)-1)}
	}
	return plaintext[:len(plaintext)-1-pad], nil
}

// ParseInner decodes the decrypted contents of an SK payload: it trims the
// padding and parses the payload chain starting with first (the SK
// payload's First). For fragments, trim each with TrimPadding, join the
// pieces in order, and use ParsePayloads.
func ParseInner(first PayloadType, plaintext []byte) ([]Payload, error) {
	chain, err := TrimPadding(plaintext)
	if err != nil {
		return nil, err
	}
	return ParsePayloads(first, chain)
}
