package netio

import (
	"encoding/binary"

	"ipsecgw/header"
)

// groMaxLength bounds a coalesced packet: the IPv4 total length (and, the
// same for both families, what the TUN takes in one write).
const groMaxLength = 65535

// The coalescer (software GRO) groups the TCP segments (and, where the
// TUN takes USO, the UDP datagrams) of one Write that the host's own GRO
// would have merged, so the TUN takes each group in one write as a TSO or
// USO super-packet and the host's stack handles one packet where there
// were dozens. A group is written with writev: the first
// packet whole, then only the payloads of the others, straight from their
// buffers; nothing is copied. Every segment's checksum is verified before
// it joins (the host trusts a super-packet's checksum, so a segment
// damaged before the tunnel would otherwise reach the receiver as good);
// one that fails is written alone, unchanged, for the host to drop. A
// packet that stays alone is written as it came and never summed.
//
// Segments join the open group of their flow when the host's GRO would
// merge them (tcp_gro_receive): the next sequence number, the same
// acknowledgement, window, options and IP header fields, only ACK (and
// PSH on the last) set, and every segment but the last exactly as long as
// the first. UDP datagrams join on the same IP header fields and lengths
// (udp_gro_receive_segment). Anything else of the flow closes its group,
// so no packet of a flow ever moves past another.

// groKey is a TCP or UDP flow: both addresses and both ports.
type groKey struct {
	addrs [32]byte
	ports uint32
	v6    bool
	proto uint8
}

// groGroup is one coalesced packet in the making: its first packet (the
// head, whose headers the super-packet keeps) and the segments after it.
type groGroup struct {
	head, tail int32
	segs       int32
	length     int // the super-packet's IP length so far
	gsoSize    int // the head's payload: every segment's but the last
	nextSeq    uint32
	ipLen      int
	hdrLen     int
	v6         bool
	proto      uint8
	verified   bool // the head's checksum is known good
	open       bool // more segments may join
	psh        bool
}

// groTable plans one Write. It is reused from Write to Write and does not
// allocate once it has grown to the batch size.
type groTable struct {
	udp   bool             // coalesce UDP too (the TUN takes USO)
	flows map[groKey]int32 // flow → its open group
	// last is the flow of the last lookup (found or not) and lastGroup
	// what flows holds for it (groupNone: nothing), while lastValid: a
	// batch is mostly runs of one flow's segments, and hashing the
	// 40-octet key for each was 3 % of the gateway's own code in
	// bench/throughput's ESP in UDP profile. Every change to flows goes
	// through openGroup and closeGroup, which keep it true.
	last      groKey
	lastGroup int32
	lastValid bool
	groups    []groGroup
	// Per packet of the batch: next is the following segment of its
	// group (-1 at the end); group is the group it heads, groupNone when
	// it is written alone, groupMember when it is a later segment.
	next  []int32
	group []int32
}

const (
	groupNone   = -1
	groupMember = -2
)

// newGROTable returns a table that coalesces TCP, and UDP too if udp.
func newGROTable(udp bool) *groTable {
	return &groTable{udp: udp, flows: make(map[groKey]int32)}
}

// l4Packet is what the coalescer reads from one packet.
type l4Packet struct {
	key     groKey
	v6      bool
	proto   uint8
	ipLen   int
	hdrLen  int // IP and transport header
	seq     uint32
	flags   uint8 // TCP's
	payload int
	// candidate: a plain IPv4 (no options, not a fragment) or IPv6 (no
	// extension headers) TCP segment or UDP datagram with payload whose
	// lengths agree, the only kind that heads or joins a group.
	candidate bool
}

