package netio

import (
	"net/netip"
	"testing"
)

// FuzzParseESPFrame: any frame the XDP program could hand over is taken
// apart or refused, never a panic, and a taken one lies within the frame.
func FuzzParseESPFrame(f *testing.F) {
	eth := make([]byte, ethHeaderLen)
	eth[12], eth[13] = ethTypeIPv4Hi, ethTypeIPv4Lo
	f.Add(append(eth, xdpESPPacket(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), 0x20, 1, 40)...))
	v6 := make([]byte, ethHeaderLen+ipv6HeaderLen+16)
	v6[12], v6[13] = ethTypeIPv6Hi, ethTypeIPv6Lo
	v6[ethHeaderLen] = 0x60
	v6[ethHeaderLen+5] = 16
	v6[ethHeaderLen+6] = ipProtoESP
	f.Add(v6)
	f.Add(append(eth[:ethHeaderLen:ethHeaderLen], udpPacket(f, netip.MustParseAddrPort("192.0.2.1:4500"), netip.MustParseAddrPort("192.0.2.2:4500"), 0, make([]byte, 40))...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		m := Message{Buf: make([]byte, 2048)}
		if !parseESPFrame(frame, &m) {
			return
		}
		if m.N > len(frame) || m.N > len(m.Buf) || !m.Dst.IsValid() || !m.Src.Addr().IsValid() {
			t.Fatalf("parsed %d octets of a %d-octet frame: %+v", m.N, len(frame), m)
		}
	})
}

func TestParseESPFrame(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	eth := make([]byte, ethHeaderLen)
	p := xdpESPPacket(a, b, 0xb8, 7, 100)
	frame := append(eth, p...)
	m := Message{Buf: make([]byte, 2048)}
	if !parseESPFrame(frame, &m) || m.N != 100 || m.Src.Addr() != a || m.Dst != b || m.TOS != 0xb8 || m.Buf[0] != 7 {
		t.Fatalf("IPv4 ESP frame: %+v", m)
	}
	// Ethernet padding after the IP packet is not ESP.
	if !parseESPFrame(append(frame, 0, 0, 0), &m) || m.N != 100 {
		t.Fatalf("padded frame: %d octets", m.N)
	}
	// ESP in UDP: the UDP payload, with both ports.
	u := append(append([]byte(nil), eth...), udpPacket(t, netip.AddrPortFrom(a, 4500), netip.AddrPortFrom(b, 4501), 0x20, p[20:])...)
	if !parseESPFrame(u, &m) || m.N != 100 || m.Src != netip.AddrPortFrom(a, 4500) || m.DstPort != 4501 || m.Buf[0] != 7 || m.TOS != 0x20 {
		t.Fatalf("ESP-in-UDP frame: %+v", m)
	}
	for name, bad := range map[string][]byte{
		"UDP length past the packet": func() []byte { c := append([]byte(nil), u...); c[ethHeaderLen+20+4] = 0xff; return c }(),
		"UDP length below 8": func() []byte {
			c := append([]byte(nil), u...)
			c[ethHeaderLen+20+4], c[ethHeaderLen+20+5] = 0, 7
			return c
		}(),
		"UDP header cut":      func() []byte { c := append([]byte(nil), u[:ethHeaderLen+24]...); c[ethHeaderLen+3] = 24; return c }(),
		"truncated":           frame[:ethHeaderLen+30],
		"neither ESP nor UDP": func() []byte { c := append([]byte(nil), frame...); c[ethHeaderLen+9] = 6; return c }(),
		"total length":        func() []byte { c := append([]byte(nil), frame...); c[ethHeaderLen+2] = 0xff; return c }(),
		"IHL below 5":         func() []byte { c := append([]byte(nil), frame...); c[ethHeaderLen] = 0x44; return c }(),
	} {
		if parseESPFrame(bad, &m) {
			t.Errorf("%s: accepted", name)
		}
	}
}
