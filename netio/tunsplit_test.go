package netio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"ipsecgw/header"
)

// splitCases are super-packets of every kind the TUN hands over: TSO for
// both families, USO for both, an even and an odd last segment.
func splitCases(t testing.TB) map[string][]seg {
	udp := func(s []seg) []seg {
		for i := range s {
			s[i].udp = true
		}
		return s
	}
	return map[string][]seg{
		"TCPv4":         flow(t, addrA4, addrB4, 5, 1388, 700),
		"TCPv4 odd":     flow(t, addrA4, addrB4, 3, 1000, 333),
		"TCPv6":         flow(t, addrA6, addrB6, 4, 1368, 0),
		"UDPv4":         udp(flow(t, addrA4, addrB4, 9, 1000, 500)),
		"UDPv6 odd":     udp(flow(t, addrA6, addrB6, 3, 1200, 1)),
		"TCPv4 one seg": flow(t, addrA4, addrB4, 1, 1388, 0),
	}
}

// TestSplitPacket: a super-packet splits into exactly the packets the
// host's own segmentation would have sent, checksums and all, whether
// it was read into a separate buffer or into the first output buffer.
func TestSplitPacket(t *testing.T) {
	for name, segs := range splitCases(t) {
		for _, inPlace := range []bool{false, true} {
			const offset = 64
			p, h := superPacket(t, segs)
			bufs, sizes := tunBufs(len(segs)+2, offset, 65535)
			in := p
			if inPlace {
				in = bufs[0][offset : offset+len(p)]
				copy(in, p)
			}
			n, err := splitPacket(in, h, bufs, sizes, offset)
			if err != nil || n != len(segs) {
				t.Fatalf("%s (in place %v): split = %d, %v; want %d segments", name, inPlace, n, err, len(segs))
			}
			for i, s := range segs {
				got, want := bufs[i][offset:offset+sizes[i]], s.build(t)
				if !bytes.Equal(got, want) {
					t.Errorf("%s (in place %v): segment %d differs from what the host would send\n got %x\nwant %x", name, inPlace, i, prefix(got), prefix(want))
				}
			}
		}
	}
}

func prefix(b []byte) []byte { return b[:min(len(b), 64)] }

// A packet without segmentation passes as it is, its checksum filled in
// when the header asks (NEEDS_CSUM, the field holding the pseudo-header
// sum).
func TestSplitPacketNoGSO(t *testing.T) {
	s := seg{src: addrA6, dst: addrB6, sport: 53, dport: 5353, udp: true, payload: pattern(99, 4)}
	want := s.build(t)
	p := bytes.Clone(want)
	binary.BigEndian.PutUint16(p[46:], header.PseudoHeaderChecksum(protoUDP, addrA6, addrB6, uint32(len(p)-40)))
	bufs, sizes := tunBufs(2, 16, 2000)
	n, err := splitPacket(p, vnetHdr{flags: vnetNeedsCsum, csumStart: 40, csumOffset: 6}, bufs, sizes, 16)
	if err != nil || n != 1 || !bytes.Equal(bufs[0][16:16+sizes[0]], want) {
		t.Fatalf("NEEDS_CSUM packet: %d, %v, %x; want %x", n, err, bufs[0][16:16+sizes[0]], want)
	}
	n, err = splitPacket(bytes.Clone(want), vnetHdr{}, bufs, sizes, 16)
	if err != nil || n != 1 || !bytes.Equal(bufs[0][16:16+sizes[0]], want) {
		t.Fatalf("plain packet: %d, %v; want it unchanged", n, err)
	}
}

