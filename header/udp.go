package header

import (
	"encoding/binary"
	"net/netip"
)

// UDP header, RFC 768:
//
//	 0      7 8     15 16    23 24    31
//	+--------+--------+--------+--------+
//	|     Source      |   Destination   |
//	|      Port       |      Port       |
//	+--------+--------+--------+--------+
//	|                 |                 |
//	|     Length      |    Checksum     |
//	+--------+--------+--------+--------+
//	|
//	|          data octets ...
//	+---------------- ...
//
// Length counts the header and the data. The checksum covers a
// pseudo-header (see PseudoHeaderChecksum), the header and the data; zero
// means "no checksum" over IPv4 and is not allowed over IPv6 (RFC 8200
// §8.1), so a computed zero is sent as all ones.
const (
	udpSourcePort      = 0
	udpDestinationPort = 2
	udpLength          = 4
	udpChecksum        = 6

	// UDPMinimumSize is the length of the UDP header.
	UDPMinimumSize = 8
)

// UDP is a view of one UDP datagram: header and data, nothing after
// Length. Make one with ParseUDP or EncodeUDP.
type UDP []byte

// ParseUDP is the gate to the UDP view. It accepts b when it holds a UDP
// header whose Length is at least 8 and fits in b; the view ends at
// Length. It does not verify the checksum; see ChecksumValid.
func ParseUDP(b []byte) (UDP, bool) {
	if len(b) < UDPMinimumSize {
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(b[udpLength:]))
	if n < UDPMinimumSize || n > len(b) {
		return nil, false
	}
	return UDP(b[:n]), true
}

// UDPFields are the values EncodeUDP writes.
type UDPFields struct {
	SourcePort      uint16
	DestinationPort uint16
	Length          uint16 // header and data
}

// EncodeUDP writes a UDP header with f's values and a zero checksum at the
// start of b, which holds (or will hold) the data after it, and returns the
// view b[:f.Length]. It reports false, writing nothing, when Length is
// below 8 or beyond len(b). Call UpdateChecksum once the data is in place
// if the datagram needs a checksum.
func EncodeUDP(b []byte, f UDPFields) (UDP, bool) {
	if f.Length < UDPMinimumSize || int(f.Length) > len(b) {
		return nil, false
	}
	u := UDP(b[:f.Length])
	binary.BigEndian.PutUint16(u[udpSourcePort:], f.SourcePort)
	binary.BigEndian.PutUint16(u[udpDestinationPort:], f.DestinationPort)
	binary.BigEndian.PutUint16(u[udpLength:], f.Length)
	binary.BigEndian.PutUint16(u[udpChecksum:], 0)
	return u, true
}

// SourcePort returns the source port.
func (u UDP) SourcePort() uint16 { return binary.BigEndian.Uint16(u[udpSourcePort:]) }

// DestinationPort returns the destination port.
func (u UDP) DestinationPort() uint16 { return binary.BigEndian.Uint16(u[udpDestinationPort:]) }

// Length returns the Length field: header plus data.
func (u UDP) Length() uint16 { return binary.BigEndian.Uint16(u[udpLength:]) }

// Checksum returns the Checksum field as carried.
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[udpChecksum:]) }

// Payload returns the data after the header.
func (u UDP) Payload() []byte { return u[UDPMinimumSize:] }

// SetSourcePort sets the source port.
func (u UDP) SetSourcePort(p uint16) { binary.BigEndian.PutUint16(u[udpSourcePort:], p) }

// SetDestinationPort sets the destination port.
func (u UDP) SetDestinationPort(p uint16) { binary.BigEndian.PutUint16(u[udpDestinationPort:], p) }

// SetLength sets the Length field. The view keeps its length.
func (u UDP) SetLength(n uint16) { binary.BigEndian.PutUint16(u[udpLength:], n) }

// SetChecksum sets the Checksum field.
func (u UDP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(u[udpChecksum:], c) }

// ComputeChecksum returns the checksum the datagram should carry when sent
// from src to dst (both IPv4 or both IPv6), computed with the checksum
// field taken as zero. It never returns zero: a computed zero is all ones
// (RFC 768).
func (u UDP) ComputeChecksum(src, dst netip.Addr) uint16 {
	s := PseudoHeaderChecksum(IPProtoUDP, src, dst, uint32(len(u)))
	s = PartialChecksum(u[:udpChecksum], s)
	s = PartialChecksum(u[udpChecksum+2:], s)
	if c := ^s; c != 0 {
		return c
	}
	return 0xffff
}

// UpdateChecksum stores the checksum for a datagram from src to dst.
func (u UDP) UpdateChecksum(src, dst netip.Addr) { u.SetChecksum(u.ComputeChecksum(src, dst)) }

// ChecksumValid reports whether the datagram's checksum is right for a
// datagram from src to dst. Over IPv4 a zero checksum means the sender
// computed none and is accepted; over IPv6 zero is invalid (RFC 8200
// §8.1; the zero-checksum tunnels of RFC 6935 are not supported).
func (u UDP) ChecksumValid(src, dst netip.Addr) bool {
	if u.Checksum() == 0 {
		return src.Is4()
	}
	s := PseudoHeaderChecksum(IPProtoUDP, src, dst, uint32(len(u)))
	return PartialChecksum(u, s) == 0xffff
}
