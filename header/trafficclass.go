package header

import "encoding/binary"

// The IPv4 TOS octet and the IPv6 Traffic Class carry the same two fields:
// DSCP (RFC 2474) in the high six bits, ECN (RFC 3168) in the low two.
// This file calls that octet the traffic class for both versions, and
// implements how a tunnel carries it across: DSCP copied from the inner
// header to the outer one on encapsulation (and back, when the tunnel is
// configured with copy-outer-dscp), ECN per RFC 6040 normal mode.

// ECN codepoints (RFC 3168 §5).
const (
	ECNNotECT uint8 = 0 // not ECN-capable transport
	ECNECT1   uint8 = 1 // ECN-capable transport, ECT(1)
	ECNECT0   uint8 = 2 // ECN-capable transport, ECT(0)
	ECNCE     uint8 = 3 // congestion experienced

	ecnMask  = 0x03
	dscpMask = 0xfc
)

// TrafficClass returns the traffic class octet of an IPv4 or IPv6 packet
// (the TOS octet or the Traffic Class). It reports false when pkt is
// shorter than the fixed header of the version its first nibble names.
func TrafficClass(pkt []byte) (uint8, bool) {
	switch {
	case len(pkt) >= IPv4MinimumSize && pkt[0]>>4 == ipv4Version:
		return pkt[ipv4TOS], true
	case len(pkt) >= IPv6MinimumSize && pkt[0]>>4 == ipv6Version:
		return uint8(binary.BigEndian.Uint16(pkt) >> 4), true
	}
	return 0, false
}

// SetTrafficClass writes the traffic class octet of an IPv4 or IPv6
// packet. For IPv4 it adjusts the header checksum incrementally (RFC 1624),
// so a header that was correct stays correct without being summed again.
// It reports false, writing nothing, on the same packets TrafficClass
// refuses.
func SetTrafficClass(pkt []byte, tc uint8) bool {
	switch {
	case len(pkt) >= IPv4MinimumSize && pkt[0]>>4 == ipv4Version:
		old := binary.BigEndian.Uint16(pkt)
		pkt[ipv4TOS] = tc
		sum := binary.BigEndian.Uint16(pkt[ipv4Checksum:])
		sum = AdjustChecksum(sum, old, binary.BigEndian.Uint16(pkt))
		binary.BigEndian.PutUint16(pkt[ipv4Checksum:], sum)
		return true
	case len(pkt) >= IPv6MinimumSize && pkt[0]>>4 == ipv6Version:
		w := binary.BigEndian.Uint16(pkt)&0xf00f | uint16(tc)<<4
		binary.BigEndian.PutUint16(pkt, w)
		return true
	}
	return false
}

// EncapsulateTrafficClass returns the traffic class for the outer header
// of a packet whose inner header carries inner. The DSCP is copied, so the
// network between the gateways can honour the inner packet's class. The
// ECN field is copied too, CE included: that is RFC 6040 §4.1 normal mode,
// which updates RFC 4301's reset of CE to ECT(0); the decapsulator's
// table below keeps the congestion mark either way.
func EncapsulateTrafficClass(inner uint8) uint8 { return inner }

// ecnDecapsulation is the decapsulation table of RFC 6040 §4.2 (Figure
// 4), indexed by the arriving inner ECN field, then the arriving outer
// one. ecnDrop marks the one combination that must be dropped: a
// congestion mark on a packet whose transport cannot understand it. The
// combinations RFC 6040 marks as currently unused are propagated as the
// figure says; nothing here logs them.
var ecnDecapsulation = [4][4]uint8{
	//             outer: Not-ECT    ECT(1)     ECT(0)     CE
	ECNNotECT: {ECNNotECT, ECNNotECT, ECNNotECT, ecnDrop},
	ECNECT1:   {ECNECT1, ECNECT1, ECNECT1, ECNCE},
	ECNECT0:   {ECNECT0, ECNECT1, ECNECT0, ECNCE},
	ECNCE:     {ECNCE, ECNCE, ECNCE, ECNCE},
}

const ecnDrop = 0xff

// DecapsulateTrafficClass returns the traffic class to write into the
// inner header after decapsulation, from the outer and inner ones: the
// ECN field per RFC 6040 §4.2, the DSCP taken from the outer header when
// copyDSCP is set (Junos copy-outer-dscp) and kept from the inner header
// otherwise. It reports false when the packet must be dropped: the outer
// header says CE and the inner header is Not-ECT.
func DecapsulateTrafficClass(outer, inner uint8, copyDSCP bool) (uint8, bool) {
	ecn := ecnDecapsulation[inner&ecnMask][outer&ecnMask]
	if ecn == ecnDrop {
		return 0, false
	}
	dscp := inner & dscpMask
	if copyDSCP {
		dscp = outer & dscpMask
	}
	return dscp | ecn, true
}
