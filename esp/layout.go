package esp

// An ESP packet in tunnel mode (RFC 4303 §2), as Seal writes it and Open
// reads it, from the SPI on:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               Security Parameters Index (SPI)                 |  offSPI
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                Sequence Number (low 32 bits)                  |  offSeq
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    IV (explicit, IVSize)                      |  headerLen
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ─┐
//	|        Inner packet: the whole inner IP datagram              |  │
//	~                                                               ~  │ encrypted
//	|               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  │ "body",
//	|               |       Padding 1, 2, 3, ... (0-255 bytes)      |  │ a multiple
//	+-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  │ of align
//	|                               |  Pad Length   |  Next Header  |  │
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ─┘
//	|          Integrity Check Value (ICV, ICVSize bytes)           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// With extended sequence numbers the high 32 bits are never sent: they are
// authenticated as part of the AEAD's AAD (RFC 4106 §5) or appended after
// the body for the HMAC (RFC 4303 §2.2.1).
const (
	offSPI     = 0
	offSeq     = 4
	headerLen  = 8
	trailerLen = 2 // Pad Length, Next Header
)

// Next Header values ESP carries in tunnel mode.
const (
	NextHeaderIPv4 byte = 4
	NextHeaderIPv6 byte = 41
	// NextHeaderNone marks a dummy packet (traffic flow confidentiality,
	// RFC 4303 §2.6), which the receiver discards.
	NextHeaderNone byte = 59
)

// minAlign is ESP's own alignment: the body ends on a 4-byte boundary
// whatever the cipher (RFC 4303 §2.4).
const minAlign = 4

// bodyLen is the encrypted length for an inner packet of n bytes: inner,
// padding and trailer, rounded up to align, a power of two (newSuite
// sees to it): a mask, where a division by a variable took 2-3 % of the
// seal pipeline's time.
func bodyLen(n, align int) int {
	return (n + trailerLen + align - 1) &^ (align - 1)
}

// writeTrailer fills body[n:] with the default padding (1, 2, 3, ...,
// RFC 4303 §2.4), the pad length and the next header. body[:n] is the
// inner packet.
func writeTrailer(body []byte, n int, nextHeader byte) {
	padLen := len(body) - n - trailerLen
	pad := body[n : n+padLen]
	for i := range pad {
		pad[i] = byte(i + 1)
	}
	body[len(body)-2] = byte(padLen)
	body[len(body)-1] = nextHeader
}

// splitTrailer takes the decrypted body apart. It checks that the padding is
// the default sequence, since a sender following RFC 4303 writes nothing
// else and an authenticated but malformed trailer is worth counting. The
// inner packet may still carry TFC padding after the IP datagram (RFC 4303
// §2.7); the IP header's own length tells where the datagram ends.
func splitTrailer(body []byte) (inner []byte, nextHeader byte, err error) {
	if len(body) < trailerLen {
		return nil, 0, ErrBadTrailer
	}
	padLen := int(body[len(body)-2])
	nextHeader = body[len(body)-1]
	n := len(body) - trailerLen - padLen
	if n < 0 {
		return nil, 0, ErrBadTrailer
	}
	for i, b := range body[n : n+padLen] {
		if b != byte(i+1) {
			return nil, 0, ErrBadTrailer
		}
	}
	switch nextHeader {
	case NextHeaderIPv4, NextHeaderIPv6:
		return body[:n], nextHeader, nil
	case NextHeaderNone:
		return nil, nextHeader, ErrDummyPacket
	}
	return nil, nextHeader, ErrBadNextHeader
}
