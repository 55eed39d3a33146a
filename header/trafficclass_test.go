package header

import (
	"bytes"
	"testing"
)

func TestTrafficClassIPv4(t *testing.T) {
	h := udp4Packet(t, 500, 500, pattern(4))
	if !SetTrafficClass(h, 0xb9) {
		t.Fatal("SetTrafficClass refused an IPv4 packet")
	}
	if tc, ok := TrafficClass(h); !ok || tc != 0xb9 || h.TOS() != 0xb9 {
		t.Errorf("TrafficClass = %#x, %v; want 0xb9", tc, ok)
	}
	if !h.ChecksumValid() {
		t.Error("SetTrafficClass left a bad IPv4 header checksum")
	}
	if h[0] != 0x45 {
		t.Errorf("SetTrafficClass changed version/IHL to %#x", h[0])
	}
}

func TestTrafficClassIPv6(t *testing.T) {
	h := ipv6Packet(t, IPv6Fields{TrafficClass: 0, FlowLabel: 0xfffff, NextHeader: IPProtoNoNext, Source: hostA6, Destination: hostB6}, nil)
	if !SetTrafficClass(h, 0xb9) {
		t.Fatal("SetTrafficClass refused an IPv6 packet")
	}
	if tc, ok := TrafficClass(h); !ok || tc != 0xb9 || h.TrafficClass() != 0xb9 {
		t.Errorf("TrafficClass = %#x, %v; want 0xb9", tc, ok)
	}
	if h.FlowLabel() != 0xfffff || h[0]>>4 != 6 {
		t.Errorf("SetTrafficClass disturbed flow label %#x or version %d", h.FlowLabel(), h[0]>>4)
	}
}

func TestTrafficClassRefuses(t *testing.T) {
	for _, b := range [][]byte{nil, {0x45}, make([]byte, 19), append([]byte{0x60}, make([]byte, 38)...), append([]byte{0x75}, make([]byte, 40)...)} {
		c := bytes.Clone(b)
		if _, ok := TrafficClass(c); ok {
			t.Errorf("TrafficClass accepted % x", b)
		}
		if SetTrafficClass(c, 0xff) || !bytes.Equal(c, b) {
			t.Errorf("SetTrafficClass accepted or wrote % x", b)
		}
	}
}

func TestEncapsulateTrafficClassCopiesDSCPAndECN(t *testing.T) {
	for tc := range 256 {
		if got := EncapsulateTrafficClass(uint8(tc)); got != uint8(tc) {
			t.Fatalf("EncapsulateTrafficClass(%#x) = %#x, want a copy (RFC 6040 normal mode)", tc, got)
		}
	}
}

func TestDecapsulateTrafficClassRFC6040(t *testing.T) {
	// RFC 6040 §4.2, Figure 4, spelled out row by row: arriving inner
	// header, arriving outer header, the departing ECN field.
	const drop = "drop"
	names := map[string]uint8{"Not-ECT": ECNNotECT, "ECT(0)": ECNECT0, "ECT(1)": ECNECT1, "CE": ECNCE}
	for _, c := range []struct{ inner, outer, want string }{
		{"Not-ECT", "Not-ECT", "Not-ECT"}, {"Not-ECT", "ECT(0)", "Not-ECT"}, {"Not-ECT", "ECT(1)", "Not-ECT"}, {"Not-ECT", "CE", drop},
		{"ECT(0)", "Not-ECT", "ECT(0)"}, {"ECT(0)", "ECT(0)", "ECT(0)"}, {"ECT(0)", "ECT(1)", "ECT(1)"}, {"ECT(0)", "CE", "CE"},
		{"ECT(1)", "Not-ECT", "ECT(1)"}, {"ECT(1)", "ECT(0)", "ECT(1)"}, {"ECT(1)", "ECT(1)", "ECT(1)"}, {"ECT(1)", "CE", "CE"},
		{"CE", "Not-ECT", "CE"}, {"CE", "ECT(0)", "CE"}, {"CE", "ECT(1)", "CE"}, {"CE", "CE", "CE"},
	} {
		inner := 0xa0 | names[c.inner] // AF41 inside
		outer := 0xb8 | names[c.outer] // EF outside
		got, ok := DecapsulateTrafficClass(outer, inner, false)
		if c.want == drop {
			if ok {
				t.Errorf("inner %s outer %s: got %#x, want drop", c.inner, c.outer, got)
			}
			continue
		}
		if !ok || got != 0xa0|names[c.want] {
			t.Errorf("inner %s outer %s: got %#x ok=%v, want DSCP kept and %s", c.inner, c.outer, got, ok, c.want)
		}
		got, ok = DecapsulateTrafficClass(outer, inner, true)
		if !ok || got != 0xb8|names[c.want] {
			t.Errorf("copy-outer-dscp, inner %s outer %s: got %#x, want outer DSCP and %s", c.inner, c.outer, got, c.want)
		}
	}
}

// FuzzTrafficClass checks that the traffic-class helpers never panic on
// any octets and that a set is seen by a get.
func FuzzTrafficClass(f *testing.F) {
	f.Add([]byte(udp4Packet(f, 1, 2, nil)), uint8(0xb9))
	f.Add([]byte(udp6Packet(f, 1, 2, nil)), uint8(0x03))
	f.Fuzz(func(t *testing.T, b []byte, tc uint8) {
		_, ok := TrafficClass(b)
		if SetTrafficClass(b, tc) != ok {
			t.Fatal("SetTrafficClass and TrafficClass disagree on what they accept")
		}
		if got, _ := TrafficClass(b); ok && got != tc {
			t.Fatalf("TrafficClass after SetTrafficClass(%#x) = %#x", tc, got)
		}
	})
}