// Headers that do not describe the packet, too few or too short buffers:
// an error, nothing split, no panic.
func TestSplitPacketRefuses(t *testing.T) {
	segs := flow(t, addrA4, addrB4, 4, 1000, 0)
	good, gh := superPacket(t, segs)
	v6, v6h := superPacket(t, flow(t, addrA6, addrB6, 2, 1000, 0))
	cases := []struct {
		name   string
		p      []byte
		h      vnetHdr
		bufs   int
		size   int
		target error
	}{
		{"too few buffers", good, gh, 3, 2000, errTooManySegments},
		{"short buffers", good, gh, 4, 1000, ErrShortBuffer},
		{"TCPv6 type on IPv4", good, vnetHdr{flags: 1, gsoType: vnetGSOTCPv6, gsoSize: 1000, csumStart: 20, csumOffset: 16}, 8, 2000, errVnet},
		{"TCPv4 type on IPv6", v6, vnetHdr{flags: 1, gsoType: vnetGSOTCPv4, gsoSize: 1000, csumStart: 40, csumOffset: 16}, 8, 2000, errVnet},
		{"UDP type on TCP", good, vnetHdr{flags: 1, gsoType: vnetGSOUDPL4, gsoSize: 1000, csumStart: 20, csumOffset: 6}, 8, 2000, errVnet},
		{"checksum start in the IP header", good, vnetHdr{flags: 1, gsoType: vnetGSOTCPv4, gsoSize: 1000, csumStart: 16, csumOffset: 16}, 8, 2000, errVnet},
		{"zero segment size", good, vnetHdr{flags: 1, gsoType: vnetGSOTCPv4, csumStart: 20, csumOffset: 16}, 8, 2000, errVnet},
		{"unknown GSO type", good, vnetHdr{flags: 1, gsoType: 3, gsoSize: 1000, csumStart: 20, csumOffset: 16}, 8, 2000, errVnet},
		{"truncated", good[:1000], gh, 8, 2000, errVnet},
		{"IPv6 truncated", v6[:500], v6h, 8, 2000, errVnet},
		{"checksum beyond the packet", good[:100], vnetHdr{flags: 1, csumStart: 90, csumOffset: 16}, 8, 2000, errVnet},
		{"empty", nil, gh, 8, 2000, errVnet},
	}
	for _, c := range cases {
		bufs, sizes := tunBufs(c.bufs, 0, c.size)
		n, err := splitPacket(bytes.Clone(c.p), c.h, bufs, sizes, 0)
		if n != 0 || !errors.Is(err, c.target) {
			t.Errorf("%s: split = %d, %v; want 0 and %v", c.name, n, err, c.target)
		}
	}
}

// FuzzSplitPacket: any packet with any virtio-net header either fails or
// splits into packets whose payloads are the input's in order, each with
// valid IP and transport checksums when segmented.
func FuzzSplitPacket(f *testing.F) {
	for _, segs := range splitCases(f) {
		p, h := superPacket(f, segs)
		f.Add(p, h.flags, h.gsoType, h.gsoSize, h.csumStart, h.csumOffset)
	}
	// One set of buffers for every input: a fuzz worker runs them one
	// after another.
	bufs, sizes := tunBufs(IdealBatchSize, 10, 65535)
	f.Fuzz(func(t *testing.T, p []byte, flags, gsoType uint8, gsoSize, csumStart, csumOffset uint16) {
		h := vnetHdr{flags: flags, gsoType: gsoType, hdrLen: uint16(len(p)), gsoSize: gsoSize, csumStart: csumStart, csumOffset: csumOffset}
		orig := bytes.Clone(p)
		n, err := splitPacket(p, h, bufs, sizes, 10)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with %d packets", err, n)
			}
			return
		}
		if gsoType == vnetGSONone {
			if n != 1 || sizes[0] != len(p) {
				t.Fatalf("unsegmented packet of %d octets came out as %d packets", len(p), n)
			}
			return
		}
		l, _ := parseGSO(orig, h)
		var payload []byte
		for i := range n {
			out := bufs[i][10 : 10+sizes[i]]
			if l.v6 && (!bytes.Equal(out[:4], orig[:4]) || !bytes.Equal(out[6:l.ipLen], orig[6:l.ipLen])) {
				t.Fatalf("segment %d: IPv6 header changed beyond its payload length", i)
			}
			if !l.v6 && header.PartialChecksum(out[:l.ipLen], 0) != 0xffff {
				t.Fatalf("segment %d: bad IPv4 header checksum", i)
			}
			var addrs []byte
			if l.v6 {
				addrs = out[8:40]
			} else {
				addrs = out[12:20]
			}
			if header.PartialChecksum(out[l.ipLen:], header.PseudoHeaderChecksumOctets(l.proto, addrs, uint32(len(out)-l.ipLen))) != 0xffff {
				t.Fatalf("segment %d: bad transport checksum", i)
			}
			if i < n-1 && len(out)-l.hdrLen != l.gsoSize {
				t.Fatalf("segment %d of %d carries %d octets; want %d", i, n, len(out)-l.hdrLen, l.gsoSize)
			}
			payload = append(payload, out[l.hdrLen:]...)
		}
		if !bytes.Equal(payload, orig[l.hdrLen:]) {
			t.Fatalf("segments carry other octets than the super-packet")
		}
	})
}
