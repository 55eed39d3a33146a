package header

import (
	"encoding/binary"
	"math/rand/v2"
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

func TestPartialChecksumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if n%5 == 0 {
			// All ones stresses the carries.
			for i := range b {
				b[i] = 0xff
			}
		}
		// Both fold the same way, so even the choice between the two
		// zeros (0x0000 only for all-zero input, 0xffff otherwise)
		// agrees.
		want := referenceSum(b)
		if got := PartialChecksum(b, 0); got != want {
			t.Fatalf("len %d: PartialChecksum = %#04x, reference %#04x", n, got, want)
		}
		split := (n / 2) &^ 1
		if got := PartialChecksum(b[split:], PartialChecksum(b[:split], 0)); got != want {
			t.Fatalf("len %d split at %d: %#04x, reference %#04x", n, split, got, want)
		}
	}
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
