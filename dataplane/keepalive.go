package dataplane

import (
	"encoding/binary"

	"ipsecgw/header"
)

// SendKeepalives sends one NAT keepalive (RFC 3948 §2.3: a UDP datagram
// holding the single octet 0xFF) from every outbound SA that is
// UDP-encapsulated on port 4500, so a NAT on the path keeps its mapping.
// The daemon calls it every nat-keepalive interval; it returns how many it
// sent.
func (e *Engine) SendKeepalives() int {
	var b sendBatch
	for _, sa := range e.OutboundSAs() {
		if !sa.Encap.UDP || sa.Encap.DstPort != 4500 {
			continue
		}
		ipLen := 20
		if sa.Remote.Is6() {
			ipLen = 40
		}
		pkt := make([]byte, ipLen+8+1)
		udp := pkt[ipLen:]
		binary.BigEndian.PutUint16(udp[0:], sa.Encap.SrcPort)
		binary.BigEndian.PutUint16(udp[2:], sa.Encap.DstPort)
		binary.BigEndian.PutUint16(udp[4:], 9)
		udp[8] = 0xff
		if sa.Remote.Is4() {
			if _, ok := header.EncodeIPv4(pkt, header.IPv4Fields{TotalLength: uint16(len(pkt)), ID: uint16(e.ipID.Add(1)),
				TTL: 64, Protocol: header.IPProtoUDP, Source: sa.Local, Destination: sa.Remote}); !ok {
				continue
			}
			b.v4 = append(b.v4, pkt)
		} else {
			if _, ok := header.EncodeIPv6(pkt, header.IPv6Fields{PayloadLength: 9, NextHeader: header.IPProtoUDP,
				HopLimit: 64, Source: sa.Local, Destination: sa.Remote}); !ok {
				continue
			}
			u, _ := header.ParseUDP(udp)
			u.UpdateChecksum(sa.Local, sa.Remote)
			b.v6 = append(b.v6, pkt)
		}
	}
	n := len(b.v4) + len(b.v6)
	e.flush(&b)
	return n
}