// parseL4 reads a packet's TCP or UDP flow (UDP only when udp) and, when
// it is one, whether it can be coalesced. ok is false for anything else.
func parseL4(p []byte, udp bool) (s l4Packet, ok bool) {
	if len(p) < 20 {
		return s, false
	}
	switch p[0] >> 4 {
	case 4:
		s.ipLen, s.proto = int(p[0]&0x0f)*4, p[9]
		if s.ipLen < 20 || binary.BigEndian.Uint16(p[6:])&0x1fff != 0 || len(p) < s.ipLen+8 {
			return s, false // no ports (a later fragment)
		}
		copy(s.key.addrs[:8], p[12:20])
		s.candidate = s.ipLen == 20 && binary.BigEndian.Uint16(p[6:])&0x2000 == 0 &&
			int(binary.BigEndian.Uint16(p[2:])) == len(p)
	case 6:
		s.v6, s.ipLen, s.proto = true, 40, p[6]
		if len(p) < 48 {
			return s, false
		}
		copy(s.key.addrs[:], p[8:40])
		s.candidate = int(binary.BigEndian.Uint16(p[4:]))+40 == len(p)
	default:
		return s, false
	}
	s.key.v6, s.key.proto = s.v6, s.proto
	t := p[s.ipLen:]
	s.key.ports = binary.BigEndian.Uint32(t)
	switch {
	case s.proto == protoTCP && len(t) >= 20:
		s.seq = binary.BigEndian.Uint32(t[4:])
		s.flags = t[13]
		s.hdrLen = s.ipLen + int(t[12]>>4)*4
		if s.hdrLen < s.ipLen+20 || s.hdrLen > len(p) {
			s.candidate = false
			return s, true
		}
	case s.proto == protoUDP && udp:
		s.hdrLen = s.ipLen + 8
		// A datagram without a checksum (IPv4's zero) is left alone: the
		// super-packet's segments would all get one.
		s.candidate = s.candidate && int(binary.BigEndian.Uint16(t[4:])) == len(t) && binary.BigEndian.Uint16(t[6:]) != 0
	default:
		return s, false // other protocols (IPv6 extension headers among them) go alone
	}
	s.payload = len(p) - s.hdrLen
	s.candidate = s.candidate && s.payload > 0
	return s, true
}

// plan groups bufs[i][offset:] into the table.
func (t *groTable) plan(bufs [][]byte, offset int) {
	clear(t.flows)
	t.lastValid = false
	t.groups = t.groups[:0]
	t.next = grow(t.next, len(bufs))
	t.group = grow(t.group, len(bufs))
	for i := range bufs {
		t.next[i], t.group[i] = -1, groupNone
		p := bufs[i][offset:]
		s, ok := parseL4(p, t.udp)
		if !ok {
			continue
		}
		gi := t.openGroup(&s.key)
		if gi != groupNone && t.join(bufs, offset, gi, int32(i), p, &s) {
			continue
		}
		if gi != groupNone {
			t.closeGroup(&s.key) // closed: nothing later may pass p
		}
		if s.candidate && (s.proto == protoUDP || s.flags == tcpACK) {
			t.group[i] = int32(len(t.groups))
			t.setGroup(&s.key, int32(len(t.groups)))
			t.groups = append(t.groups, groGroup{
				head: int32(i), tail: int32(i), segs: 1, length: len(p), gsoSize: s.payload,
				nextSeq: s.seq + uint32(s.payload), ipLen: s.ipLen, hdrLen: s.hdrLen, v6: s.v6, proto: s.proto, open: true,
			})
		}
	}
}

// join appends packet i (p, parsed as s) to group gi if the host's GRO
// would have, and says whether it did.
func (t *groTable) join(bufs [][]byte, offset int, gi, i int32, p []byte, s *l4Packet) bool {
	g := &t.groups[gi]
	if !s.candidate || s.hdrLen != g.hdrLen || s.payload > g.gsoSize || g.length+s.payload > groMaxLength || g.segs >= groMaxSegments {
		return false
	}
	if g.proto == protoTCP && (s.flags&^tcpPSH != tcpACK || s.seq != g.nextSeq) ||
		g.proto == protoUDP && g.segs >= groMaxUDPSegments {
		return false
	}
	h := bufs[g.head][offset:]
	if !sameIP(h, p, g.v6) || g.proto == protoTCP && !sameTCP(h[g.ipLen:g.hdrLen], p[g.ipLen:g.hdrLen]) {
		return false
	}
	if !g.verified {
		if !checksumValid(h, g.v6, g.ipLen, g.proto) {
			// The head goes alone; p may head a new group.
			t.group[g.head] = groupNone
			return false
		}
		g.verified = true
	}
	if !checksumValid(p, g.v6, g.ipLen, g.proto) {
		return false
	}
	t.next[g.tail] = i
	t.group[i] = groupMember
	g.tail = i
	g.segs++
	g.length += s.payload
	g.nextSeq += uint32(s.payload)
	if s.flags&tcpPSH != 0 || s.payload < g.gsoSize {
		g.psh = s.flags&tcpPSH != 0
		g.open = false
		t.closeGroup(&s.key)
	}
	return true
}

