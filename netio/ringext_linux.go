package netio

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// IPv6 extension headers in front of ESP (RFC 8200 §4). The rings (the
// XDP program, the packet rings' classic BPF filter) take ESP, raw or in
// UDP, behind at most maxExtHeaders of them, of maxExtOctets in all, each
// a hop-by-hop options header (first only), a routing header or a
// destination options header; anything else (a fragment header, a deeper
// or longer chain) goes on to the kernel, and so to the raw ESP and UDP
// sockets. The sockets beside packet rings count the same headers from
// their control messages (extHeaders) to leave the rings exactly what
// they take. Every header of the three kinds is (Hdr Ext Len + 1) × 8
// octets long with the next header in its first octet.
//
// ESP does not protect the headers in front of it (RFC 4303 §3.1.2), and
// the data plane needs none of them: a ring hands the packet on as if ESP
// followed the fixed header (stripIPv6Ext; the XDP program does the same
// in the kernel).
const (
	maxExtHeaders = 4
	maxExtOctets  = 128

	ipProtoHopByHop = 0
	ipProtoRouting  = 43
	ipProtoDstOpts  = 60
)

// ipv6ExtChain walks the extension headers after the fixed IPv6 header
// ip (without its Ethernet header) as the rings do. It returns the
// protocol after them and their length in octets; ok is false when the
// chain is not one the rings take (a header of another kind, more than
// maxExtHeaders, longer than maxExtOctets, or cut short), though the
// protocol need not be ESP or UDP.
func ipv6ExtChain(ip []byte) (proto byte, octets int, ok bool) {
	if len(ip) < ipv6HeaderLen {
		return 0, 0, false
	}
	proto = ip[6]
	for i := 0; ; i++ {
		switch {
		case proto == ipProtoRouting || proto == ipProtoDstOpts || proto == ipProtoHopByHop && i == 0:
		default:
			return proto, octets, true
		}
		if i == maxExtHeaders {
			return proto, octets, false
		}
		h := ip[ipv6HeaderLen+octets:]
		if len(h) < 8 || len(h) < (int(h[1])+1)*8 {
			return proto, octets, false // cut short
		}
		proto, octets = h[0], octets+(int(h[1])+1)*8
		if octets > maxExtOctets {
			return proto, octets, false
		}
	}
}

// stripIPv6Ext returns the Ethernet frame f with the IPv6 extension
// headers in front of ESP or UDP (as the rings take them) removed: the
// Ethernet and fixed IPv6 headers move up over them, with the next header
// and the payload length set to match, in f itself (a ring's frame,
// which the reader owns until it gives the block back). Any other frame
// is returned as it is, for parseESPFrame to take or refuse.
func stripIPv6Ext(f []byte) []byte {
	if len(f) < ethHeaderLen+ipv6HeaderLen || f[12] != ethTypeIPv6Hi || f[13] != ethTypeIPv6Lo {
		return f
	}
	ip := f[ethHeaderLen:]
	proto, octets, ok := ipv6ExtChain(ip)
	if !ok || octets == 0 || proto != ipProtoESP && proto != ipProtoUDP {
		return f
	}
	plen := int(binary.BigEndian.Uint16(ip[4:]))
	if plen < octets {
		return f
	}
	ip[6] = proto
	binary.BigEndian.PutUint16(ip[4:], uint16(plen-octets))
	copy(f[octets:], f[:ethHeaderLen+ipv6HeaderLen])
	return f[octets:]
}

// parseRingFrame is parseESPFrame for the frames of a packet ring, whose
// IPv6 ESP may come behind extension headers.
func parseRingFrame(f []byte, m *Message) bool {
	return parseESPFrame(stripIPv6Ext(f), m)
}

// extHeaderOpts have an IPv6 socket beside packet rings report each
// extension header of the three kinds the rings walk, in order, in its
// own control message (ip6_datagram_recv_specific_ctl).
var extHeaderOpts = []sockopt{
	{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPOPTS, 1, "IPV6_RECVHOPOPTS"},
	{unix.IPPROTO_IPV6, unix.IPV6_RECVRTHDR, 1, "IPV6_RECVRTHDR"},
	{unix.IPPROTO_IPV6, unix.IPV6_RECVDSTOPTS, 1, "IPV6_RECVDSTOPTS"},
}

// extCount counts the extension headers a socket's control messages
// carried.
type extCount struct{ headers, octets int }

func (e *extCount) add(octets int) { e.headers, e.octets = e.headers+1, e.octets+octets }

// beyondRings reports whether the rings refuse a chain like this one,
// which only the kernel, and so the socket, delivers.
func (e extCount) beyondRings() bool {
	return e.headers > maxExtHeaders || e.octets > maxExtOctets
}
