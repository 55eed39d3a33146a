package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv6 header, RFC 8200 §3:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+                         Source Address                        +
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+                      Destination Address                      +
//	|                                                               |
//	+                                                               +
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The Traffic Class straddles the first two octets: DSCP in its high six
// bits and ECN in its low two, as in the IPv4 TOS octet.
const (
	ipv6VersionTCFlow = 0 // 4 bits version, 8 bits traffic class, 20 bits flow label
	ipv6PayloadLength = 4
	ipv6NextHeader    = 6
	ipv6HopLimit      = 7
	ipv6Source        = 8
	ipv6Destination   = 24

	// IPv6MinimumSize is the length of the fixed header.
	IPv6MinimumSize = 40
	// IPv6MinimumMTU is the MTU every IPv6 link must carry (RFC 8200 §5).
	IPv6MinimumMTU = 1280

	ipv6Version       = 6
	ipv6FlowLabelMask = 0x000fffff
)

// IPv6 is a view of one IPv6 packet: the fixed header and Payload Length
// octets after it (extension headers included). Make one with ParseIPv6 or
// EncodeIPv6.
type IPv6 []byte

// ParseIPv6 is the gate to the IPv6 view. It accepts b when b starts with
// a version 6 header and holds the Payload Length octets that follow it.
// The view ends where the payload ends. Jumbograms (RFC 2675, Payload
// Length zero with a Jumbo option) are not supported: a zero Payload
// Length is read as an empty payload.
func ParseIPv6(b []byte) (IPv6, bool) {
	if len(b) < IPv6MinimumSize || b[ipv6VersionTCFlow]>>4 != ipv6Version {
		return nil, false
	}
	total := IPv6MinimumSize + int(binary.BigEndian.Uint16(b[ipv6PayloadLength:]))
	if total > len(b) {
		return nil, false
	}
	return IPv6(b[:total]), true
}

// IPv6Fields are the values EncodeIPv6 writes.
type IPv6Fields struct {
	TrafficClass  uint8  // DSCP and ECN
	FlowLabel     uint32 // low 20 bits
	PayloadLength uint16
	NextHeader    uint8
	HopLimit      uint8
	Source        netip.Addr
	Destination   netip.Addr
}

// EncodeIPv6 writes an IPv6 header with f's values at the start of b and
// returns the view b[:40+PayloadLength]. It reports false, writing
// nothing, when b is too short for the packet, an address is not IPv6 (an
// IPv4-mapped address counts as IPv6), or the flow label does not fit in
// 20 bits.
func EncodeIPv6(b []byte, f IPv6Fields) (IPv6, bool) {
	total := IPv6MinimumSize + int(f.PayloadLength)
	if len(b) < total || !f.Source.Is6() || !f.Destination.Is6() || f.FlowLabel > ipv6FlowLabelMask {
		return nil, false
	}
	h := IPv6(b[:total])
	binary.BigEndian.PutUint32(h[ipv6VersionTCFlow:], ipv6Version<<28|uint32(f.TrafficClass)<<20|f.FlowLabel)
	binary.BigEndian.PutUint16(h[ipv6PayloadLength:], f.PayloadLength)
	h[ipv6NextHeader] = f.NextHeader
	h[ipv6HopLimit] = f.HopLimit
	h.SetSource(f.Source)
	h.SetDestination(f.Destination)
	return h, true
}

// TrafficClass returns the Traffic Class: DSCP in the high six bits, ECN
// in the low two.
func (h IPv6) TrafficClass() uint8 { return uint8(h.versionTCFlow() >> 20) }

// DSCP returns the Differentiated Services Code Point (RFC 2474).
func (h IPv6) DSCP() uint8 { return h.TrafficClass() >> 2 }

// ECN returns the ECN field (RFC 3168), one of the ECN constants.
func (h IPv6) ECN() uint8 { return h.TrafficClass() & ecnMask }

// FlowLabel returns the 20-bit flow label.
func (h IPv6) FlowLabel() uint32 { return h.versionTCFlow() & ipv6FlowLabelMask }

// PayloadLength returns the length of everything after the fixed header.
func (h IPv6) PayloadLength() uint16 { return binary.BigEndian.Uint16(h[ipv6PayloadLength:]) }

// NextHeader returns the type of the header after the fixed header: an
// extension header or the upper-layer protocol.
func (h IPv6) NextHeader() uint8 { return h[ipv6NextHeader] }

// HopLimit returns the Hop Limit.
func (h IPv6) HopLimit() uint8 { return h[ipv6HopLimit] }

// Source returns the source address.
func (h IPv6) Source() netip.Addr { return netip.AddrFrom16([16]byte(h[ipv6Source:ipv6Destination])) }

// Destination returns the destination address.
func (h IPv6) Destination() netip.Addr {
	return netip.AddrFrom16([16]byte(h[ipv6Destination:IPv6MinimumSize]))
}

// Payload returns the octets after the fixed header, extension headers
// included.
func (h IPv6) Payload() []byte { return h[IPv6MinimumSize:] }

// SetTrafficClass sets the Traffic Class (DSCP and ECN).
func (h IPv6) SetTrafficClass(tc uint8) {
	v := h.versionTCFlow()&^(0xff<<20) | uint32(tc)<<20
	binary.BigEndian.PutUint32(h[ipv6VersionTCFlow:], v)
}

// SetFlowLabel sets the flow label to the low 20 bits of l.
func (h IPv6) SetFlowLabel(l uint32) {
	v := h.versionTCFlow()&^ipv6FlowLabelMask | l&ipv6FlowLabelMask
	binary.BigEndian.PutUint32(h[ipv6VersionTCFlow:], v)
}

// SetPayloadLength sets the Payload Length field. The view keeps its
// length; parse again to see the packet at its new length.
func (h IPv6) SetPayloadLength(n uint16) { binary.BigEndian.PutUint16(h[ipv6PayloadLength:], n) }

// SetNextHeader sets the Next Header field.
func (h IPv6) SetNextHeader(p uint8) { h[ipv6NextHeader] = p }

// SetHopLimit sets the Hop Limit.
func (h IPv6) SetHopLimit(l uint8) { h[ipv6HopLimit] = l }

// SetSource sets the source address. It reports false, writing nothing,
// when a is not an IPv6 address.
func (h IPv6) SetSource(a netip.Addr) bool {
	if !a.Is6() {
		return false
	}
	b := a.As16()
	copy(h[ipv6Source:], b[:])
	return true
}

// SetDestination sets the destination address. It reports false, writing
// nothing, when a is not an IPv6 address.
func (h IPv6) SetDestination(a netip.Addr) bool {
	if !a.Is6() {
		return false
	}
	b := a.As16()
	copy(h[ipv6Destination:], b[:])
	return true
}

func (h IPv6) versionTCFlow() uint32 { return binary.BigEndian.Uint32(h[ipv6VersionTCFlow:]) }
