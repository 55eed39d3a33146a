package header

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"
)

// knownIPv4 is an ICMP echo header with a hand-computed checksum:
// 4500 + 0054 + 1c46 + 4000 + 4001 + c000 + 0201 + c633 + 6402 = 2cdd1,
// folded cdd3, complemented 322c.
const knownIPv4 = "45000054" + "1c464000" + "4001322c" + "c0000201" + "c6336402"

func TestIPv4KnownChecksum(t *testing.T) {
	b, _ := hex.DecodeString(knownIPv4 + hex.EncodeToString(make([]byte, 0x54-20)))
	h, ok := ParseIPv4(b)
	if !ok {
		t.Fatal("ParseIPv4 refused the known packet")
	}
	if !h.ChecksumValid() {
		t.Error("ChecksumValid = false for the known packet")
	}
	if got := h.ComputeChecksum(); got != 0x322c {
		t.Errorf("ComputeChecksum = %#04x, want 0x322c", got)
	}
	b[ipv4TTL]--
	if h.ChecksumValid() {
		t.Error("ChecksumValid = true after the TTL changed")
	}
	h.UpdateChecksum()
	if !h.ChecksumValid() || h.Checksum() != 0x332c {
		t.Errorf("after UpdateChecksum checksum = %#04x valid=%v, want 0x332c valid", h.Checksum(), h.ChecksumValid())
	}
}

func TestIPv4KnownFields(t *testing.T) {
	b, _ := hex.DecodeString(knownIPv4 + hex.EncodeToString(make([]byte, 0x54-20)))
	b[ipv4TOS] = 0xb9 // EF with ECT(1)
	h, _ := ParseIPv4(b)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"HeaderLength", h.HeaderLength(), 20},
		{"TOS", h.TOS(), uint8(0xb9)},
		{"DSCP", h.DSCP(), uint8(46)},
		{"ECN", h.ECN(), ECNECT1},
		{"TotalLength", h.TotalLength(), uint16(84)},
		{"ID", h.ID(), uint16(0x1c46)},
		{"DontFragment", h.DontFragment(), true},
		{"MoreFragments", h.MoreFragments(), false},
		{"FragmentOffset", h.FragmentOffset(), 0},
		{"IsFragment", h.IsFragment(), false},
		{"TTL", h.TTL(), uint8(64)},
		{"Protocol", h.Protocol(), IPProtoICMP},
		{"Source", h.Source(), hostA4},
		{"Destination", h.Destination(), hostB4},
		{"len(Options)", len(h.Options()), 0},
		{"len(Payload)", len(h.Payload()), 64},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestIPv4RoundTrip(t *testing.T) {
	for _, f := range []IPv4Fields{
		{TOS: 0x2e, ID: 1, TTL: 1, Protocol: IPProtoTCP, Source: hostA4, Destination: hostB4},
		{TOS: 0xff, ID: 0xffff, DontFragment: true, TTL: 255, Protocol: IPProtoESP, Source: gw4, Destination: hostA4},
		{ID: 7, MoreFragments: true, FragmentOffset: 8 * 0x1fff, TTL: 9, Protocol: IPProtoUDP, Source: hostB4, Destination: gw4},
		{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4,
			Options: []byte{0x94, 0x04, 0x00, 0x00}}, // Router Alert
		{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4, Options: pattern(40)},
	} {
		payload := pattern(33)
		h := ipv4Packet(t, f, payload)
		p, ok := ParseIPv4(append(bytes.Clone(h), 0xee, 0xee)) // link padding is cut
		if !ok {
			t.Fatalf("ParseIPv4 refused what EncodeIPv4(%+v) wrote", f)
		}
		got := IPv4Fields{
			TOS: p.TOS(), TotalLength: p.TotalLength(), ID: p.ID(),
			DontFragment: p.DontFragment(), MoreFragments: p.MoreFragments(), FragmentOffset: p.FragmentOffset(),
			TTL: p.TTL(), Protocol: p.Protocol(), Source: p.Source(), Destination: p.Destination(),
			Options: p.Options(),
		}
		f.TotalLength = uint16(IPv4MinimumSize + len(f.Options) + len(payload))
		if !sameIPv4Fields(got, f) {
			t.Errorf("round trip: got %+v, want %+v", got, f)
		}
		if !bytes.Equal(p.Payload(), payload) || len(p) != len(h) {
			t.Errorf("round trip: payload % x (view %d octets), want % x (%d)", p.Payload(), len(p), payload, len(h))
		}
		if !p.ChecksumValid() {
			t.Errorf("EncodeIPv4(%+v) wrote a bad checksum", f)
		}
	}
}

