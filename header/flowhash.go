package header

import "encoding/binary"

// A flow hash picks the UDP source port of the outer header per inner
// flow when ESP travels in UDP, so that routers between the gateways,
// which hash the outer 5-tuple for ECMP, spread the tunnel's flows over
// their paths while keeping each flow on one path and in order.
//
// The hash covers the inner addresses, protocol and, when the packet
// shows them, the ports. A fragment, first or not, is hashed without
// ports: only the first fragment shows them, and hashing it with ports
// would send one datagram's fragments down different paths, to be
// reassembled late or not at all. The cost is that fragmented traffic of
// one host pair shares a path.

// FlowPortFirst and FlowPortLast bound the source ports FlowSourcePort
// chooses: the dynamic range of RFC 6335 §6.
const (
	FlowPortFirst = 49152
	FlowPortLast  = 65535
)

// Constants of the mixer: the 64-bit golden ratio and the multipliers of
// the SplitMix64 finalizer (Steele, Lea, Flood 2014), chosen for
// avalanche so that flows differing in one bit land on unrelated ports.
const (
	flowGolden = 0x9e3779b97f4a7c15
	flowMix1   = 0xbf58476d1ce4e5b9
	flowMix2   = 0x94d049bb133111eb
)

// Hash returns a hash of t, stable for a given seed: the same flow gives
// the same value in every process that uses the same seed. A seed lets
// two gateways facing the same ECMP routers avoid choosing alike; zero is
// a fine seed.
func (t *FiveTuple) Hash(seed uint64) uint64 {
	src := t.Source.As16()
	dst := t.Destination.As16()
	h := seed ^ flowGolden
	h = flowRound(h, binary.BigEndian.Uint64(src[:8]))
	h = flowRound(h, binary.BigEndian.Uint64(src[8:]))
	h = flowRound(h, binary.BigEndian.Uint64(dst[:8]))
	h = flowRound(h, binary.BigEndian.Uint64(dst[8:]))
	last := uint64(t.Protocol)
	if !t.Fragment && (t.Ports == PortsTransport || t.Ports == PortsICMP) {
		last |= uint64(t.SrcPort)<<16 | uint64(t.DstPort)<<32
	}
	return flowFinal(flowRound(h, last))
}

// FlowHash returns the flow hash of an IPv4 or IPv6 packet (see
// FiveTuple.Hash). A packet ParseFiveTuple refuses hashes as the empty
// tuple, so all such packets share one flow.
func FlowHash(pkt []byte, seed uint64) uint64 {
	t, _ := ParseFiveTuple(pkt)
	return t.Hash(seed)
}

// FlowSourcePort maps a flow hash to a UDP source port in
// FlowPortFirst..FlowPortLast. It takes the high bits, which the
// finalizer mixes best.
func FlowSourcePort(hash uint64) uint16 {
	return FlowPortFirst + uint16(hash>>(64-14))
}

func flowRound(h, v uint64) uint64 {
	h ^= v
	h *= flowMix1
	return h ^ h>>31
}

func flowFinal(h uint64) uint64 {
	h ^= h >> 30
	h *= flowMix1
	h ^= h >> 27
	h *= flowMix2
	return h ^ h>>31
}
