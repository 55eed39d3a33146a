package header

import (
	"bytes"
	"net/netip"
	"testing"
)

// Documentation addresses only (RFC 5737, RFC 3849).
var (
	hostA4 = netip.MustParseAddr("192.0.2.1")
	hostB4 = netip.MustParseAddr("198.51.100.2")
	gw4    = netip.MustParseAddr("203.0.113.1")
	hostA6 = netip.MustParseAddr("2001:db8::1")
	hostB6 = netip.MustParseAddr("2001:db8::2")
	gw6    = netip.MustParseAddr("2001:db8:ffff::1")
)

// ipv4Packet builds an IPv4 packet carrying payload with the given
// header fields; TotalLength is filled in.
func ipv4Packet(t testing.TB, f IPv4Fields, payload []byte) IPv4 {
	t.Helper()
	n := IPv4MinimumSize + len(f.Options) + len(payload)
	b := make([]byte, n)
	copy(b[IPv4MinimumSize+len(f.Options):], payload)
	f.TotalLength = uint16(n)
	h, ok := EncodeIPv4(b, f)
	if !ok {
		t.Fatalf("EncodeIPv4(%+v) refused", f)
	}
	return h
}

// ipv6Packet builds an IPv6 packet whose payload (extension headers
// included) is payload.
func ipv6Packet(t testing.TB, f IPv6Fields, payload []byte) IPv6 {
	t.Helper()
	b := make([]byte, IPv6MinimumSize+len(payload))
	copy(b[IPv6MinimumSize:], payload)
	f.PayloadLength = uint16(len(payload))
	h, ok := EncodeIPv6(b, f)
	if !ok {
		t.Fatalf("EncodeIPv6(%+v) refused", f)
	}
	return h
}

// udpSegment builds a UDP header and data with a correct checksum for
// src to dst.
func udpSegment(t testing.TB, src, dst netip.Addr, sport, dport uint16, data []byte) []byte {
	t.Helper()
	b := make([]byte, UDPMinimumSize+len(data))
	copy(b[UDPMinimumSize:], data)
	u, ok := EncodeUDP(b, UDPFields{SourcePort: sport, DestinationPort: dport, Length: uint16(len(b))})
	if !ok {
		t.Fatal("EncodeUDP refused")
	}
	u.UpdateChecksum(src, dst)
	return b
}

// udp4Packet is a whole IPv4/UDP packet from hostA4 to hostB4.
func udp4Packet(t testing.TB, sport, dport uint16, data []byte) IPv4 {
	t.Helper()
	return ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, ID: 0x1c46, Source: hostA4, Destination: hostB4},
		udpSegment(t, hostA4, hostB4, sport, dport, data))
}

// udp6Packet is a whole IPv6/UDP packet from hostA6 to hostB6.
func udp6Packet(t testing.TB, sport, dport uint16, data []byte) IPv6 {
	t.Helper()
	return ipv6Packet(t, IPv6Fields{HopLimit: 64, NextHeader: IPProtoUDP, Source: hostA6, Destination: hostB6},
		udpSegment(t, hostA6, hostB6, sport, dport, data))
}

// pattern returns n octets that differ from their neighbours, so a
// misplaced copy shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// checkEveryPrefixFails asserts that parse accepts b and refuses every
// proper prefix of it.
func checkEveryPrefixFails(t *testing.T, name string, b []byte, parse func([]byte) bool) {
	t.Helper()
	if !parse(b) {
		t.Fatalf("%s refused the whole message % x", name, b)
	}
	for i := range len(b) {
		if parse(bytes.Clone(b[:i])) {
			t.Errorf("%s accepted a %d-octet prefix of a %d-octet message", name, i, len(b))
		}
	}
}

// referenceSum is the RFC 1071 sum the slow, obvious way: 16-bit words
// added in 64 bits (no overflow below 2^49 octets) with the carries
// folded at the end.
func referenceSum(b []byte) uint16 {
	var s uint64
	for i := 0; i+1 < len(b); i += 2 {
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint64(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}