func sameIPv4Fields(a, b IPv4Fields) bool {
	return a.TOS == b.TOS && a.TotalLength == b.TotalLength && a.ID == b.ID &&
		a.DontFragment == b.DontFragment && a.MoreFragments == b.MoreFragments &&
		a.FragmentOffset == b.FragmentOffset && a.TTL == b.TTL && a.Protocol == b.Protocol &&
		a.Source == b.Source && a.Destination == b.Destination && bytes.Equal(a.Options, b.Options)
}

func TestParseIPv4EveryPrefixFails(t *testing.T) {
	h := ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4,
		Options: []byte{0x01, 0x01, 0x01, 0x00}}, pattern(12))
	checkEveryPrefixFails(t, "ParseIPv4", h, func(b []byte) bool { _, ok := ParseIPv4(b); return ok })
}

func TestParseIPv4Refuses(t *testing.T) {
	good := ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4}, pattern(8))
	for _, c := range []struct {
		name   string
		mangle func(b []byte)
	}{
		{"version 6", func(b []byte) { b[0] = 0x65 }},
		{"version 0", func(b []byte) { b[0] = 0x05 }},
		{"IHL 4", func(b []byte) { b[0] = 0x44 }},
		{"IHL past the packet", func(b []byte) { b[0] = 0x4f }},
		{"total length below IHL", func(b []byte) { b[2], b[3] = 0, 19 }},
		{"total length past the buffer", func(b []byte) { b[2], b[3] = 0, 29 }},
	} {
		b := bytes.Clone(good)
		c.mangle(b)
		if _, ok := ParseIPv4(b); ok {
			t.Errorf("ParseIPv4 accepted a packet with %s: % x", c.name, b)
		}
	}
}

func TestIPv4Setters(t *testing.T) {
	h := ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4,
		MoreFragments: true, FragmentOffset: 16}, pattern(8))
	h.SetTOS(0x01)
	h.SetTotalLength(27)
	h.SetID(0xbeef)
	h.SetDontFragment(true)
	h.SetTTL(3)
	h.SetProtocol(IPProtoESP)
	if !h.SetSource(gw4) || !h.SetDestination(hostA4) {
		t.Fatal("setting IPv4 addresses failed")
	}
	if h.SetSource(hostA6) || h.SetDestination(hostA6) || h.Source() != gw4 || h.Destination() != hostA4 {
		t.Error("an IPv6 address was accepted by an IPv4 header")
	}
	if h.TOS() != 0x01 || h.TotalLength() != 27 || h.ID() != 0xbeef || !h.DontFragment() ||
		!h.MoreFragments() || h.FragmentOffset() != 16 || h.TTL() != 3 || h.Protocol() != IPProtoESP {
		t.Errorf("setters: TOS %#x len %d ID %#x DF %v MF %v off %d TTL %d proto %d",
			h.TOS(), h.TotalLength(), h.ID(), h.DontFragment(), h.MoreFragments(), h.FragmentOffset(), h.TTL(), h.Protocol())
	}
	if h.ChecksumValid() {
		t.Error("setters are documented to leave the checksum stale, yet it is valid")
	}
	h.UpdateChecksum()
	if !h.ChecksumValid() {
		t.Error("UpdateChecksum left a bad checksum")
	}
	h.SetDontFragment(false)
	if h.DontFragment() || !h.MoreFragments() || h.FragmentOffset() != 16 {
		t.Error("clearing DF disturbed MF or the offset")
	}
}

