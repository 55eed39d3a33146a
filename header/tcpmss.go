package header

import "encoding/binary"

// TCP MSS clamping (Junos "security flow tcp-mss ipsec-vpn mss N"): a TCP
// connection's two ends announce in their SYN and SYN-ACK the largest
// segment they accept (the MSS option, RFC 9293 §3.7.1), from their own
// link's MTU. Through a tunnel the path is shorter by the ESP overhead;
// lowering the announced MSS as the handshake passes keeps the segments
// small enough to be encrypted without fragmenting.
//
// The TCP header, RFC 9293 §3.1, as far as clamping reads it:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Checksum            |         Urgent Pointer        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           [Options]                           |
//
// Options are a kind octet, then (except for End of Option List, kind 0,
// and No-Operation, kind 1) a length octet counting kind and length, then
// data. MSS is kind 2, length 4, a 16-bit value.
const (
	tcpDataOffset   = 12
	tcpFlags        = 13
	tcpChecksum     = 16
	tcpMinimumSize  = 20
	tcpFlagSYN      = 0x02
	tcpOptEnd       = 0
	tcpOptNOP       = 1
	tcpOptMSS       = 2
	tcpOptMSSLength = 4
)

// ClampTCPMSS lowers to mss the MSS option of pkt, an IPv4 or IPv6 packet,
// when pkt is a TCP SYN or SYN-ACK announcing more; it never raises one.
// The TCP checksum is corrected for the two changed octets (RFC 1624), so
// it stays right if it was right. It reports whether pkt changed.
//
// Everything else is left alone: other protocols, segments without SYN,
// non-first fragments, and any packet whose headers or options do not
// parse (clamping is best effort; judging packets is not its job). It
// reads only within pkt and allocates nothing.
func ClampTCPMSS(pkt []byte, mss uint16) bool {
	tcp, ok := tcpSegment(pkt)
	if !ok || len(tcp) < tcpMinimumSize || tcp[tcpFlags]&tcpFlagSYN == 0 {
		return false
	}
	end := int(tcp[tcpDataOffset]>>4) * 4
	if end < tcpMinimumSize || end > len(tcp) {
		return false
	}
	for i := tcpMinimumSize; i < end; {
		switch kind := tcp[i]; kind {
		case tcpOptEnd:
			return false
		case tcpOptNOP:
			i++
			continue
		}
		if i+1 >= end {
			return false
		}
		n := int(tcp[i+1])
		if n < 2 || i+n > end {
			return false
		}
		if tcp[i] == tcpOptMSS {
			if n != tcpOptMSSLength {
				return false
			}
			return lowerWord(tcp, i+2, mss)
		}
		i += n
	}
	return false
}

// tcpSegment returns the TCP header and what follows it in pkt, when pkt is
// a TCP packet whose TCP header is in this packet (not a non-first
// fragment).
func tcpSegment(pkt []byte) ([]byte, bool) {
	if len(pkt) == 0 {
		return nil, false
	}
	switch pkt[0] >> 4 {
	case ipv4Version:
		h, ok := ParseIPv4(pkt)
		if !ok || h.Protocol() != IPProtoTCP || h.FragmentOffset() != 0 {
			return nil, false
		}
		return h.Payload(), true
	case ipv6Version:
		h, ok := ParseIPv6(pkt)
		if !ok {
			return nil, false
		}
		u, ok := ipv6UpperLayer(h)
		if !ok || u.protocol != IPProtoTCP || u.nonFirst {
			return nil, false
		}
		return u.payload, true
	}
	return nil, false
}

// lowerWord sets the 16-bit value at tcp[at:] to limit if it is larger,
// fixing the TCP checksum. The value may sit at an odd offset (after a
// No-Operation): each octet is then the low half of one checksum word and
// the high half of the next, so each octet's change is folded in at its
// own place.
func lowerWord(tcp []byte, at int, limit uint16) bool {
	old := binary.BigEndian.Uint16(tcp[at:])
	if old <= limit {
		return false
	}
	sum := binary.BigEndian.Uint16(tcp[tcpChecksum:])
	for k, b := range [2]byte{byte(limit >> 8), byte(limit)} {
		o := at + k
		was, now := uint16(tcp[o]), uint16(b)
		if o%2 == 0 {
			was, now = was<<8, now<<8
		}
		sum = AdjustChecksum(sum, was, now)
		tcp[o] = b
	}
	binary.BigEndian.PutUint16(tcp[tcpChecksum:], sum)
	return true
}
