package header

import "testing"

// The hot helpers run once or more per packet; each benchmark reports
// allocations, which must stay at zero.

func BenchmarkPartialChecksum1500(b *testing.B) {
	buf := pattern(1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	var s uint16
	for b.Loop() {
		s = PartialChecksum(buf, s)
	}
}

func BenchmarkParseIPv4(b *testing.B) {
	pkt := []byte(udp4Packet(b, 4500, 4500, pattern(1400)))
	b.ReportAllocs()
	for b.Loop() {
		h, ok := ParseIPv4(pkt)
		if !ok || !h.ChecksumValid() {
			b.Fatal("refused")
		}
	}
}

func BenchmarkUDPChecksumIPv6_1400(b *testing.B) {
	u := UDP(udpSegment(b, hostA6, hostB6, 4500, 4500, pattern(1392)))
	b.ReportAllocs()
	b.SetBytes(int64(len(u)))
	for b.Loop() {
		u.UpdateChecksum(hostA6, hostB6)
	}
}

func BenchmarkTrafficClassDecapsulate(b *testing.B) {
	outer := []byte(udp4Packet(b, 1, 2, nil))
	inner := []byte(udp6Packet(b, 1, 2, nil))
	SetTrafficClass(outer, 0xbb) // EF, CE
	SetTrafficClass(inner, 0x02) // ECT(0)
	b.ReportAllocs()
	for b.Loop() {
		o, _ := TrafficClass(outer)
		i, _ := TrafficClass(inner)
		tc, ok := DecapsulateTrafficClass(o, i, true)
		if !ok || !SetTrafficClass(inner, tc) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkFiveTupleIPv4(b *testing.B) {
	pkt := []byte(udp4Packet(b, 40000, 443, pattern(100)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseFiveTuple(pkt); !ok {
			b.Fatal("refused")
		}
	}
}

func BenchmarkFiveTupleIPv6ExtensionHeaders(b *testing.B) {
	payload := append([]byte{IPProtoDestOpts}, hbh8...)
	payload = append(payload, IPProtoFragment)
	payload = append(payload, dst16...)
	payload = append(payload, IPProtoUDP)
	payload = append(payload, fragFirst...)
	payload = append(payload, udpHeader...)
	pkt := []byte(ipv6Packet(b, IPv6Fields{NextHeader: IPProtoHopByHop, Source: hostA6, Destination: hostB6}, payload))
	b.ReportAllocs()
	for b.Loop() {
		if t, ok := ParseFiveTuple(pkt); !ok || t.Ports != PortsTransport {
			b.Fatal("refused")
		}
	}
}

func BenchmarkFlowSourcePort(b *testing.B) {
	pkt := []byte(udp6Packet(b, 40000, 443, pattern(100)))
	b.ReportAllocs()
	for b.Loop() {
		if FlowSourcePort(FlowHash(pkt, 1)) < FlowPortFirst {
			b.Fatal("port out of range")
		}
	}
}

func BenchmarkFragment1500To576(b *testing.B) {
	pkt := udp4Packet(b, 4500, 4500, pattern(1472))
	bufs := [3][]byte{make([]byte, 576), make([]byte, 576), make([]byte, 576)}
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		fr, err := NewIPv4Fragmenter(pkt, 576)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; fr.More(); i++ {
			if _, err := fr.Next(bufs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkBuildFragmentationNeeded(b *testing.B) {
	inv := udp4Packet(b, 40000, 53, pattern(1472))
	inv.SetDontFragment(true)
	dst := make([]byte, 576)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildFragmentationNeeded(dst, inv, gw4, 1400); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildPacketTooBig(b *testing.B) {
	inv := udp6Packet(b, 40000, 443, pattern(1452))
	dst := make([]byte, 1280)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildPacketTooBig(dst, inv, gw6, 1400); err != nil {
			b.Fatal(err)
		}
	}
}
