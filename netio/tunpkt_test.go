package netio

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"ipsecgw/header"
)

// Crafted packets for the TUN split and coalescer tests.

// tcpOpts is a timestamp option padded as Linux sends it (NOP NOP TS).
var tcpOpts = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}

// seg describes one crafted TCP or UDP packet.
type seg struct {
	src, dst     netip.Addr
	sport, dport uint16
	udp          bool
	seq, ack     uint32
	flags        uint8
	opts         []byte
	payload      []byte
	id           uint16 // IPv4 identification
	tos, ttl     uint8
	badSum       bool // corrupt the transport checksum
}

// build returns the whole IP packet with correct checksums (unless badSum).
func (s seg) build(t testing.TB) []byte {
	t.Helper()
	var l4 []byte
	proto := uint8(protoTCP)
	if s.udp {
		proto = protoUDP
		l4 = make([]byte, 8+len(s.payload))
		binary.BigEndian.PutUint16(l4[0:], s.sport)
		binary.BigEndian.PutUint16(l4[2:], s.dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
		copy(l4[8:], s.payload)
	} else {
		hl := 20 + len(s.opts)
		l4 = make([]byte, hl+len(s.payload))
		binary.BigEndian.PutUint16(l4[0:], s.sport)
		binary.BigEndian.PutUint16(l4[2:], s.dport)
		binary.BigEndian.PutUint32(l4[4:], s.seq)
		binary.BigEndian.PutUint32(l4[8:], s.ack)
		l4[12] = byte(hl/4) << 4
		l4[13] = s.flags
		binary.BigEndian.PutUint16(l4[14:], 502)
		copy(l4[20:], s.opts)
		copy(l4[hl:], s.payload)
	}
	sum := ^header.PartialChecksum(l4, header.PseudoHeaderChecksum(proto, s.src, s.dst, uint32(len(l4))))
	if s.udp && sum == 0 {
		sum = 0xffff
	}
	if s.badSum {
		sum ^= 0x0100
	}
	at := 16
	if s.udp {
		at = 6
	}
	binary.BigEndian.PutUint16(l4[at:], sum)
	ttl := s.ttl
	if ttl == 0 {
		ttl = 64
	}
	if s.src.Is4() {
		b := make([]byte, 20+len(l4))
		copy(b[20:], l4)
		h, ok := header.EncodeIPv4(b, header.IPv4Fields{TOS: s.tos, TotalLength: uint16(len(b)), ID: s.id,
			DontFragment: true, TTL: ttl, Protocol: proto, Source: s.src, Destination: s.dst})
		if !ok {
			t.Fatal("EncodeIPv4 refused")
		}
		return h
	}
	b := make([]byte, 40+len(l4))
	copy(b[40:], l4)
	h, ok := header.EncodeIPv6(b, header.IPv6Fields{TrafficClass: s.tos, FlowLabel: 0x1234, PayloadLength: uint16(len(l4)),
		NextHeader: proto, HopLimit: ttl, Source: s.src, Destination: s.dst})
	if !ok {
		t.Fatal("EncodeIPv6 refused")
	}
	return h
}

// flow returns n consecutive segments of one TCP flow, each of size
// payload octets (the last of last, if last > 0), ACK set, PSH on the
// last, IPv4 identifications counting up: what the host's TSO would cut.
func flow(t testing.TB, src, dst netip.Addr, n, size, last int) []seg {
	t.Helper()
	out := make([]seg, n)
	seq := uint32(1000)
	for i := range out {
		p := size
		if i == n-1 && last > 0 {
			p = last
		}
		out[i] = seg{src: src, dst: dst, sport: 40000, dport: 5201, seq: seq, ack: 77, flags: tcpACK,
			opts: tcpOpts, payload: pattern(p, byte(i)), id: uint16(300 + i)}
		seq += uint32(p)
	}
	out[n-1].flags |= tcpPSH
	return out
}

// superPacket joins segs (one flow, in order) as the host hands a TSO or
// USO packet to the TUN: the first segment's headers with the lengths of
// the whole, the transport checksum field holding the pseudo-header sum,
// flags from the last, and the virtio-net header. hdrLen is set as on
// the forwarding path (the whole first segment), which the split must
// not believe.
func superPacket(t testing.TB, segs []seg) ([]byte, vnetHdr) {
	t.Helper()
	first := segs[0]
	whole := first
	whole.payload = nil
	for _, s := range segs {
		whole.payload = append(whole.payload, s.payload...)
	}
	whole.flags = segs[len(segs)-1].flags
	p := whole.build(t)
	ipLen := 20
	proto := uint8(protoTCP)
	h := vnetHdr{flags: vnetNeedsCsum, gsoType: vnetGSOTCPv4, gsoSize: uint16(len(first.payload)), csumOffset: 16}
	if first.src.Is6() {
		ipLen, h.gsoType = 40, vnetGSOTCPv6
	}
	if first.udp {
		proto, h.gsoType, h.csumOffset = protoUDP, vnetGSOUDPL4, 6
	}
	h.csumStart = uint16(ipLen)
	h.hdrLen = uint16(len(first.build(t)))
	at := ipLen + int(h.csumOffset)
	binary.BigEndian.PutUint16(p[at:], header.PseudoHeaderChecksum(proto, first.src, first.dst, uint32(len(p)-ipLen)))
	return p, h
}
