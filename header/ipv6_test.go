package header

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestIPv6KnownFields(t *testing.T) {
	// Version 6, traffic class 0xb9 (EF, ECT(1)), flow label 0x12345,
	// payload 4, next header UDP, hop limit 64.
	b := []byte{0x6b, 0x91, 0x23, 0x45, 0x00, 0x04, 17, 64}
	a, d := hostA6.As16(), hostB6.As16()
	b = append(append(append(b, a[:]...), d[:]...), 1, 2, 3, 4, 0xee) // 0xee is link padding
	h, ok := ParseIPv6(b)
	if !ok {
		t.Fatal("ParseIPv6 refused the known packet")
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"TrafficClass", h.TrafficClass(), uint8(0xb9)},
		{"DSCP", h.DSCP(), uint8(46)},
		{"ECN", h.ECN(), ECNECT1},
		{"FlowLabel", h.FlowLabel(), uint32(0x12345)},
		{"PayloadLength", h.PayloadLength(), uint16(4)},
		{"NextHeader", h.NextHeader(), IPProtoUDP},
		{"HopLimit", h.HopLimit(), uint8(64)},
		{"Source", h.Source(), hostA6},
		{"Destination", h.Destination(), hostB6},
		{"len(view)", len(h), 44},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !bytes.Equal(h.Payload(), []byte{1, 2, 3, 4}) {
		t.Errorf("Payload = % x, want 01 02 03 04", h.Payload())
	}
}

func TestIPv6RoundTrip(t *testing.T) {
	for _, f := range []IPv6Fields{
		{TrafficClass: 0, FlowLabel: 0, NextHeader: IPProtoTCP, HopLimit: 1, Source: hostA6, Destination: hostB6},
		{TrafficClass: 0xff, FlowLabel: 0xfffff, NextHeader: IPProtoESP, HopLimit: 255, Source: gw6, Destination: hostA6},
		{TrafficClass: 0x2e, FlowLabel: 0x80001, NextHeader: IPProtoNoNext, HopLimit: 64,
			Source: netip.MustParseAddr("::ffff:192.0.2.1"), Destination: hostB6},
	} {
		payload := pattern(27)
		h := ipv6Packet(t, f, payload)
		p, ok := ParseIPv6(h)
		if !ok {
			t.Fatalf("ParseIPv6 refused what EncodeIPv6(%+v) wrote", f)
		}
		got := IPv6Fields{
			TrafficClass: p.TrafficClass(), FlowLabel: p.FlowLabel(), PayloadLength: p.PayloadLength(),
			NextHeader: p.NextHeader(), HopLimit: p.HopLimit(), Source: p.Source(), Destination: p.Destination(),
		}
		f.PayloadLength = uint16(len(payload))
		if got != f {
			t.Errorf("round trip: got %+v, want %+v", got, f)
		}
		if !bytes.Equal(p.Payload(), payload) {
			t.Errorf("round trip payload % x, want % x", p.Payload(), payload)
		}
	}
}

func TestParseIPv6EveryPrefixFails(t *testing.T) {
	h := ipv6Packet(t, IPv6Fields{NextHeader: IPProtoUDP, HopLimit: 64, Source: hostA6, Destination: hostB6}, pattern(9))
	checkEveryPrefixFails(t, "ParseIPv6", h, func(b []byte) bool { _, ok := ParseIPv6(b); return ok })
}

func TestParseIPv6Refuses(t *testing.T) {
	good := ipv6Packet(t, IPv6Fields{NextHeader: IPProtoUDP, HopLimit: 64, Source: hostA6, Destination: hostB6}, pattern(8))
	for _, c := range []struct {
		name   string
		mangle func(b []byte)
	}{
		{"version 4", func(b []byte) { b[0] = 0x40 }},
		{"version 7", func(b []byte) { b[0] = 0x70 }},
		{"payload length past the buffer", func(b []byte) { b[5] = 9 }},
	} {
		b := bytes.Clone(good)
		c.mangle(b)
		if _, ok := ParseIPv6(b); ok {
			t.Errorf("ParseIPv6 accepted a packet with %s", c.name)
		}
	}
}

