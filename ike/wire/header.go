package wire

import "fmt"

// The IKE header (RFC 7296 §3.1), 28 bytes in front of every message:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       IKE SA Initiator's SPI                  |
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       IKE SA Responder's SPI                  |
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          Message ID                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                            Length                             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	offsetNextPayload = 16
	offsetVersion     = 17
	offsetMessageID   = 20
	offsetLength      = 24

	// HeaderLen is the size of the IKE header.
	HeaderLen = 28

	// version2 is MjVer 2, MnVer 0: what this codec sends. On receipt the
	// minor version is ignored (§2.5).
	version2 = 0x20
)

// Header is the IKE header without the fields the codec derives: Next
// Payload (from the payloads), Length (from the encoding) and the version
// (always sent as 2.0; a received major version other than 2 is refused).
type Header struct {
	InitiatorSPI uint64
	ResponderSPI uint64 // zero in the first IKE_SA_INIT request
	Exchange     ExchangeType
	Flags        Flags // reserved bits are dropped on parse and build
	MessageID    uint32
}

// IsResponse reports whether the Response flag is set.
func (h Header) IsResponse() bool { return h.Flags&FlagResponse != 0 }

// FromInitiator reports whether the original initiator of the IKE SA sent
// the message (the Initiator flag).
func (h Header) FromInitiator() bool { return h.Flags&FlagInitiator != 0 }

// ParseHeader decodes the IKE header of the message b, which must be the
// whole message: its Length field must equal len(b). It is what a
// dispatcher reads to find the IKE SA a message belongs to.
//
// When the major version is not 2 the error wraps ErrUnsupportedVersion and
// the Header is still filled in, so the answer (INVALID_MAJOR_VERSION, §2.5)
// can be addressed.
func ParseHeader(b []byte) (Header, error) {
	h, _, err := parseHeader(b)
	return h, err
}

// parseHeader also returns the Next Payload field.
func parseHeader(b []byte) (Header, PayloadType, error) {
	r := newReader(b, 0, PayloadNone)
	var (
		h                       Header
		next, version, exchange uint8
		flags                   uint8
		length                  uint32
	)
	if !r.U64(&h.InitiatorSPI) || !r.U64(&h.ResponderSPI) || !r.U8(&next) ||
		!r.U8(&version) || !r.U8(&exchange) || !r.U8(&flags) ||
		!r.U32(&h.MessageID) || !r.U32(&length) {
		e := r.short(0, "IKE header", HeaderLen)
		e.inHeader = true
		return Header{}, 0, e
	}
	h.Exchange = ExchangeType(exchange)
	h.Flags = Flags(flags) & knownFlags
	if major := version >> 4; major != 2 {
		return h, 0, &ParseError{Offset: offsetVersion, Err: ErrUnsupportedVersion, inHeader: true,
			Reason: fmt.Sprintf("major version %d, want 2", major)}
	}
	if int64(length) != int64(len(b)) {
		e := r.errorf(offsetLength, "Length field says %d bytes, message has %d", length, len(b))
		e.inHeader = true
		return h, 0, e
	}
	return h, PayloadType(next), nil
}

// header writes h with a zero Length, for close32 to patch.
func (b *builder) header(h Header, next PayloadType) {
	b.U64(h.InitiatorSPI)
	b.U64(h.ResponderSPI)
	b.U8(uint8(next))
	b.U8(version2)
	b.U8(uint8(h.Exchange))
	b.U8(uint8(h.Flags & knownFlags))
	b.U32(h.MessageID)
	b.U32(0)
}
