package netio

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"testing"

	"ipsecgw/header"
)

// sum16 must agree with header.PartialChecksum (a separate, big-endian
// implementation) at every length and alignment, with any initial value.
func TestSum16MatchesPartialChecksum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 3000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= 300; n++ {
		for _, off := range []int{0, 1, 2, 3, 7} {
			b := buf[off : off+n]
			initial := uint16(r.Uint32())
			if got, want := sum16(b, initial), header.PartialChecksum(b, initial); got != want {
				t.Fatalf("sum16 of %d octets at offset %d, initial %#04x = %#04x; want %#04x", n, off, initial, got, want)
			}
		}
	}
	// All ones: the sum that carries the most.
	ones := make([]byte, 2000)
	for i := range ones {
		ones[i] = 0xff
	}
	for _, n := range []int{1, 2, 63, 64, 65, 1999, 2000} {
		if got, want := sum16(ones[:n], 0xffff), header.PartialChecksum(ones[:n], 0xffff); got != want {
			t.Errorf("sum16 of %d octets of 0xff = %#04x; want %#04x", n, got, want)
		}
	}
}

func TestPseudoSumMatchesHeader(t *testing.T) {
	for _, c := range []struct{ src, dst string }{
		{"198.51.100.1", "203.0.113.254"},
		{"255.255.255.255", "255.255.255.255"},
		{"2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
	} {
		src, dst := netip.MustParseAddr(c.src), netip.MustParseAddr(c.dst)
		for _, length := range []int{0, 8, 1480, 65535} {
			for _, proto := range []uint8{protoTCP, protoUDP} {
				got := pseudoSum(proto, src.AsSlice(), dst.AsSlice(), length)
				if want := header.PseudoHeaderChecksum(proto, src, dst, uint32(length)); got != want {
					t.Errorf("pseudoSum(%d, %s, %s, %d) = %#04x; want %#04x", proto, src, dst, length, got, want)
				}
			}
		}
	}
}

// sumAdd64Native is the shape of wireguard-go's checksumNoFold, for the
// benchmark: native-endian 64-bit words, a carry chain unrolled by 16
// words, the carry added back every 128 octets.
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

var sumSink uint64

// BenchmarkSum compares the TUN's checksum (sumLE) with the checksum of
// package header and with wireguard-go's shape, on a 1408-octet segment.
func BenchmarkSum(b *testing.B) {
	p := pattern(1408, 3)
	b.Run("sumLE", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			sumSink += sumLE(p, 0)
		}
	})
	b.Run("header.PartialChecksum", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			sumSink += uint64(header.PartialChecksum(p, 0))
		}
	})
	b.Run("wireguard-go-shape", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			sumSink += sumAdd64Native(p, 0)
		}
	})
}
