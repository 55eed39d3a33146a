package v1

import (
	"encoding/binary"
	"fmt"
)

// The ISAKMP header (RFC 2408 §3.1), 28 bytes in front of every message:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Initiator                            !
//	!                            Cookie                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Responder                            !
//	!                            Cookie                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Message ID                           !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                            Length                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	offsetNextPayload = 16
	offsetVersion     = 17
	offsetLength      = 24

	// HeaderLen is the size of the ISAKMP header.
	HeaderLen = 28

	// MaxMessageLen bounds what Parse accepts and Marshal writes. IKEv1
	// has no fragmentation of its own that the gateway speaks, a phase 1
	// message with certificates stays well under it, and a peer sending
	// more is not worth the memory.
	MaxMessageLen = 64 << 10

	// version1 is MjVer 1, MnVer 0: what this codec sends. On receipt
	// the minor version is ignored, as charon does.
	version1 = 0x10
)

// Header is the ISAKMP header without the fields the codec derives:
// Length (from the encoding) and the version (always sent as 1.0; a
// received major version other than 1 is refused).
type Header struct {
	InitiatorCookie uint64
	ResponderCookie uint64 // zero in the first message of phase 1
	// NextPayload is the type of the first payload. Parse fills it in;
	// Marshal writes the type of the first payload instead, except for an
	// encrypted body, whose first payload the codec cannot see.
	NextPayload PayloadType
	Exchange    ExchangeType
	Flags       Flags // unknown bits are dropped on parse and build
	MessageID   uint32
}

// Encrypted reports whether the body after the header is encrypted.
func (h Header) Encrypted() bool { return h.Flags&FlagEncryption != 0 }

// ParseHeader decodes the header of the message b, which must be the
// whole message: its Length field must equal len(b). It is what a
// dispatcher reads to find the phase 1 SA a message belongs to, and what
// the exchange reads before decrypting the body.
//
// When the major version is not 1 the error wraps ErrUnsupportedVersion
// and the Header is still filled in, so the answer can be addressed.
func ParseHeader(b []byte) (Header, error) {
	r := newReader(b, 0, PayloadNone)
	var (
		h                              Header
		next, version, exchange, flags uint8
		length                         uint32
	)
	if !r.U64(&h.InitiatorCookie) || !r.U64(&h.ResponderCookie) || !r.U8(&next) ||
		!r.U8(&version) || !r.U8(&exchange) || !r.U8(&flags) ||
		!r.U32(&h.MessageID) || !r.U32(&length) {
		e := r.short(0, "ISAKMP header", HeaderLen)
		e.inHeader = true
		return Header{}, e
	}
	h.NextPayload = PayloadType(next)
	h.Exchange = ExchangeType(exchange)
	h.Flags = Flags(flags) & knownFlags
	if major := version >> 4; major != 1 {
		return h, &ParseError{Offset: offsetVersion, Err: ErrUnsupportedVersion, inHeader: true,
			Reason: fmt.Sprintf("major version %d, want 1", major)}
	}
	if int64(length) != int64(len(b)) {
		e := r.errorf(offsetLength, "Length field says %d bytes, message has %d", length, len(b))
		e.inHeader = true
		return h, e
	}
	if len(b) > MaxMessageLen {
		e := r.errorf(offsetLength, "message is %d bytes, more than the %d accepted", len(b), MaxMessageLen)
		e.inHeader = true
		return h, e
	}
	return h, nil
}

// appendHeader writes h with next as its Next Payload and a zero Length,
// for closeMessage to patch.
func appendHeader(dst []byte, h Header, next PayloadType) []byte {
	dst = binary.BigEndian.AppendUint64(dst, h.InitiatorCookie)
	dst = binary.BigEndian.AppendUint64(dst, h.ResponderCookie)
	dst = append(dst, uint8(next), version1, uint8(h.Exchange), uint8(h.Flags&knownFlags))
	dst = binary.BigEndian.AppendUint32(dst, h.MessageID)
	return binary.BigEndian.AppendUint32(dst, 0)
}
