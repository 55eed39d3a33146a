package wire

// CP is the Configuration payload (§3.15), with which a remote-access
// client asks for an internal address and the gateway assigns one.
type CP struct {
	Type       CFGType
	Attributes []ConfigAttribute
}

// ConfigAttribute is one configuration attribute (§3.15.1). Its value is
// opaque to the codec; an empty value in a CFG_REQUEST asks for any.
type ConfigAttribute struct {
	Type  ConfigAttributeType // 15 bits
	Value []byte
}

func (*CP) PayloadType() PayloadType { return PayloadCP }

const configTypeMask = 0x7fff // the top bit is reserved

// parseCP decodes a Configuration payload body (§3.15):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   CFG Type    |                    RESERVED                   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                   Configuration Attributes                    ~
//
// and each attribute:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|R|         Attribute Type      |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                             Value                             ~
func parseCP(r *reader) (Payload, error) {
	at := r.Offset()
	var typ uint8
	if !r.U8(&typ) || !r.Skip(3) {
		return nil, r.short(at, "CFG Type and RESERVED", 4)
	}
	cp := &CP{Type: CFGType(typ)}
	for i := 1; !r.Empty(); i++ {
		aat := r.Offset()
		var t, n uint16
		if !r.U16(&t) || !r.U16(&n) {
			return nil, r.short(aat, "configuration attribute header", 4)
		}
		a := ConfigAttribute{Type: ConfigAttributeType(t & configTypeMask)}
		if !r.Bytes(&a.Value, int(n)) {
			return nil, r.errorf(aat+2, "configuration attribute %d: Length %d, only %d bytes left", i, n, r.Left())
		}
		cp.Attributes = append(cp.Attributes, a)
	}
	return cp, nil
}

func (p *CP) encode(b *builder) {
	b.U8(uint8(p.Type))
	b.Zeros(3)
	for _, a := range p.Attributes {
		if a.Type&^configTypeMask != 0 {
			b.fail("configuration attribute type %d does not fit 15 bits", a.Type)
		}
		b.U16(uint16(a.Type))
		b.u16Len(len(a.Value), "configuration attribute length")
		b.Append(a.Value)
	}
}
