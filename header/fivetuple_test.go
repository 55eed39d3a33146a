package header

import (
	"testing"
)

func TestParseFiveTupleIPv4(t *testing.T) {
	tcp := []byte{0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0}
	mk := func(f IPv4Fields, payload []byte) IPv4 {
		f.TTL, f.Source, f.Destination = 64, hostA4, hostB4
		return ipv4Packet(t, f, payload)
	}
	for _, c := range []struct {
		name string
		pkt  IPv4
		want FiveTuple
	}{
		{"UDP", udp4Packet(t, 4500, 500, nil),
			FiveTuple{Protocol: IPProtoUDP, Ports: PortsTransport, SrcPort: 4500, DstPort: 500}},
		{"TCP", mk(IPv4Fields{Protocol: IPProtoTCP}, tcp),
			FiveTuple{Protocol: IPProtoTCP, Ports: PortsTransport, SrcPort: 40000, DstPort: 443}},
		{"ICMP echo", mk(IPv4Fields{Protocol: IPProtoICMP}, []byte{8, 0, 0, 0, 0, 1, 0, 1}),
			FiveTuple{Protocol: IPProtoICMP, Ports: PortsICMP, SrcPort: 0x0800, DstPort: 0x0800}},
		{"ESP", mk(IPv4Fields{Protocol: IPProtoESP}, []byte{0, 0, 1, 0, 0, 0, 0, 1}),
			FiveTuple{Protocol: IPProtoESP, Ports: PortsNone}},
		{"first fragment", mk(IPv4Fields{Protocol: IPProtoTCP, MoreFragments: true}, tcp[:16]),
			FiveTuple{Protocol: IPProtoTCP, Ports: PortsTransport, SrcPort: 40000, DstPort: 443, Fragment: true}},
		{"non-first fragment", mk(IPv4Fields{Protocol: IPProtoTCP, FragmentOffset: 16}, tcp),
			FiveTuple{Protocol: IPProtoTCP, Ports: PortsOpaque, Fragment: true}},
		{"last fragment of ICMP", mk(IPv4Fields{Protocol: IPProtoICMP, FragmentOffset: 8}, pattern(8)),
			FiveTuple{Protocol: IPProtoICMP, Ports: PortsOpaque, Fragment: true}},
		{"truncated UDP", mk(IPv4Fields{Protocol: IPProtoUDP}, []byte{1, 2, 3}),
			FiveTuple{Protocol: IPProtoUDP, Ports: PortsOpaque}},
		{"SCTP", mk(IPv4Fields{Protocol: IPProtoSCTP}, []byte{0x0b, 0x59, 0x0b, 0x59}),
			FiveTuple{Protocol: IPProtoSCTP, Ports: PortsTransport, SrcPort: 2905, DstPort: 2905}},
	} {
		c.want.Source, c.want.Destination = hostA4, hostB4
		got, ok := ParseFiveTuple(c.pkt)
		if !ok || got != c.want {
			t.Errorf("%s: got %+v ok=%v, want %+v", c.name, got, ok, c.want)
		}
	}
}

// ipv6Chain builds an IPv6 packet whose payload is the given extension
// headers (each a Next Header-less body; the chain is linked here) then
// the upper-layer bytes.
func ipv6Chain(t *testing.T, types []uint8, upper uint8, bodies [][]byte, data []byte) IPv6 {
	t.Helper()
	var payload []byte
	for i, body := range bodies {
		next := upper
		if i+1 < len(types) {
			next = types[i+1]
		}
		payload = append(payload, next)
		payload = append(payload, body...)
	}
	payload = append(payload, data...)
	first := upper
	if len(types) > 0 {
		first = types[0]
	}
	return ipv6Packet(t, IPv6Fields{NextHeader: first, HopLimit: 64, Source: hostA6, Destination: hostB6}, payload)
}