// openGroup returns the open group of flow k, or groupNone.
func (t *groTable) openGroup(k *groKey) int32 {
	if t.lastValid && *k == t.last {
		return t.lastGroup
	}
	gi, ok := t.flows[*k]
	if !ok {
		gi = groupNone
	}
	t.last, t.lastGroup, t.lastValid = *k, gi, true
	return gi
}

// setGroup makes gi flow k's open group.
func (t *groTable) setGroup(k *groKey, gi int32) {
	t.flows[*k] = gi
	t.last, t.lastGroup, t.lastValid = *k, gi, true
}

// closeGroup ends flow k's open group: its later packets start anew.
func (t *groTable) closeGroup(k *groKey) {
	delete(t.flows, *k)
	t.last, t.lastGroup, t.lastValid = *k, groupNone, true
}

// groMaxSegments bounds a group well below the 1024 iovecs a writev
// takes; groMaxUDPSegments is where the host's UDP GRO stops
// (UDP_GRO_CNT_MAX).
const (
	groMaxSegments    = 512
	groMaxUDPSegments = 64
)

// sameIP compares the IP header fields the host's GRO requires equal
// between two packets of a flow: IPv4 TOS, DF and TTL, or IPv6 traffic
// class, flow label and hop limit.
func sameIP(h, p []byte, v6 bool) bool {
	if v6 {
		return binary.BigEndian.Uint32(h) == binary.BigEndian.Uint32(p) && h[7] == p[7]
	}
	return h[1] == p[1] && h[6] == p[6] && h[8] == p[8]
}

// sameTCP compares the TCP header fields (th the head's, tp the next
// segment's) the host's GRO requires equal besides the sequence number:
// acknowledgement, data offset, flags, window, urgent pointer and
// options. The flags are compared as the head's (ACK) against tp's
// without PSH.
func sameTCP(th, tp []byte) bool {
	return binary.BigEndian.Uint32(th[8:]) == binary.BigEndian.Uint32(tp[8:]) && // ack
		th[12] == tp[12] && th[13] == tp[13]&^tcpPSH &&
		binary.BigEndian.Uint16(th[14:]) == binary.BigEndian.Uint16(tp[14:]) && // window
		binary.BigEndian.Uint16(th[18:]) == binary.BigEndian.Uint16(tp[18:]) && // urgent
		string(th[20:]) == string(tp[20:]) // options
}

// checksumValid checks a TCP segment's or UDP datagram's checksum,
// pseudo-header and all.
func checksumValid(p []byte, v6 bool, ipLen int, proto uint8) bool {
	var addrs []byte
	if v6 {
		addrs = p[8:40]
	} else {
		addrs = p[12:20]
	}
	t := p[ipLen:]
	return header.PartialChecksum(t, header.PseudoHeaderChecksumOctets(proto, addrs, uint32(len(t)))) == 0xffff
}

// finish rewrites a group's head as the super-packet's headers (length,
// IPv4 header checksum, PSH from the last segment, UDP length, the
// transport checksum field holding the pseudo-header's sum as NEEDS_CSUM
// wants) and returns the virtio-net header to write before it.
func (g *groGroup) finish(h []byte) vnetHdr {
	var addrs []byte
	gso := uint8(vnetGSOTCPv4)
	if g.v6 {
		binary.BigEndian.PutUint16(h[4:], uint16(g.length-40))
		addrs = h[8:40]
		gso = vnetGSOTCPv6
	} else {
		binary.BigEndian.PutUint16(h[2:], uint16(g.length))
		h[10], h[11] = 0, 0
		binary.BigEndian.PutUint16(h[10:], ^header.PartialChecksum(h[:g.ipLen], 0))
		addrs = h[12:20]
	}
	at := uint16(16)
	if g.proto == protoUDP {
		gso, at = vnetGSOUDPL4, 6
		binary.BigEndian.PutUint16(h[g.ipLen+4:], uint16(g.length-g.ipLen))
	} else if g.psh {
		h[g.ipLen+13] |= tcpPSH
	}
	binary.BigEndian.PutUint16(h[g.ipLen+int(at):], header.PseudoHeaderChecksumOctets(g.proto, addrs, uint32(g.length-g.ipLen)))
	return vnetHdr{
		flags: vnetNeedsCsum, gsoType: gso, hdrLen: uint16(g.hdrLen), gsoSize: uint16(g.gsoSize),
		csumStart: uint16(g.ipLen), csumOffset: at,
	}
}

func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
