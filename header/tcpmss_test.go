package header

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// tcpSeg builds a TCP header with the given flags and options (padded
// with End of Option List to a multiple of 4) and data, with a correct
// checksum for src to dst.
func tcpSeg(src, dst netip.Addr, flags byte, opts, data []byte) []byte {
	hl := tcpMinimumSize + (len(opts)+3)/4*4
	b := make([]byte, hl+len(data))
	binary.BigEndian.PutUint16(b[0:], 40000)
	binary.BigEndian.PutUint16(b[2:], 443)
	binary.BigEndian.PutUint32(b[4:], 0x01020304)
	b[tcpDataOffset] = byte(hl/4) << 4
	b[tcpFlags] = flags
	binary.BigEndian.PutUint16(b[14:], 64240)
	copy(b[tcpMinimumSize:], opts)
	copy(b[hl:], data)
	binary.BigEndian.PutUint16(b[tcpChecksum:], tcpChecksumOf(src, dst, b))
	return b
}

// tcpChecksumOf computes a TCP checksum from scratch, the field taken as 0.
func tcpChecksumOf(src, dst netip.Addr, seg []byte) uint16 {
	c := append([]byte(nil), seg...)
	c[tcpChecksum], c[tcpChecksum+1] = 0, 0
	return ^PartialChecksum(c, PseudoHeaderChecksum(IPProtoTCP, src, dst, uint32(len(c))))
}

func syn4(t *testing.T, flags byte, opts []byte) IPv4 {
	return ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoTCP, Source: hostA4, Destination: hostB4}, tcpSeg(hostA4, hostB4, flags, opts, nil))
}

func mssOf(t *testing.T, seg []byte) uint16 {
	t.Helper()
	for i := tcpMinimumSize; i+3 < len(seg); i++ {
		if seg[i] == tcpOptMSS && seg[i+1] == 4 {
			return binary.BigEndian.Uint16(seg[i+2:])
		}
	}
	t.Fatal("no MSS option")
	return 0
}

var (
	// A Linux SYN's options: MSS 1460, SACK permitted, timestamps, NOP,
	// window scale 7.
	linuxOpts = []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}
	// The MSS after a NOP: its value is at an odd offset.
	oddOpts = []byte{1, 2, 4, 0x23, 0x28, 1, 1, 1}
)

func TestClampTCPMSS(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags byte
		opts  []byte
		limit uint16
		want  uint16 // MSS afterwards
		clamp bool
	}{
		{"SYN lowered", tcpFlagSYN, linuxOpts, 1379, 1379, true},
		{"SYN-ACK lowered", tcpFlagSYN | 0x10, linuxOpts, 1379, 1379, true},
		{"never raised", tcpFlagSYN, linuxOpts, 1500, 1460, false},
		{"equal left", tcpFlagSYN, linuxOpts, 1460, 1460, false},
		{"odd offset", tcpFlagSYN, oddOpts, 1379, 1379, true},
		{"odd offset, both octets change", tcpFlagSYN, oddOpts, 0x01ff, 0x01ff, true},
		{"ACK untouched", 0x10, linuxOpts, 1379, 1460, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v6 := range []bool{false, true} {
				var pkt []byte
				var src, dst netip.Addr
				if v6 {
					src, dst = hostA6, hostB6
					pkt = ipv6Packet(t, IPv6Fields{HopLimit: 64, NextHeader: IPProtoTCP, Source: src, Destination: dst}, tcpSeg(src, dst, tc.flags, tc.opts, []byte("data")))
				} else {
					src, dst = hostA4, hostB4
					pkt = ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoTCP, Source: src, Destination: dst}, tcpSeg(src, dst, tc.flags, tc.opts, []byte("data")))
				}
				before := append([]byte(nil), pkt...)
				if got := ClampTCPMSS(pkt, tc.limit); got != tc.clamp {
					t.Fatalf("v6=%v: ClampTCPMSS = %v, want %v", v6, got, tc.clamp)
				}
				seg, _ := tcpSegment(pkt)
				if m := mssOf(t, seg); m != tc.want {
					t.Errorf("v6=%v: MSS %d, want %d", v6, m, tc.want)
				}
				if got, want := binary.BigEndian.Uint16(seg[tcpChecksum:]), tcpChecksumOf(src, dst, seg); got != want {
					t.Errorf("v6=%v: checksum %#04x, recomputed %#04x", v6, got, want)
				}
				if !tc.clamp && !bytes.Equal(before, pkt) {
					t.Errorf("v6=%v: packet changed without clamping", v6)
				}
			}
		})
	}
}

