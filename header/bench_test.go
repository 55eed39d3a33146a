package header

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"testing"
)

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

var sumSink uint64

// BenchmarkChecksum compares PartialChecksum with wireguard-go's shape of
// the same sum on the TUN's 1408-octet segment and a 64 KiB super-packet,
// in the same run: the machine is shared, so only the ratio means much.
// PartialChecksum takes whichever path this CPU has (sumBlocks with AVX2);
// the generic path runs in every build.
func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{1408, 65535} {
		p := pattern(n)
		b.Run(fmt.Sprintf("PartialChecksum/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				sumSink += uint64(PartialChecksum(p, 0))
			}
		})
		b.Run(fmt.Sprintf("generic/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			forEachSumPath(func(path string) {
				if path != "generic" {
					return
				}
				for b.Loop() {
					sumSink += uint64(PartialChecksum(p, 0))
				}
			})
		})
		b.Run(fmt.Sprintf("wireguard-go-shape/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				sumSink += sumAdd64Native(p, 0)
			}
		})
	}
}

// BenchmarkPseudoHeaderChecksum: the pseudo-header's sum from
// netip.Addr values and from the octets of an IP header, as the TUN's
// segment split takes it for every segment.
func BenchmarkPseudoHeaderChecksum(b *testing.B) {
	for _, c := range []struct {
		name     string
		src, dst netip.Addr
	}{{"IPv4", hostA4, hostB4}, {"IPv6", hostA6, hostB6}} {
		addrs := append(c.src.AsSlice(), c.dst.AsSlice()...)
		b.Run("Addr/"+c.name, func(b *testing.B) {
			for b.Loop() {
				sumSink += uint64(PseudoHeaderChecksum(IPProtoTCP, c.src, c.dst, uint32(sumSink&0xff)))
			}
		})
		b.Run("Octets/"+c.name, func(b *testing.B) {
			for b.Loop() {
				sumSink += uint64(PseudoHeaderChecksumOctets(IPProtoTCP, addrs, uint32(sumSink&0xff)))
			}
		})
	}
}

// sumAdd64Native is the shape of wireguard-go's checksumNoFold, for the
// benchmark only: native-endian 64-bit words, a carry chain unrolled by
// 16 words, the carry added back every 128 octets. Not folded.
func sumAdd64Native(b []byte, ac uint64) uint64 {
	var c uint64
	for len(b) >= 128 {
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[0:8]), 0)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[8:16]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[16:24]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[24:32]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[32:40]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[40:48]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[48:56]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[56:64]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[64:72]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[72:80]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[80:88]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[88:96]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[96:104]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[104:112]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[112:120]), c)
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b[120:128]), c)
		ac += c
		b = b[128:]
	}
	c = 0
	for len(b) >= 8 {
		ac, c = bits.Add64(ac, binary.NativeEndian.Uint64(b), c)
		b = b[8:]
	}
	return ac + c
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
