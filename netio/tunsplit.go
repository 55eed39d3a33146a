package netio

import (
	"encoding/binary"
	"errors"
	"fmt"

	"ipsecgw/header"
)

// The Linux TUN with IFF_VNET_HDR puts a struct virtio_net_hdr in front
// of every packet, in both directions (include/uapi/linux/virtio_net.h).
// Reading, it describes a super-packet the host left to the TUN to
// segment (TSO, USO) and a checksum it left to fill in; writing, it
// describes a super-packet the coalescer built.
const (
	vnetHdrLen = 10

	vnetNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM: sum from csumStart, store at csumStart+csumOffset

	vnetGSONone  = 0
	vnetGSOTCPv4 = 1
	vnetGSOTCPv6 = 4
	vnetGSOUDPL4 = 5 // USO: UDP segmentation, either family
	vnetGSOECN   = 0x80

	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
	tcpCWR = 0x80

	protoTCP = 6
	protoUDP = 17
)

// vnetHdr is a decoded struct virtio_net_hdr. The TUN uses the host's
// byte order for it (no TUNSETVNETBE/LE is ever set).
type vnetHdr struct {
	flags      uint8
	gsoType    uint8
	hdrLen     uint16
	gsoSize    uint16
	csumStart  uint16
	csumOffset uint16
}

func decodeVnetHdr(b []byte) vnetHdr {
	return vnetHdr{
		flags:      b[0],
		gsoType:    b[1],
		hdrLen:     binary.NativeEndian.Uint16(b[2:]),
		gsoSize:    binary.NativeEndian.Uint16(b[4:]),
		csumStart:  binary.NativeEndian.Uint16(b[6:]),
		csumOffset: binary.NativeEndian.Uint16(b[8:]),
	}
}

func (h vnetHdr) encode(b []byte) {
	b[0], b[1] = h.flags, h.gsoType
	binary.NativeEndian.PutUint16(b[2:], h.hdrLen)
	binary.NativeEndian.PutUint16(b[4:], h.gsoSize)
	binary.NativeEndian.PutUint16(b[6:], h.csumStart)
	binary.NativeEndian.PutUint16(b[8:], h.csumOffset)
}

var (
	// errVnet is wrapped by a Read whose super-packet or virtio-net
	// header does not describe a packet this split can produce; the
	// packet is dropped.
	errVnet = errors.New("netio: TUN packet with an unusable virtio-net header")

	// errTooManySegments: a super-packet would split into more packets
	// than the caller passed buffers for; it is dropped.
	errTooManySegments = errors.New("netio: TUN super-packet has more segments than the read has buffers")
)

