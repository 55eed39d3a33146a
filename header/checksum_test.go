package header

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func TestPartialChecksumRFC1071Example(t *testing.T) {
	// RFC 1071 §3: 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded ddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := PartialChecksum(b, 0); got != 0xddf2 {
		t.Errorf("PartialChecksum = %#04x, want 0xddf2", got)
	}
	// The same octets summed in two even pieces.
	if got := PartialChecksum(b[4:], PartialChecksum(b[:4], 0)); got != 0xddf2 {
		t.Errorf("PartialChecksum in pieces = %#04x, want 0xddf2", got)
	}
	// An odd length pads on the right: 0001 + f203 + f4f5 + f600 =
	// 2dcf9, folded dcfb.
	if got := PartialChecksum(b[:7], 0); got != 0xdcfb {
		t.Errorf("PartialChecksum of 7 octets = %#04x, want 0xdcfb", got)
	}
}

// TestPartialChecksumMatchesReference compares both sum paths with the
// obvious 16-bit sum at every length up to 300 octets and at lengths
// around the assembly's block size and beyond 16-bit counts, from
// aligned and unaligned starts, with random initial values, whole and in
// two pieces.
func TestPartialChecksumMatchesReference(t *testing.T) {
	if paths := sumPaths(); len(paths) < 2 {
		t.Logf("only the %v path runs on this CPU", paths)
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<17+128)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	ones := bytes.Repeat([]byte{0xff}, len(buf))
	var lengths []int
	for n := range 301 {
		lengths = append(lengths, n)
	}
	for _, n := range []int{511, 512, 513, 1399, 1400, 1500, 9001, 65535, 65536, 1 << 17} {
		lengths = append(lengths, n, n+r.IntN(63))
	}
	forEachSumPath(func(path string) {
		for _, n := range lengths {
			for _, off := range []int{0, 1, 2, 3, 7, 8, 63} {
				for _, src := range [][]byte{buf, ones} {
					b := src[off : off+n]
					initial := uint16(r.Uint32())
					// Both sides keep 0x0000 for a zero sum and
					// 0xffff for any other multiple of 0xffff, so
					// even the choice between the two zeros agrees.
					want := CombineChecksums(referenceSum(b), initial)
					if got := PartialChecksum(b, initial); got != want {
						t.Fatalf("%s: %d octets at offset %d, initial %#04x: PartialChecksum = %#04x, reference %#04x", path, n, off, initial, got, want)
					}
					split := (n / 2) &^ 1
					if got := PartialChecksum(b[split:], PartialChecksum(b[:split], initial)); got != want {
						t.Fatalf("%s: %d octets at offset %d split at %d: %#04x, reference %#04x", path, n, off, split, got, want)
					}
				}
			}
		}
	})
}

// TestPartialChecksumZeros checks the two zeros of ones' complement:
// all-zero input sums to 0x0000, a nonzero multiple of 0xffff to 0xffff,
// on every path and at lengths that reach the assembly.
func TestPartialChecksumZeros(t *testing.T) {
	forEachSumPath(func(path string) {
		for _, n := range []int{0, 2, 64, 128, 1500} {
			if got := PartialChecksum(make([]byte, n), 0); got != 0 {
				t.Errorf("%s: %d zero octets sum to %#04x, want 0", path, n, got)
			}
		}
		for _, n := range []int{2, 64, 128, 1500} {
			b := make([]byte, n)
			b[0], b[n-1] = 0xff, 0xff
			if got := PartialChecksum(b, 0); got != 0xffff {
				t.Errorf("%s: %d octets summing to 0xffff give %#04x", path, n, got)
			}
		}
	})
}