func TestEncodeIPv4Refuses(t *testing.T) {
	ok := IPv4Fields{TotalLength: 20, Source: hostA4, Destination: hostB4}
	for _, c := range []struct {
		name string
		f    func(f *IPv4Fields)
		buf  int
	}{
		{"short buffer", func(*IPv4Fields) {}, 19},
		{"total length below header", func(f *IPv4Fields) { f.TotalLength = 19 }, 20},
		{"total length past buffer", func(f *IPv4Fields) { f.TotalLength = 21 }, 20},
		{"IPv6 source", func(f *IPv4Fields) { f.Source = hostA6 }, 20},
		{"invalid destination", func(f *IPv4Fields) { f.Destination = netip.Addr{} }, 20},
		{"offset not a multiple of 8", func(f *IPv4Fields) { f.FragmentOffset = 12 }, 20},
		{"offset too large", func(f *IPv4Fields) { f.FragmentOffset = 65536 }, 20},
		{"options not words", func(f *IPv4Fields) { f.Options = []byte{1, 1}; f.TotalLength = 22 }, 22},
		{"options too long", func(f *IPv4Fields) { f.Options = make([]byte, 44); f.TotalLength = 64 }, 64},
	} {
		f := ok
		c.f(&f)
		b := make([]byte, c.buf)
		if _, good := EncodeIPv4(b, f); good {
			t.Errorf("EncodeIPv4 accepted %s", c.name)
		}
		if !bytes.Equal(b, make([]byte, c.buf)) {
			t.Errorf("EncodeIPv4 wrote into the buffer while refusing %s", c.name)
		}
	}
}

// FuzzIPv4 checks that ParseIPv4 never panics, that its accessors stay
// in bounds, and that what it accepts encodes back to the same header.
func FuzzIPv4(f *testing.F) {
	b, _ := hex.DecodeString(knownIPv4 + hex.EncodeToString(make([]byte, 0x54-20)))
	f.Add(b)
	f.Add(b[:20])
	f.Add([]byte(ipv4Packet(f, IPv4Fields{TTL: 1, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4,
		Options: []byte{0x83, 0x07, 0x04, 192, 0, 2, 9, 0}}, pattern(9))))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := ParseIPv4(b)
		if !ok {
			return
		}
		if len(h) != int(h.TotalLength()) || h.HeaderLength() < IPv4MinimumSize || h.HeaderLength() > len(h) {
			t.Fatalf("gate let through length %d, total %d, header %d", len(h), h.TotalLength(), h.HeaderLength())
		}
		out := make([]byte, len(h))
		copy(out[h.HeaderLength():], h.Payload())
		e, ok := EncodeIPv4(out, IPv4Fields{
			TOS: h.TOS(), TotalLength: h.TotalLength(), ID: h.ID(),
			DontFragment: h.DontFragment(), MoreFragments: h.MoreFragments(), FragmentOffset: h.FragmentOffset(),
			TTL: h.TTL(), Protocol: h.Protocol(), Source: h.Source(), Destination: h.Destination(), Options: h.Options(),
		})
		if !ok {
			t.Fatalf("EncodeIPv4 refused the fields of an accepted header % x", h[:h.HeaderLength()])
		}
		// Re-encoding drops the reserved flag bit and fixes the
		// checksum; with both already right the bytes are the same.
		if h[ipv4FlagsOffset]&0x80 == 0 && h.ChecksumValid() && !bytes.Equal(e, h) {
			t.Fatalf("re-encoded\n% x\nwant\n% x", e, h)
		}
		if !e.ChecksumValid() {
			t.Fatal("re-encoded header has a bad checksum")
		}
	})
}