// Extension header bodies after the Next Header octet.
var (
	hbh8      = []byte{0, 1, 4, 0, 0, 0, 0}                          // Hdr Ext Len 0, PadN
	dst16     = []byte{1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // Hdr Ext Len 1
	routing8  = []byte{0, 4, 0, 0, 0, 0, 0}                          // type 4, segments left 0
	fragFirst = []byte{0, 0x00, 0x01, 0, 0, 0, 7}                    // offset 0, M set
	fragLater = []byte{0, 0x05, 0x00, 0, 0, 0, 7}                    // offset 160
	fragAtom  = []byte{0, 0x00, 0x00, 0, 0, 0, 7}                    // atomic
	udpHeader = []byte{0xc0, 0x00, 0x11, 0x94, 0, 8, 0, 0}
)

func TestParseFiveTupleIPv6(t *testing.T) {
	for _, c := range []struct {
		name   string
		types  []uint8
		bodies [][]byte
		upper  uint8
		data   []byte
		want   FiveTuple
	}{
		{"UDP", nil, nil, IPProtoUDP, udpHeader,
			FiveTuple{Protocol: IPProtoUDP, Ports: PortsTransport, SrcPort: 49152, DstPort: 4500}},
		{"hop-by-hop, dest opts, routing, UDP",
			[]uint8{IPProtoHopByHop, IPProtoDestOpts, IPProtoRouting}, [][]byte{hbh8, dst16, routing8}, IPProtoUDP, udpHeader,
			FiveTuple{Protocol: IPProtoUDP, Ports: PortsTransport, SrcPort: 49152, DstPort: 4500}},
		{"first fragment", []uint8{IPProtoFragment}, [][]byte{fragFirst}, IPProtoUDP, udpHeader,
			FiveTuple{Protocol: IPProtoUDP, Ports: PortsTransport, SrcPort: 49152, DstPort: 4500, Fragment: true}},
		{"later fragment", []uint8{IPProtoFragment}, [][]byte{fragLater}, IPProtoUDP, udpHeader,
			FiveTuple{Protocol: IPProtoUDP, Ports: PortsOpaque, Fragment: true}},
		{"atomic fragment", []uint8{IPProtoFragment}, [][]byte{fragAtom}, IPProtoUDP, udpHeader,
			FiveTuple{Protocol: IPProtoUDP, Ports: PortsTransport, SrcPort: 49152, DstPort: 4500}},
		{"ICMPv6 behind dest opts", []uint8{IPProtoDestOpts}, [][]byte{dst16}, IPProtoICMPv6, []byte{128, 0, 0, 0},
			FiveTuple{Protocol: IPProtoICMPv6, Ports: PortsICMP, SrcPort: 0x8000, DstPort: 0x8000}},
		{"ESP", nil, nil, IPProtoESP, []byte{0, 0, 1, 0, 0, 0, 0, 1},
			FiveTuple{Protocol: IPProtoESP, Ports: PortsNone}},
		{"no next header", []uint8{IPProtoHopByHop}, [][]byte{hbh8}, IPProtoNoNext, nil,
			FiveTuple{Protocol: IPProtoNoNext, Ports: PortsNone}},
		{"UDP truncated", nil, nil, IPProtoUDP, udpHeader[:3],
			FiveTuple{Protocol: IPProtoUDP, Ports: PortsOpaque}},
	} {
		pkt := ipv6Chain(t, c.types, c.upper, c.bodies, c.data)
		c.want.Source, c.want.Destination = hostA6, hostB6
		got, ok := ParseFiveTuple(pkt)
		if !ok || got != c.want {
			t.Errorf("%s: got %+v ok=%v, want %+v", c.name, got, ok, c.want)
		}
	}
}

func TestParseFiveTupleIPv6ChainBounds(t *testing.T) {
	eight := make([]uint8, 8)
	bodies := make([][]byte, 8)
	for i := range eight {
		eight[i], bodies[i] = IPProtoDestOpts, hbh8
	}
	if _, ok := ParseFiveTuple(ipv6Chain(t, eight, IPProtoUDP, bodies, udpHeader)); !ok {
		t.Error("eight extension headers refused; the bound is eight")
	}
	nine := append(eight, IPProtoDestOpts)
	if _, ok := ParseFiveTuple(ipv6Chain(t, nine, IPProtoUDP, append(bodies, hbh8), udpHeader)); ok {
		t.Error("nine extension headers accepted")
	}
	// A header whose length runs past the packet.
	long := ipv6Chain(t, []uint8{IPProtoDestOpts}, IPProtoUDP, [][]byte{{2, 1, 4, 0, 0, 0, 0}}, udpHeader)
	if _, ok := ParseFiveTuple(long); ok {
		t.Error("an extension header running past the packet was accepted")
	}
	// A fragment header cut short.
	short := ipv6Chain(t, []uint8{IPProtoFragment}, IPProtoUDP, [][]byte{{0, 0, 1}}, nil)
	if _, ok := ParseFiveTuple(short); ok {
		t.Error("a truncated fragment header was accepted")
	}
	for _, b := range [][]byte{nil, {0x45}, {0x60}, {0x50, 0, 0, 0}} {
		if _, ok := ParseFiveTuple(b); ok {
			t.Errorf("ParseFiveTuple accepted % x", b)
		}
	}
}

func TestParseFiveTupleEveryPrefixFails(t *testing.T) {
	v4 := udp4Packet(t, 1, 2, pattern(3))
	checkEveryPrefixFails(t, "ParseFiveTuple(IPv4)", v4, func(b []byte) bool { _, ok := ParseFiveTuple(b); return ok })
	v6 := ipv6Chain(t, []uint8{IPProtoHopByHop, IPProtoFragment}, IPProtoUDP, [][]byte{hbh8, fragFirst}, udpHeader)
	checkEveryPrefixFails(t, "ParseFiveTuple(IPv6)", v6, func(b []byte) bool { _, ok := ParseFiveTuple(b); return ok })
}

// FuzzFiveTuple checks that ParseFiveTuple never panics and that what it
// reports is consistent with the packet.
func FuzzFiveTuple(f *testing.F) {
	f.Add([]byte(udp4Packet(f, 4500, 500, nil)))
	f.Add([]byte(udp6Packet(f, 500, 500, []byte("ike"))))
	f.Add([]byte(ipv6Packet(f, IPv6Fields{NextHeader: IPProtoHopByHop, Source: hostA6, Destination: hostB6},
		append(append([]byte{IPProtoFragment}, hbh8...), append([]byte{IPProtoTCP}, fragLater...)...))))
	f.Fuzz(func(t *testing.T, b []byte) {
		tu, ok := ParseFiveTuple(b)
		if !ok {
			return
		}
		if tu.Source.Is4() != (b[0]>>4 == 4) || tu.Source.Is4() != tu.Destination.Is4() {
			t.Fatalf("address family wrong: %+v for version %d", tu, b[0]>>4)
		}
		if tu.Ports != PortsTransport && tu.Ports != PortsICMP && (tu.SrcPort != 0 || tu.DstPort != 0) {
			t.Fatalf("ports set without ports: %+v", tu)
		}
		if tu.Ports == PortsTransport && !hasPorts(tu.Protocol) {
			t.Fatalf("transport ports for protocol %d", tu.Protocol)
		}
	})
}