// TestClampTCPMSSKnownChecksum pins one case to a checksum worked by hand
// from RFC 1624: lowering 0x05b4 to 0x0563 (1379) at an even offset adds
// 0x05b4 - 0x0563 = 0x0051 to the checksum.
func TestClampTCPMSSKnownChecksum(t *testing.T) {
	pkt := syn4(t, tcpFlagSYN, []byte{2, 4, 0x05, 0xb4})
	seg := pkt.Payload()
	before := binary.BigEndian.Uint16(seg[tcpChecksum:])
	if !ClampTCPMSS(pkt, 1379) {
		t.Fatal("not clamped")
	}
	s := uint32(before) + 0x0051
	want := uint16(s&0xffff + s>>16)
	if got := binary.BigEndian.Uint16(seg[tcpChecksum:]); got != want || mssOf(t, seg) != 1379 {
		t.Errorf("checksum %#04x (was %#04x), want %#04x", got, before, want)
	}
}

// TestClampTCPMSSLeavesOthersAlone: what is not a clampable SYN is never
// touched, and malformed options never panic.
func TestClampTCPMSSLeavesOthersAlone(t *testing.T) {
	cases := map[string][]byte{
		"UDP":               udp4Packet(t, 1, 2, []byte{2, 4, 5, 0xb4}),
		"option past end":   syn4(t, tcpFlagSYN, []byte{8, 10, 0, 0}),
		"zero length":       syn4(t, tcpFlagSYN, []byte{3, 0, 2, 4}),
		"MSS length 3":      syn4(t, tcpFlagSYN, []byte{2, 3, 5, 0xb4}),
		"after end of list": syn4(t, tcpFlagSYN, []byte{0, 2, 4, 5, 0xb4, 0, 0, 0}),
		"no options":        syn4(t, tcpFlagSYN, nil),
		"empty":             {},
		"version 5":         {0x50, 0, 0, 20},
	}
	frag := syn4(t, tcpFlagSYN, []byte{2, 4, 5, 0xb4})
	binary.BigEndian.PutUint16(frag[ipv4FlagsOffset:], 1) // offset 8: a non-first fragment
	cases["non-first fragment"] = frag
	short := syn4(t, tcpFlagSYN, []byte{2, 4, 5, 0xb4})
	short.Payload()[tcpDataOffset] = 0xf0 // 60-octet header in a 24-octet segment
	cases["data offset past end"] = short
	for name, pkt := range cases {
		before := append([]byte(nil), pkt...)
		if ClampTCPMSS(pkt, 100) || !bytes.Equal(before, pkt) {
			t.Errorf("%s: changed", name)
		}
	}
	// Every prefix of a good SYN is refused without a panic.
	good := syn4(t, tcpFlagSYN, linuxOpts)
	for n := range len(good) {
		ClampTCPMSS(append([]byte(nil), good[:n]...), 100)
	}
}

