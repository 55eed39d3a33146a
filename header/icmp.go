package header

import (
	"encoding/binary"
	"net/netip"
)

// ICMP for IPv4 (RFC 792) and for IPv6 (RFC 4443 §2.1) share the first
// eight octets' layout; the second word's meaning depends on the type.
// For the two messages this gateway sends it is an MTU:
//
//	Destination Unreachable, Fragmentation Needed (RFC 792, RFC 1191 §4):
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Type = 3    |   Code = 4    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           unused = 0          |         Next-Hop MTU          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      Internet Header + 64 bits of Original Datagram Data      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//	Packet Too Big (RFC 4443 §3.2):
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Type = 2    |   Code = 0    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                             MTU                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    As much of invoking packet                 |
//	+               as possible without the ICMPv6 packet           +
//	|               exceeding the minimum IPv6 MTU                  |
//
// The ICMPv4 checksum covers the ICMP message only; the ICMPv6 checksum
// also covers the IPv6 pseudo-header (RFC 4443 §2.3).
const (
	icmpType         = 0
	icmpCode         = 1
	icmpChecksum     = 2
	icmpRestOfHeader = 4
	icmpv4NextHopMTU = 6

	// ICMPHeaderSize is the length of the type, code, checksum and the
	// type-specific word, for ICMPv4 and ICMPv6 alike.
	ICMPHeaderSize = 8
)

// ICMPv4 message types and codes used here (IANA "ICMP Parameters").
const (
	ICMPv4EchoReply              uint8 = 0
	ICMPv4DestinationUnreachable uint8 = 3
	ICMPv4EchoRequest            uint8 = 8
	ICMPv4TimeExceeded           uint8 = 11
	ICMPv4ParameterProblem       uint8 = 12

	// ICMPv4FragmentationNeeded is the Destination Unreachable code for
	// "fragmentation needed and DF set".
	ICMPv4FragmentationNeeded uint8 = 4
)

// ICMPv6 message types used here (RFC 4443 §2.1).
const (
	ICMPv6DestinationUnreachable uint8 = 1
	ICMPv6PacketTooBig           uint8 = 2
	ICMPv6TimeExceeded           uint8 = 3
	ICMPv6ParameterProblem       uint8 = 4
	ICMPv6EchoRequest            uint8 = 128
	ICMPv6EchoReply              uint8 = 129
)

// ICMPv4 is a view of one ICMPv4 message, from its type to the end of the
// IP payload. Make one with ParseICMPv4.
type ICMPv4 []byte

// ParseICMPv4 is the gate to the ICMPv4 view: b must hold at least the
// eight-octet header. It does not verify the checksum.
func ParseICMPv4(b []byte) (ICMPv4, bool) {
	if len(b) < ICMPHeaderSize {
		return nil, false
	}
	return ICMPv4(b), true
}

// Type returns the message type.
func (m ICMPv4) Type() uint8 { return m[icmpType] }

// Code returns the message code.
func (m ICMPv4) Code() uint8 { return m[icmpCode] }

// Checksum returns the Checksum field as carried.
func (m ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(m[icmpChecksum:]) }

// RestOfHeader returns the type-specific second word.
func (m ICMPv4) RestOfHeader() uint32 { return binary.BigEndian.Uint32(m[icmpRestOfHeader:]) }

// NextHopMTU returns the Next-Hop MTU of a Fragmentation Needed message
// (the low half of the second word, RFC 1191 §4).
func (m ICMPv4) NextHopMTU() uint16 { return binary.BigEndian.Uint16(m[icmpv4NextHopMTU:]) }

// Payload returns what follows the header: for error messages, the
// quoted invoking packet.
func (m ICMPv4) Payload() []byte { return m[ICMPHeaderSize:] }

// SetType sets the message type.
func (m ICMPv4) SetType(t uint8) { m[icmpType] = t }

// SetCode sets the message code.
func (m ICMPv4) SetCode(c uint8) { m[icmpCode] = c }

// SetChecksum sets the Checksum field.
func (m ICMPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(m[icmpChecksum:], c) }

// SetRestOfHeader sets the type-specific second word.
func (m ICMPv4) SetRestOfHeader(v uint32) { binary.BigEndian.PutUint32(m[icmpRestOfHeader:], v) }

