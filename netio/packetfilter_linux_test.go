package netio

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/net/bpf"

	"ipsecgw/header"
)

var (
	filterLocal = []netip.Addr{netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8:1::1")}
	filterPorts = []uint16{4500, 4501}
)

// filterVM runs ringFilter in golang.org/x/net/bpf's interpreter. The
// interpreter has no packet type: the first two instructions (the
// PACKET_HOST check) are left out, which moves no jump of the rest.
func filterVM(t testing.TB) *bpf.VM {
	t.Helper()
	prog, err := ringFilter(filterLocal, filterPorts)
	if err != nil {
		t.Fatal(err)
	}
	var raw []bpf.RawInstruction
	for _, i := range prog[2:] {
		raw = append(raw, bpf.RawInstruction{Op: i.Code, Jt: i.Jt, Jf: i.Jf, K: i.K})
	}
	insns, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("ringFilter does not disassemble")
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// filterModel is what ringFilter should take, written out plainly: the
// frame (of a host packet) to a local address, unfragmented IPv4 ESP or
// ESP in UDP behind any options, or IPv6 ESP or ESP in UDP behind at
// most maxExtHeaders extension headers of maxExtOctets.
func filterModel(f []byte) bool {
	u16 := func(off int) int { return int(binary.BigEndian.Uint16(f[off:])) }
	udpOK := func(at int) bool {
		return len(f) >= at+12 && binary.BigEndian.Uint32(f[at+8:]) != 0 && slices.Contains(filterPorts, uint16(u16(at+2)))
	}
	if len(f) < 14 {
		return false
	}
	switch u16(12) {
	case 0x0800:
		if len(f) < 24 || u16(20)&0x3fff != 0 {
			return false
		}
		switch f[23] {
		case ipProtoESP:
		case ipProtoUDP:
			if !udpOK(14 + int(f[14]&0x0f)*4) {
				return false
			}
		default:
			return false
		}
		return len(f) >= 34 && slices.Contains(filterLocal, netip.AddrFrom4([4]byte(f[30:34])))
	case 0x86dd:
		if len(f) < 21 {
			return false
		}
		proto, off := f[20], 0
		for i := 0; proto != ipProtoESP && proto != ipProtoUDP; i++ {
			if i == maxExtHeaders || !(proto == ipProtoRouting || proto == ipProtoDstOpts || proto == ipProtoHopByHop && i == 0) {
				return false
			}
			if len(f) < 54+off+2 {
				return false
			}
			proto, off = f[54+off], off+(int(f[55+off])+1)*8
			if off > maxExtOctets {
				return false
			}
		}
		if proto == ipProtoUDP && !udpOK(54+off) {
			return false
		}
		return len(f) >= 54 && slices.Contains(filterLocal, netip.AddrFrom16([16]byte(f[38:54])))
	}
	return false
}

// ethFrame puts an Ethernet header in front of an IP packet.
func ethFrame(ip []byte) []byte {
	f := make([]byte, ethHeaderLen, ethHeaderLen+len(ip))
	if ip[0]>>4 == 6 {
		f[12], f[13] = ethTypeIPv6Hi, ethTypeIPv6Lo
	} else {
		f[12], f[13] = ethTypeIPv4Hi, ethTypeIPv4Lo
	}
	return append(f, ip...)
}

// filterCases are frames around the edges of what the rings take.
func filterCases(t testing.TB) map[string]struct {
	frame []byte
	take  bool
} {
	a4, b4 := netip.MustParseAddr("198.51.100.2"), filterLocal[0]
	a6, b6 := netip.MustParseAddr("2001:db8:1::2"), filterLocal[1]
	esp := espBody(t, 0x99, 1, 100)
	udp4 := func(port uint16, data []byte) []byte {
		return udpPacket(t, netip.AddrPortFrom(a4, 4500), netip.AddrPortFrom(b4, port), 0, data)[header.IPv4MinimumSize:]
	}
	udp6 := func(port uint16, data []byte) []byte {
		return udpPacket(t, netip.AddrPortFrom(a6, 4500), netip.AddrPortFrom(b6, port), 0, data)[header.IPv6MinimumSize:]
	}
	dst, rt, hop := uint8(ipProtoDstOpts), uint8(ipProtoRouting), uint8(ipProtoHopByHop)
	frag4 := ethFrame(ipPacket(t, a4, b4, 0, header.IPProtoESP, esp))
	frag4[ipv4FlagsOffset] |= 0x20
	long := extPacket6(t, a6, b6, []uint8{dst}, header.IPProtoESP, esp)
	long[header.IPv6MinimumSize+1] = maxExtOctets / 8 // 136 octets
	return map[string]struct {
		frame []byte
		take  bool
	}{
		"IPv4 ESP":                    {ethFrame(ipPacket(t, a4, b4, 0, header.IPProtoESP, esp)), true},
		"IPv4 ESP, other host":        {ethFrame(ipPacket(t, a4, a4, 0, header.IPProtoESP, esp)), false},
		"IPv4 ESP fragment":           {frag4, false},
		"IPv4 ESP with options":       {ethFrame(withOptions4(t, a4, b4, header.IPProtoESP, []byte{1, 1, 1, 1}, esp)), true},
		"IPv4 ESP in UDP":             {ethFrame(ipPacket(t, a4, b4, 0, header.IPProtoUDP, udp4(4500, esp))), true},
		"IPv4 ESP in UDP, options":    {ethFrame(withOptions4(t, a4, b4, header.IPProtoUDP, bytes.Repeat([]byte{1}, 40), udp4(4501, esp))), true},
		"IPv4 IKE on 4500, options":   {ethFrame(withOptions4(t, a4, b4, header.IPProtoUDP, []byte{1, 1, 1, 1}, udp4(4500, ikeMessage(80)))), false},
		"IPv4 keepalive, options":     {ethFrame(withOptions4(t, a4, b4, header.IPProtoUDP, []byte{1, 1, 1, 1}, udp4(4500, []byte{0xff}))), false},
		"IPv4 UDP to 500, options":    {ethFrame(withOptions4(t, a4, b4, header.IPProtoUDP, []byte{1, 1, 1, 1}, udp4(500, esp))), false},
		"IPv6 ESP":                    {ethFrame(ipPacket(t, a6, b6, 0, header.IPProtoESP, esp)), true},
		"IPv6 ESP, other host":        {ethFrame(ipPacket(t, a6, a6, 0, header.IPProtoESP, esp)), false},
		"IPv6 ESP behind 1":           {ethFrame(extPacket6(t, a6, b6, []uint8{dst}, header.IPProtoESP, esp)), true},
		"IPv6 ESP behind 4":           {ethFrame(extPacket6(t, a6, b6, []uint8{hop, dst, rt, dst}, header.IPProtoESP, esp)), true},
		"IPv6 ESP behind 5":           {ethFrame(extPacket6(t, a6, b6, []uint8{hop, dst, rt, dst, dst}, header.IPProtoESP, esp)), false},
		"IPv6 ESP behind late hop":    {ethFrame(extPacket6(t, a6, b6, []uint8{dst, hop}, header.IPProtoESP, esp)), false},
		"IPv6 ESP behind 136 octets":  {ethFrame(long), false},
		"IPv6 ESP behind a fragment":  {ethFrame(extPacket6(t, a6, b6, []uint8{44}, header.IPProtoESP, esp)), false},
		"IPv6 ESP in UDP behind 2":    {ethFrame(extPacket6(t, a6, b6, []uint8{hop, rt}, header.IPProtoUDP, udp6(4500, esp))), true},
		"IPv6 IKE on 4500 behind 2":   {ethFrame(extPacket6(t, a6, b6, []uint8{hop, rt}, header.IPProtoUDP, udp6(4500, ikeMessage(80)))), false},
		"IPv6 ESP in UDP to 500":      {ethFrame(extPacket6(t, a6, b6, []uint8{dst}, header.IPProtoUDP, udp6(500, esp))), false},
		"IPv6 ESP in UDP, no headers": {ethFrame(ipPacket(t, a6, b6, 0, header.IPProtoUDP, udp6(4501, esp))), true},
	}
}

// TestRingFilter: the classic BPF filter takes exactly the frames it
// should, and agrees with the plain model the fuzzer checks it against.
func TestRingFilter(t *testing.T) {
	vm := filterVM(t)
	for name, c := range filterCases(t) {
		n, err := vm.Run(c.frame)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if took := n > 0; took != c.take || filterModel(c.frame) != c.take {
			t.Errorf("%s: filter takes %v, model %v, want %v", name, took, filterModel(c.frame), c.take)
		}
	}
}

// FuzzRingFilter: on any frame the filter and the model agree.
func FuzzRingFilter(f *testing.F) {
	for _, c := range filterCases(f) {
		f.Add(c.frame)
	}
	vm := filterVM(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		n, err := vm.Run(frame)
		if err != nil {
			t.Fatal(err)
		}
		if took := n > 0; took != filterModel(frame) {
			t.Fatalf("filter takes %v, model %v", took, !took)
		}
	})
}

// TestStripIPv6Ext: a ring's frame with ESP behind extension headers
// parses as the same ESP with the same addresses and traffic class;
// frames the rings do not take are left as they are.
func TestStripIPv6Ext(t *testing.T) {
	a6, b6 := netip.MustParseAddr("2001:db8:1::2"), netip.MustParseAddr("2001:db8:1::1")
	esp := espBody(t, 0x99, 1, 100)
	f := ethFrame(extPacket6(t, a6, b6, []uint8{ipProtoHopByHop, ipProtoRouting, ipProtoDstOpts}, header.IPProtoESP, esp))
	f[ethHeaderLen], f[ethHeaderLen+1] = 0x6b, 0x80 // traffic class 0xb8
	m := Message{Buf: make([]byte, 2048)}
	if !parseRingFrame(append(f, 0, 0), &m) || !bytes.Equal(m.Buf[:m.N], esp) || m.Src.Addr() != a6 || m.Dst != b6 || m.TOS != 0xb8 {
		t.Fatalf("ESP behind three headers: %d octets from %s to %s tos %#x", m.N, m.Src, m.Dst, m.TOS)
	}
	u := udpPacket(t, netip.AddrPortFrom(a6, 4500), netip.AddrPortFrom(b6, 4501), 0, esp)[header.IPv6MinimumSize:]
	f = ethFrame(extPacket6(t, a6, b6, []uint8{ipProtoDstOpts}, header.IPProtoUDP, u))
	if !parseRingFrame(f, &m) || !bytes.Equal(m.Buf[:m.N], esp) || m.Src != netip.AddrPortFrom(a6, 4500) || m.DstPort != 4501 {
		t.Fatalf("ESP in UDP behind a header: %d octets from %s to port %d", m.N, m.Src, m.DstPort)
	}
	for name, bad := range map[string][]byte{
		"five headers":      ethFrame(extPacket6(t, a6, b6, []uint8{60, 60, 60, 60, 60}, header.IPProtoESP, esp)),
		"a fragment header": ethFrame(extPacket6(t, a6, b6, []uint8{60, 44}, header.IPProtoESP, esp)),
		"TCP":               ethFrame(extPacket6(t, a6, b6, []uint8{60}, 6, esp)),
		"cut in a header":   ethFrame(extPacket6(t, a6, b6, []uint8{60, 60}, header.IPProtoESP, nil))[:ethHeaderLen+ipv6HeaderLen+12],
	} {
		keep := bytes.Clone(bad)
		if got := stripIPv6Ext(bad); !bytes.Equal(got, keep) {
			t.Errorf("%s: changed", name)
		}
		if parseRingFrame(bad, &m) {
			t.Errorf("%s: parsed", name)
		}
	}
}

// FuzzParseRingFrame: any frame a packet ring could hand over is taken
// apart or refused, never a panic, and what is taken lies in the frame.
func FuzzParseRingFrame(f *testing.F) {
	for _, c := range filterCases(f) {
		f.Add(c.frame)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		m := Message{Buf: make([]byte, 2048)}
		n := len(frame)
		if !parseRingFrame(frame, &m) {
			return
		}
		if m.N > n || !m.Dst.IsValid() || !m.Src.Addr().IsValid() {
			t.Fatalf("parsed %d octets of a %d-octet frame: %+v", m.N, n, m)
		}
	})
}