// FuzzChecksum: for any input, start and initial value, every sum path
// agrees with the reference sum.
func FuzzChecksum(f *testing.F) {
	f.Add([]byte{}, uint8(0), uint16(0))
	f.Add([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, uint8(0), uint16(0))
	f.Add(bytes.Repeat([]byte{0xff}, 257), uint8(3), uint16(0xffff))
	f.Fuzz(func(t *testing.T, b []byte, off uint8, initial uint16) {
		b = b[min(int(off), len(b)):]
		want := CombineChecksums(referenceSum(b), initial)
		forEachSumPath(func(path string) {
			if got := PartialChecksum(b, initial); got != want {
				t.Fatalf("%s: %d octets, initial %#04x: PartialChecksum = %#04x, reference %#04x", path, len(b), initial, got, want)
			}
		})
	})
}

func TestCombineChecksums(t *testing.T) {
	for _, c := range []struct{ a, b, want uint16 }{
		{0x0001, 0x0002, 0x0003},
		{0xffff, 0x0001, 0x0001}, // end-around carry
		{0x8000, 0x8000, 0x0001},
		{0xfffe, 0x0001, 0xffff},
	} {
		if got := CombineChecksums(c.a, c.b); got != c.want {
			t.Errorf("CombineChecksums(%#04x, %#04x) = %#04x, want %#04x", c.a, c.b, got, c.want)
		}
	}
}

func TestAdjustChecksumMatchesRecompute(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		hdr := make([]byte, 20)
		for i := range hdr {
			hdr[i] = byte(r.Uint32())
		}
		binary.BigEndian.PutUint16(hdr[10:], 0)
		binary.BigEndian.PutUint16(hdr[10:], ^PartialChecksum(hdr, 0))
		w := 2 * r.IntN(10)
		if w == 10 {
			continue // the checksum word itself
		}
		old := binary.BigEndian.Uint16(hdr[w:])
		neu := uint16(r.Uint32())
		binary.BigEndian.PutUint16(hdr[w:], neu)
		adjusted := AdjustChecksum(binary.BigEndian.Uint16(hdr[10:]), old, neu)
		binary.BigEndian.PutUint16(hdr[10:], adjusted)
		if s := PartialChecksum(hdr, 0); s != 0xffff {
			t.Fatalf("after adjusting word %d %#04x->%#04x the header sums to %#04x, want 0xffff", w, old, neu, s)
		}
	}
}

func TestPseudoHeaderChecksumLayouts(t *testing.T) {
	// IPv4 layout (RFC 768): src, dst, zero, protocol, UDP length.
	v4 := []byte{192, 0, 2, 1, 198, 51, 100, 2, 0, 17, 0x05, 0xdc}
	if got, want := PseudoHeaderChecksum(IPProtoUDP, hostA4, hostB4, 1500), PartialChecksum(v4, 0); got != want {
		t.Errorf("IPv4 pseudo-header sum = %#04x, want %#04x", got, want)
	}
	// IPv6 layout (RFC 8200 §8.1): src, dst, 32-bit length, 3 zeros, next header.
	a, b := hostA6.As16(), hostB6.As16()
	v6 := append(append(a[:], b[:]...), 0x00, 0x01, 0x00, 0x10, 0, 0, 0, 58)
	if got, want := PseudoHeaderChecksum(IPProtoICMPv6, hostA6, hostB6, 0x10010), PartialChecksum(v6, 0); got != want {
		t.Errorf("IPv6 pseudo-header sum = %#04x, want %#04x", got, want)
	}
}

// The octets of an IP header's address pair sum as the same addresses
// given as netip.Addr; a zone, no part of the address on the wire, changes
// nothing.
func TestPseudoHeaderChecksumOctets(t *testing.T) {
	for _, c := range []struct{ src, dst string }{
		{"198.51.100.1", "203.0.113.254"},
		{"255.255.255.255", "255.255.255.255"},
		{"2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"fe80::1%eth0", "fe80::2"},
	} {
		src, dst := netip.MustParseAddr(c.src), netip.MustParseAddr(c.dst)
		addrs := append(src.AsSlice(), dst.AsSlice()...)
		for _, length := range []uint32{0, 8, 1480, 65535, 0x10010} {
			for _, proto := range []uint8{IPProtoTCP, IPProtoUDP, IPProtoICMPv6} {
				got := PseudoHeaderChecksumOctets(proto, addrs, length)
				if want := PseudoHeaderChecksum(proto, src, dst, length); got != want {
					t.Errorf("PseudoHeaderChecksumOctets(%d, %s %s, %d) = %#04x; PseudoHeaderChecksum %#04x", proto, src, dst, length, got, want)
				}
				if unzoned := PseudoHeaderChecksum(proto, src.WithZone(""), dst, length); unzoned != got {
					t.Errorf("PseudoHeaderChecksum(%d, %s without its zone, %s, %d) = %#04x; the octets sum to %#04x", proto, src, dst, length, unzoned, got)
				}
			}
		}
	}
}