// splitPacket turns one packet read from the TUN, in (without its
// virtio-net header, which h is), into the packets it stands for, each at
// bufs[i][offset:], its length in sizes[i], and returns how many.
//
// A packet without segmentation is copied as it is, its checksum filled
// in when the header asks. A TSO/USO super-packet becomes one packet per
// gsoSize octets of payload, each with its own IP header (IPv4 total
// length, identification counting up, header checksum; IPv6 payload
// length), transport header (TCP sequence number, FIN and PSH only on the
// last, CWR only on the first; UDP length) and transport checksum, which
// is summed right after the copy while the octets are in cache.
//
// in may itself be bufs[0][offset:offset+len(in)] (Read reads there when
// the buffer is large enough): then the first packet is made in place,
// and last, after the others have copied the headers they share with it.
func splitPacket(in []byte, h vnetHdr, bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(bufs) == 0 {
		return 0, errTooManySegments
	}
	inPlace := len(bufs[0]) > offset && len(in) > 0 && &bufs[0][offset] == &in[0]
	if h.gsoType == vnetGSONone {
		if h.flags&vnetNeedsCsum != 0 {
			at := int(h.csumStart) + int(h.csumOffset)
			if int(h.csumStart) > len(in) || at+2 > len(in) {
				return 0, fmt.Errorf("%w: checksum at %d+%d of a %d-octet packet", errVnet, h.csumStart, h.csumOffset, len(in))
			}
			// The field holds the pseudo-header's sum, which the
			// checksum includes.
			initial := binary.BigEndian.Uint16(in[at:])
			in[at], in[at+1] = 0, 0
			binary.BigEndian.PutUint16(in[at:], ^header.PartialChecksum(in[h.csumStart:], initial))
		}
		if !inPlace {
			if len(bufs[0]) < offset || len(bufs[0])-offset < len(in) {
				return 0, tooSmall(len(in), len(bufs[0]), offset)
			}
			copy(bufs[0][offset:], in)
		}
		sizes[0] = len(in)
		return 1, nil
	}
	l, err := parseGSO(in, h)
	if err != nil {
		return 0, err
	}
	l.sumHeaders(in)
	payload := len(in) - l.hdrLen
	n := (payload + l.gsoSize - 1) / l.gsoSize
	if n > len(bufs) || n > len(sizes) {
		return 0, fmt.Errorf("%w: %d segments, %d buffers", errTooManySegments, n, len(bufs))
	}
	for i := range n {
		end := min(l.hdrLen+(i+1)*l.gsoSize, len(in))
		if need := l.hdrLen + end - (l.hdrLen + i*l.gsoSize); len(bufs[i]) < offset || len(bufs[i])-offset < need {
			return 0, tooSmall(need, len(bufs[i]), offset)
		}
	}
	// Backwards, so that the headers of in are intact until the last
	// (first) segment when it is made in place.
	for i := n - 1; i >= 0; i-- {
		start := l.hdrLen + i*l.gsoSize
		end := min(start+l.gsoSize, len(in))
		out := bufs[i][offset:]
		if i == 0 && inPlace {
			sizes[0] = l.segment(in, out, 0, start, end, false)
		} else {
			sizes[i] = l.segment(in, out, i, start, end, true)
		}
	}
	return n, nil
}

// gsoLayout is a validated super-packet's geometry.
type gsoLayout struct {
	v6      bool
	proto   uint8
	ipLen   int // IP header, extension headers included (csumStart)
	hdrLen  int // IP and transport header
	gsoSize int
	// ipSum and thSum are the partial checksums of the super-packet's
	// IPv4 header and transport header without the fields that differ
	// from segment to segment (sumHeaders).
	ipSum, thSum uint16
}

// sumHeaders sums the headers that every segment shares, once: each
// segment's checksums then add only what is its own (lengths,
// identification, sequence number, flags) as numbers. Summing a
// segment's headers where they were just written made the CPU wait for
// those stores (a store of the copy or of a field, then a load of 8
// octets across it: the checksum's short sums took longer than its long
// one, in bench/throughput's profile).
func (l *gsoLayout) sumHeaders(in []byte) {
	var h [60]byte // the longest IPv4 or TCP header
	if !l.v6 {
		n := copy(h[:], in[:l.ipLen])
		h[2], h[3], h[4], h[5], h[10], h[11] = 0, 0, 0, 0, 0, 0 // total length, identification, checksum
		l.ipSum = header.PartialChecksum(h[:n], 0)
	}
	th := h[:copy(h[:], in[l.ipLen:l.hdrLen])]
	if l.proto == protoTCP {
		clear(th[4:8])        // sequence number
		th[13] = 0            // flags
		th[16], th[17] = 0, 0 // checksum
	} else {
		clear(th[4:8]) // length and checksum
	}
	l.thSum = header.PartialChecksum(th, 0)
}