func TestIPv6Setters(t *testing.T) {
	h := ipv6Packet(t, IPv6Fields{TrafficClass: 0xff, FlowLabel: 0xfffff, NextHeader: IPProtoUDP, HopLimit: 64,
		Source: hostA6, Destination: hostB6}, pattern(8))
	h.SetTrafficClass(0x01)
	if h.TrafficClass() != 0x01 || h.FlowLabel() != 0xfffff || h[0]>>4 != 6 {
		t.Errorf("SetTrafficClass: TC %#x flow %#x version %d", h.TrafficClass(), h.FlowLabel(), h[0]>>4)
	}
	h.SetFlowLabel(0xfff12345) // high bits beyond 20 are dropped
	if h.FlowLabel() != 0x12345 || h.TrafficClass() != 0x01 || h[0]>>4 != 6 {
		t.Errorf("SetFlowLabel: TC %#x flow %#x version %d", h.TrafficClass(), h.FlowLabel(), h[0]>>4)
	}
	h.SetPayloadLength(3)
	h.SetNextHeader(IPProtoESP)
	h.SetHopLimit(2)
	if !h.SetSource(gw6) || !h.SetDestination(hostA6) {
		t.Fatal("setting IPv6 addresses failed")
	}
	if h.SetSource(hostA4) || h.SetDestination(hostA4) {
		t.Error("an IPv4 address was accepted by an IPv6 header")
	}
	if h.PayloadLength() != 3 || h.NextHeader() != IPProtoESP || h.HopLimit() != 2 || h.Source() != gw6 || h.Destination() != hostA6 {
		t.Errorf("setters: len %d nh %d hl %d src %v dst %v", h.PayloadLength(), h.NextHeader(), h.HopLimit(), h.Source(), h.Destination())
	}
}

func TestEncodeIPv6Refuses(t *testing.T) {
	ok := IPv6Fields{PayloadLength: 4, Source: hostA6, Destination: hostB6}
	for _, c := range []struct {
		name string
		f    func(f *IPv6Fields)
	}{
		{"payload past the buffer", func(f *IPv6Fields) { f.PayloadLength = 5 }},
		{"IPv4 source", func(f *IPv6Fields) { f.Source = hostA4 }},
		{"invalid destination", func(f *IPv6Fields) { f.Destination = netip.Addr{} }},
		{"flow label over 20 bits", func(f *IPv6Fields) { f.FlowLabel = 0x100000 }},
	} {
		f := ok
		c.f(&f)
		if _, good := EncodeIPv6(make([]byte, 44), f); good {
			t.Errorf("EncodeIPv6 accepted %s", c.name)
		}
	}
}

// FuzzIPv6 checks that ParseIPv6 never panics and that what it accepts
// encodes back to the same octets.
func FuzzIPv6(f *testing.F) {
	f.Add([]byte(udp6Packet(f, 500, 500, []byte("ike"))))
	f.Add([]byte(ipv6Packet(f, IPv6Fields{TrafficClass: 0xb9, FlowLabel: 0xabcde, NextHeader: IPProtoNoNext,
		HopLimit: 1, Source: hostA6, Destination: hostB6}, nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := ParseIPv6(b)
		if !ok {
			return
		}
		if len(h) != IPv6MinimumSize+int(h.PayloadLength()) {
			t.Fatalf("gate let through %d octets for payload length %d", len(h), h.PayloadLength())
		}
		out := make([]byte, len(h))
		copy(out[IPv6MinimumSize:], h.Payload())
		e, ok := EncodeIPv6(out, IPv6Fields{
			TrafficClass: h.TrafficClass(), FlowLabel: h.FlowLabel(), PayloadLength: h.PayloadLength(),
			NextHeader: h.NextHeader(), HopLimit: h.HopLimit(), Source: h.Source(), Destination: h.Destination(),
		})
		if !ok || !bytes.Equal(e, h) {
			t.Fatalf("re-encoded (ok=%v)\n% x\nwant\n% x", ok, e, h)
		}
	})
}
