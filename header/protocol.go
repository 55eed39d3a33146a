package header

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), as they
// appear in the IPv4 Protocol field and the IPv6 Next Header field.
const (
	IPProtoHopByHop uint8 = 0   // IPv6 Hop-by-Hop Options (RFC 8200 §4.3)
	IPProtoICMP     uint8 = 1   // ICMP for IPv4 (RFC 792)
	IPProtoIGMP     uint8 = 2   // IGMP (RFC 3376)
	IPProtoIPv4     uint8 = 4   // IPv4 in IP (RFC 2003)
	IPProtoTCP      uint8 = 6   // TCP (RFC 9293)
	IPProtoUDP      uint8 = 17  // UDP (RFC 768)
	IPProtoDCCP     uint8 = 33  // DCCP (RFC 4340)
	IPProtoIPv6     uint8 = 41  // IPv6 in IP (RFC 2473)
	IPProtoRouting  uint8 = 43  // IPv6 Routing header (RFC 8200 §4.4)
	IPProtoFragment uint8 = 44  // IPv6 Fragment header (RFC 8200 §4.5)
	IPProtoESP      uint8 = 50  // Encapsulating Security Payload (RFC 4303)
	IPProtoAH       uint8 = 51  // Authentication Header (RFC 4302)
	IPProtoICMPv6   uint8 = 58  // ICMP for IPv6 (RFC 4443)
	IPProtoNoNext   uint8 = 59  // IPv6 No Next Header (RFC 8200 §4.7)
	IPProtoDestOpts uint8 = 60  // IPv6 Destination Options (RFC 8200 §4.6)
	IPProtoSCTP     uint8 = 132 // SCTP (RFC 9260)
	IPProtoUDPLite  uint8 = 136 // UDP-Lite (RFC 3828)
)

// hasPorts reports whether protocol's header starts with a 16-bit source
// port followed by a 16-bit destination port, which is what RFC 4301
// §4.4.1.1 means by "Next Layer Protocol uses two ports".
func hasPorts(protocol uint8) bool {
	switch protocol {
	case IPProtoTCP, IPProtoUDP, IPProtoDCCP, IPProtoSCTP, IPProtoUDPLite:
		return true
	}
	return false
}