// parseGSO checks the header against the packet. The kernel's hdrLen is
// not used: on the forwarding path it can cover the whole first segment
// (skb_headlen), so the transport header's own length is taken instead.
func parseGSO(in []byte, h vnetHdr) (gsoLayout, error) {
	l := gsoLayout{ipLen: int(h.csumStart), gsoSize: int(h.gsoSize)}
	bad := func(what string) (gsoLayout, error) {
		return gsoLayout{}, fmt.Errorf("%w: GSO type %#x, %s (%d octets)", errVnet, h.gsoType, what, len(in))
	}
	if len(in) == 0 {
		return bad("empty packet")
	}
	switch in[0] >> 4 {
	case 4:
		if len(in) < 20 || int(in[0]&0x0f)*4 != l.ipLen || l.ipLen < 20 {
			return bad("IPv4 header length differs from the checksum start")
		}
		if int(binary.BigEndian.Uint16(in[2:])) != len(in) {
			return bad("IPv4 total length differs from the packet's")
		}
	case 6:
		l.v6 = true
		if l.ipLen < 40 || len(in) < 40 || int(binary.BigEndian.Uint16(in[4:]))+40 != len(in) {
			return bad("IPv6 payload length differs from the packet's")
		}
	default:
		return bad("not IPv4 or IPv6")
	}
	switch h.gsoType &^ vnetGSOECN {
	case vnetGSOTCPv4, vnetGSOTCPv6:
		if (h.gsoType&^vnetGSOECN == vnetGSOTCPv6) != l.v6 {
			return bad("TCP GSO type of the other IP version")
		}
		l.proto = protoTCP
		if h.csumOffset != 16 || l.ipLen+20 > len(in) {
			return bad("no room for the TCP header")
		}
		l.hdrLen = l.ipLen + int(in[l.ipLen+12]>>4)*4
		if l.hdrLen < l.ipLen+20 {
			return bad("TCP data offset below 5")
		}
	case vnetGSOUDPL4:
		l.proto = protoUDP
		if h.csumOffset != 6 {
			return bad("UDP checksum not at offset 6")
		}
		l.hdrLen = l.ipLen + 8
	default:
		return bad("unknown GSO type")
	}
	if !l.v6 && in[9] != l.proto {
		return bad("IPv4 protocol differs from the GSO type")
	}
	if l.hdrLen >= len(in) || l.gsoSize == 0 {
		return bad("no payload or no segment size")
	}
	return l, nil
}

// segment writes segment i (payload in[start:end]) to out and returns its
// length. With copyAll false out is in and the payload is already there.
func (l gsoLayout) segment(in, out []byte, i, start, end int, copyAll bool) int {
	size := l.hdrLen + end - start
	if copyAll {
		copy(out[:l.hdrLen], in[:l.hdrLen])
		copy(out[l.hdrLen:size], in[start:end])
	}
	// The addresses are read from in, which no store of this segment
	// touches (see sumHeaders).
	var addrs []byte
	if l.v6 {
		binary.BigEndian.PutUint16(out[4:], uint16(size-40))
		addrs = in[8:40]
	} else {
		id := binary.BigEndian.Uint16(in[4:]) + uint16(i)
		binary.BigEndian.PutUint16(out[2:], uint16(size))
		binary.BigEndian.PutUint16(out[4:], id)
		binary.BigEndian.PutUint16(out[10:], ^header.CombineChecksums(header.CombineChecksums(l.ipSum, uint16(size)), id))
		addrs = in[12:20]
	}
	th := out[l.ipLen:size]
	hs := header.CombineChecksums(l.thSum, header.PseudoHeaderChecksumOctets(l.proto, addrs, uint32(len(th))))
	if l.proto == protoTCP {
		seq := binary.BigEndian.Uint32(in[l.ipLen+4:]) + uint32(i*l.gsoSize)
		binary.BigEndian.PutUint32(th[4:], seq)
		flags := in[l.ipLen+13]
		if end != len(in) {
			flags &^= tcpFIN | tcpPSH
		}
		if i > 0 {
			flags &^= tcpCWR
		}
		th[13] = flags
		th[16], th[17] = 0, 0
		hs = header.CombineChecksums(header.CombineChecksums(hs, uint16(seq>>16)), uint16(seq))
		hs = header.CombineChecksums(hs, uint16(flags))
	} else {
		binary.BigEndian.PutUint16(th[4:], uint16(len(th)))
		th[6], th[7] = 0, 0
		hs = header.CombineChecksums(hs, uint16(len(th)))
	}
	// The payload is summed right after the copy, while it is in cache;
	// the transport header is an even number of octets, so the payload
	// sums in phase after it.
	c := ^header.PartialChecksum(out[l.hdrLen:size], hs)
	if l.proto == protoUDP && c == 0 {
		c = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	at := 16
	if l.proto == protoUDP {
		at = 6
	}
	binary.BigEndian.PutUint16(th[at:], c)
	return size
}
