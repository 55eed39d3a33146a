package header

import (
	"encoding/binary"
	"net/netip"
)

// The selectors an IPsec SA's traffic selectors are matched against
// (RFC 4301 §4.4.1.1): addresses, the next layer protocol and, when the
// protocol has them and the packet shows them, ports. For IPv6 the next
// layer protocol is found by walking the extension headers, a bounded
// number of them, within the packet.

// PortKind says what the SrcPort and DstPort of a FiveTuple hold.
type PortKind uint8

const (
	// PortsNone: the protocol has no ports; both are zero.
	PortsNone PortKind = iota
	// PortsTransport: the ports from the TCP, UDP, SCTP, DCCP or UDP-Lite
	// header.
	PortsTransport
	// PortsICMP: the ICMP or ICMPv6 message type in the high octet and
	// code in the low octet, the one 16-bit selector RFC 4301 §4.4.1.1
	// defines for ICMP and IKEv2 carries in a traffic selector's port
	// range (RFC 7296 §3.13.1). SrcPort and DstPort both hold it, so a
	// port range matches it whichever side the selector puts it on.
	PortsICMP
	// PortsOpaque: the protocol has ports (or a type and code) but this
	// packet does not show them, being a non-first fragment or too short;
	// both are zero. Only a selector of ANY or OPAQUE ports matches it.
	PortsOpaque
)

// FiveTuple is what traffic selectors and the flow hash look at in a
// packet.
type FiveTuple struct {
	Source      netip.Addr
	Destination netip.Addr
	Protocol    uint8 // next layer protocol, after IPv6 extension headers
	Ports       PortKind
	SrcPort     uint16
	DstPort     uint16
	// Fragment is set when the packet is a fragment, first or not: more
	// fragments follow it or its offset is not zero.
	Fragment bool
}

// maxIPv6ExtensionHeaders bounds the walk to the next layer protocol.
// RFC 8200 §4.1 lets each extension header appear once (Destination
// Options twice), which is fewer than this; a longer chain is refused
// rather than walked, so a crafted packet costs a bounded amount of work.
const maxIPv6ExtensionHeaders = 8

// ParseFiveTuple returns the 5-tuple of an IPv4 or IPv6 packet (which its
// first nibble says). It reports false when the packet fails its view's
// gate, or, for IPv6, when the extension headers run past the packet or
// are more than eight before the next layer protocol. It allocates
// nothing.
func ParseFiveTuple(pkt []byte) (FiveTuple, bool) {
	if len(pkt) == 0 {
		return FiveTuple{}, false
	}
	switch pkt[0] >> 4 {
	case ipv4Version:
		h, ok := ParseIPv4(pkt)
		if !ok {
			return FiveTuple{}, false
		}
		t := FiveTuple{
			Source:      h.Source(),
			Destination: h.Destination(),
			Protocol:    h.Protocol(),
			Fragment:    h.IsFragment(),
		}
		t.setPorts(h.Payload(), h.FragmentOffset() != 0, IPProtoICMP)
		return t, true
	case ipv6Version:
		h, ok := ParseIPv6(pkt)
		if !ok {
			return FiveTuple{}, false
		}
		u, ok := ipv6UpperLayer(h)
		if !ok {
			return FiveTuple{}, false
		}
		t := FiveTuple{
			Source:      h.Source(),
			Destination: h.Destination(),
			Protocol:    u.protocol,
			Fragment:    u.fragment,
		}
		t.setPorts(u.payload, u.nonFirst, IPProtoICMPv6)
		return t, true
	}
	return FiveTuple{}, false
}

// setPorts fills the port fields from the next layer header l; icmp is
// the ICMP protocol number of the packet's IP version.
func (t *FiveTuple) setPorts(l []byte, nonFirst bool, icmp uint8) {
	var need int
	switch {
	case hasPorts(t.Protocol):
		need = 4
	case t.Protocol == icmp:
		need = 2
	default:
		t.Ports = PortsNone
		return
	}
	if nonFirst || len(l) < need {
		t.Ports = PortsOpaque
		return
	}
	if need == 4 {
		t.Ports = PortsTransport
		t.SrcPort = binary.BigEndian.Uint16(l[0:2])
		t.DstPort = binary.BigEndian.Uint16(l[2:4])
		return
	}
	t.Ports = PortsICMP
	t.SrcPort = binary.BigEndian.Uint16(l[0:2])
	t.DstPort = t.SrcPort
}

// ipv6Upper is where an IPv6 packet's next layer begins.
type ipv6Upper struct {
	protocol uint8
	payload  []byte // from the next layer header to the end of the packet
	fragment bool   // a Fragment header with MF set or a non-zero offset
	nonFirst bool   // ... and the offset is not zero
}

// IPv6 extension header layouts walked here (RFC 8200 §4.3–4.6). Hop-by-
// Hop, Routing and Destination Options begin alike; their length counts
// 8-octet units after the first 8:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |  Hdr Ext Len  |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	.                    (type-specific data)                       .
//
// The Fragment header is always 8 octets:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Identification                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv6ExtNextHeader   = 0
	ipv6ExtLength       = 1
	ipv6ExtUnit         = 8
	ipv6FragOffsetFlags = 2
	ipv6FragHeaderSize  = 8
	ipv6FragOffsetMask  = 0xfff8 // offset already in octets
	ipv6FragMF          = 0x0001
)

// ipv6UpperLayer walks h's extension headers to the next layer protocol.
// AH and ESP end the walk: they are protocols a traffic selector can
// name, and what follows ESP is ciphertext. A non-first fragment ends it
// too, at the Fragment header's Next Header, because the rest of the
// chain is in another fragment.
func ipv6UpperLayer(h IPv6) (ipv6Upper, bool) {
	u := ipv6Upper{protocol: h.NextHeader(), payload: h.Payload()}
	for range maxIPv6ExtensionHeaders + 1 {
		switch u.protocol {
		case IPProtoHopByHop, IPProtoRouting, IPProtoDestOpts:
			if len(u.payload) < 2 {
				return ipv6Upper{}, false
			}
			n := (int(u.payload[ipv6ExtLength]) + 1) * ipv6ExtUnit
			if n > len(u.payload) {
				return ipv6Upper{}, false
			}
			u.protocol = u.payload[ipv6ExtNextHeader]
			u.payload = u.payload[n:]
		case IPProtoFragment:
			if len(u.payload) < ipv6FragHeaderSize {
				return ipv6Upper{}, false
			}
			w := binary.BigEndian.Uint16(u.payload[ipv6FragOffsetFlags:])
			u.protocol = u.payload[ipv6ExtNextHeader]
			u.payload = u.payload[ipv6FragHeaderSize:]
			// An atomic fragment (offset 0, M clear) is a whole packet.
			u.fragment = u.fragment || w&(ipv6FragOffsetMask|ipv6FragMF) != 0
			if w&ipv6FragOffsetMask != 0 {
				u.nonFirst = true
				return u, true
			}
		default:
			return u, true
		}
	}
	return ipv6Upper{}, false
}
