package header

import "encoding/binary"

// ESP packet format, RFC 4303 §2:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               Security Parameters Index (SPI)                 |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      Sequence Number                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Payload Data* (variable)                   |
//	~                                                               ~
//	|               |     Padding (0-255 bytes)                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |  Pad Length   | Next Header   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Integrity Check Value-ICV   (variable)                |
//	~                                                               ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Only the SPI and the low 32 bits of the sequence number are in clear;
// everything from Payload Data on (IV, ciphertext, trailer, ICV) belongs
// to the esp package, which knows the SA's algorithms.
const (
	espSPI            = 0
	espSequenceNumber = 4

	// ESPHeaderSize is the length of the SPI and Sequence Number fields.
	ESPHeaderSize = 8
)

// ESP is a view of one ESP packet starting at its SPI. Make one with
// ParseESP or EncodeESP.
type ESP []byte

// ParseESP is the gate to the ESP view. It accepts b when it holds at
// least the SPI and sequence number and the SPI is not zero: zero is
// reserved for local use and never sent (RFC 4303 §2.1), and four zero
// octets at the start of a UDP-encapsulated payload are the non-ESP marker
// of an IKE message (RFC 3948 §2.2), not ESP.
func ParseESP(b []byte) (ESP, bool) {
	if len(b) < ESPHeaderSize || binary.BigEndian.Uint32(b[espSPI:]) == 0 {
		return nil, false
	}
	return ESP(b), true
}

// EncodeESP writes the SPI and sequence number at the start of b and
// returns b as a view. It reports false when b is shorter than 8 octets
// or spi is zero.
func EncodeESP(b []byte, spi, seq uint32) (ESP, bool) {
	if len(b) < ESPHeaderSize || spi == 0 {
		return nil, false
	}
	e := ESP(b)
	binary.BigEndian.PutUint32(e[espSPI:], spi)
	binary.BigEndian.PutUint32(e[espSequenceNumber:], seq)
	return e, true
}

// SPI returns the Security Parameters Index.
func (e ESP) SPI() uint32 { return binary.BigEndian.Uint32(e[espSPI:]) }

// SequenceNumber returns the low 32 bits of the sequence number; with ESN
// the high 32 bits are implicit (RFC 4303 §2.2.1).
func (e ESP) SequenceNumber() uint32 { return binary.BigEndian.Uint32(e[espSequenceNumber:]) }

// Payload returns everything after the sequence number: IV, ciphertext,
// trailer and ICV.
func (e ESP) Payload() []byte { return e[ESPHeaderSize:] }

// SetSequenceNumber sets the low 32 bits of the sequence number.
func (e ESP) SetSequenceNumber(seq uint32) { binary.BigEndian.PutUint32(e[espSequenceNumber:], seq) }

// IsNonESPMarker reports whether a UDP payload received on the NAT-T port
// is an IKE message: it starts with four zero octets (RFC 3948 §2.2).
func IsNonESPMarker(udpPayload []byte) bool {
	return len(udpPayload) >= 4 && binary.BigEndian.Uint32(udpPayload) == 0
}

// IsNATKeepalive reports whether a UDP payload is a NAT-keepalive: the
// single octet 0xFF (RFC 3948 §2.3).
func IsNATKeepalive(udpPayload []byte) bool {
	return len(udpPayload) == 1 && udpPayload[0] == 0xff
}