// ComputeChecksum returns the checksum the message should carry, computed
// over the whole message with the checksum field taken as zero.
func (m ICMPv4) ComputeChecksum() uint16 {
	s := PartialChecksum(m[:icmpChecksum], 0)
	return ^PartialChecksum(m[icmpChecksum+2:], s)
}

// UpdateChecksum stores the checksum of the message as it now stands.
func (m ICMPv4) UpdateChecksum() { m.SetChecksum(m.ComputeChecksum()) }

// ChecksumValid reports whether the message's checksum is right.
func (m ICMPv4) ChecksumValid() bool { return PartialChecksum(m, 0) == 0xffff }

// ICMPv6 is a view of one ICMPv6 message, from its type to the end of the
// IPv6 payload. Make one with ParseICMPv6.
type ICMPv6 []byte

// ParseICMPv6 is the gate to the ICMPv6 view: b must hold at least the
// eight-octet header (every message type this gateway reads has the
// second word). It does not verify the checksum.
func ParseICMPv6(b []byte) (ICMPv6, bool) {
	if len(b) < ICMPHeaderSize {
		return nil, false
	}
	return ICMPv6(b), true
}

// Type returns the message type.
func (m ICMPv6) Type() uint8 { return m[icmpType] }

// Code returns the message code.
func (m ICMPv6) Code() uint8 { return m[icmpCode] }

// Checksum returns the Checksum field as carried.
func (m ICMPv6) Checksum() uint16 { return binary.BigEndian.Uint16(m[icmpChecksum:]) }

// MTU returns the second word, the MTU of a Packet Too Big message.
func (m ICMPv6) MTU() uint32 { return binary.BigEndian.Uint32(m[icmpRestOfHeader:]) }

// Payload returns what follows the header: for error messages, the
// quoted invoking packet.
func (m ICMPv6) Payload() []byte { return m[ICMPHeaderSize:] }

// SetType sets the message type.
func (m ICMPv6) SetType(t uint8) { m[icmpType] = t }

// SetCode sets the message code.
func (m ICMPv6) SetCode(c uint8) { m[icmpCode] = c }

// SetChecksum sets the Checksum field.
func (m ICMPv6) SetChecksum(c uint16) { binary.BigEndian.PutUint16(m[icmpChecksum:], c) }

// SetMTU sets the second word, the MTU of a Packet Too Big message.
func (m ICMPv6) SetMTU(mtu uint32) { binary.BigEndian.PutUint32(m[icmpRestOfHeader:], mtu) }

// ComputeChecksum returns the checksum the message should carry when sent
// from src to dst, computed over the pseudo-header and the whole message
// with the checksum field taken as zero.
func (m ICMPv6) ComputeChecksum(src, dst netip.Addr) uint16 {
	s := PseudoHeaderChecksum(IPProtoICMPv6, src, dst, uint32(len(m)))
	s = PartialChecksum(m[:icmpChecksum], s)
	return ^PartialChecksum(m[icmpChecksum+2:], s)
}

// UpdateChecksum stores the checksum for a message from src to dst.
func (m ICMPv6) UpdateChecksum(src, dst netip.Addr) { m.SetChecksum(m.ComputeChecksum(src, dst)) }

// ChecksumValid reports whether the message's checksum is right for a
// message from src to dst.
func (m ICMPv6) ChecksumValid(src, dst netip.Addr) bool {
	s := PseudoHeaderChecksum(IPProtoICMPv6, src, dst, uint32(len(m)))
	return PartialChecksum(m, s) == 0xffff
}

// icmpv4IsError reports whether an ICMPv4 type is an error message, about
// which no further error may be sent (RFC 1122 §3.2.2). Only the query
// types are known not to be errors; an unknown type is treated as an
// error, so the gateway never answers what it does not understand.
func icmpv4IsError(t uint8) bool {
	switch t {
	case ICMPv4EchoReply, ICMPv4EchoRequest,
		9, 10, // router advertisement, solicitation (RFC 1256)
		13, 14, // timestamp, timestamp reply
		15, 16, // information request, reply
		17, 18: // address mask request, reply (RFC 950)
		return false
	}
	return true
}

// icmpv6IsError reports whether an ICMPv6 type is an error message: the
// high bit of the type is zero for errors (RFC 4443 §2.1).
func icmpv6IsError(t uint8) bool { return t < 128 }