// TestClampTCPMSSIPv6ExtensionHeaders: the TCP header is found after a
// Destination Options header.
func TestClampTCPMSSIPv6ExtensionHeaders(t *testing.T) {
	seg := tcpSeg(hostA6, hostB6, tcpFlagSYN, linuxOpts, nil)
	payload := append([]byte{IPProtoTCP, 0, 1, 4, 0, 0, 0, 0}, seg...)
	pkt := ipv6Packet(t, IPv6Fields{HopLimit: 64, NextHeader: IPProtoDestOpts, Source: hostA6, Destination: hostB6}, payload)
	if !ClampTCPMSS(pkt, 1200) {
		t.Fatal("not clamped")
	}
	got := pkt[IPv6MinimumSize+8:]
	if mssOf(t, got) != 1200 || binary.BigEndian.Uint16(got[tcpChecksum:]) != tcpChecksumOf(hostA6, hostB6, got) {
		t.Error("wrong MSS or checksum after extension header")
	}
}

func TestClampTCPMSSAllocatesNothing(t *testing.T) {
	pkt := syn4(t, tcpFlagSYN, linuxOpts)
	if n := testing.AllocsPerRun(100, func() { ClampTCPMSS(pkt, 1300) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// BenchmarkClampTCPMSS is the cost clamping adds to a SYN (lowered each
// time: the value is put back between runs) and to a data segment.
func BenchmarkClampTCPMSS(b *testing.B) {
	syn := syn4ForFuzz(linuxOpts)
	data := syn4ForFuzz(nil)
	data[IPv4MinimumSize+tcpFlags] = 0x10
	b.Run("syn", func(b *testing.B) {
		for range b.N {
			ClampTCPMSS(syn, 1379)
			syn[IPv4MinimumSize+22], syn[IPv4MinimumSize+23] = 0x05, 0xb4
		}
	})
	b.Run("ack", func(b *testing.B) {
		for range b.N {
			ClampTCPMSS(data, 1379)
		}
	})
}

// FuzzClampTCPMSS: any input is either left alone or changed only in the
// two MSS octets and the checksum, lowered to the limit, with the checksum
// still matching a recomputation when it matched before.
func FuzzClampTCPMSS(f *testing.F) {
	f.Add([]byte(syn4ForFuzz(linuxOpts)), uint16(1379))
	f.Add([]byte(syn4ForFuzz(oddOpts)), uint16(536))
	f.Add([]byte{0x45, 0, 0, 20}, uint16(1))
	f.Fuzz(func(t *testing.T, pkt []byte, limit uint16) {
		before := append([]byte(nil), pkt...)
		if !ClampTCPMSS(pkt, limit) {
			if !bytes.Equal(before, pkt) {
				t.Fatal("changed but reported no change")
			}
			return
		}
		diff := 0
		for i := range pkt {
			if pkt[i] != before[i] {
				diff++
			}
		}
		if diff > 4 {
			t.Fatalf("%d octets changed", diff)
		}
		seg, ok := tcpSegment(pkt)
		if !ok {
			t.Fatal("clamped a packet that is not TCP")
		}
		var src, dst netip.Addr
		if pkt[0]>>4 == 4 {
			h := IPv4(pkt[:binary.BigEndian.Uint16(pkt[2:])])
			src, dst = h.Source(), h.Destination()
		} else {
			h := IPv6(pkt)
			src, dst = h.Source(), h.Destination()
		}
		oldSeg, _ := tcpSegment(before)
		if binary.BigEndian.Uint16(oldSeg[tcpChecksum:]) == tcpChecksumOf(src, dst, oldSeg) &&
			binary.BigEndian.Uint16(seg[tcpChecksum:]) != tcpChecksumOf(src, dst, seg) {
			t.Fatal("a good checksum went bad")
		}
	})
}

func syn4ForFuzz(opts []byte) []byte {
	seg := tcpSeg(hostA4, hostB4, tcpFlagSYN, opts, nil)
	b := make([]byte, IPv4MinimumSize+len(seg))
	copy(b[IPv4MinimumSize:], seg)
	EncodeIPv4(b, IPv4Fields{TotalLength: uint16(len(b)), TTL: 64, Protocol: IPProtoTCP, Source: hostA4, Destination: hostB4})
	return b
}
