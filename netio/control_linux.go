package netio

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Control messages (cmsg(3)) as recvmmsg leaves them in a message's
// control area: each a header of the platform's struct cmsghdr (length,
// level, type) and its data, padded to the platform's alignment. They are
// read here with explicit offsets and bounds instead of by casting the
// buffer to *unix.Cmsghdr, so that a malformed area can only end the
// parse, never read past it.
var (
	cmsgLenSize     = int(unsafe.Sizeof(unix.Cmsghdr{}.Len)) // 8 on 64-bit, 4 on 32-bit
	cmsgLevelOffset = int(unsafe.Offsetof(unix.Cmsghdr{}.Level))
	cmsgTypeOffset  = int(unsafe.Offsetof(unix.Cmsghdr{}.Type))
	cmsgDataOffset  = unix.CmsgLen(0) // the header, aligned

	// struct in_pktinfo: ipi_addr is the header's destination address.
	pktinfo4AddrOffset = int(unsafe.Offsetof(unix.Inet4Pktinfo{}.Addr))
	// struct in6_pktinfo: ipi6_addr, the destination address.
	pktinfo6AddrOffset = int(unsafe.Offsetof(unix.Inet6Pktinfo{}.Addr))
	// The interface indexes of both.
	pktinfo4IfindexOffset = int(unsafe.Offsetof(unix.Inet4Pktinfo{}.Ifindex))
	pktinfo6IfindexOffset = int(unsafe.Offsetof(unix.Inet6Pktinfo{}.Ifindex))
)

// parseControl sets m.Dst and m.TOS from the IP_PKTINFO, IP_TOS,
// IPV6_PKTINFO and IPV6_TCLASS messages in b, ignoring any others. It
// stops at the first message whose length does not fit.
func parseControl(b []byte, m *Message) {
	for {
		level, typ, data, rest, ok := nextControl(b)
		if !ok {
			return
		}
		b = rest
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			m.Dst = netip.AddrFrom4([4]byte(data[pktinfo4AddrOffset:]))
		case level == unix.IPPROTO_IP && typ == unix.IP_TOS && len(data) >= 1:
			m.TOS = data[0]
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			m.Dst = netip.AddrFrom16([16]byte(data[pktinfo6AddrOffset:]))
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_TCLASS && len(data) >= 4:
			m.TOS = uint8(binary.NativeEndian.Uint32(data))
		case level == unix.IPPROTO_UDP && typ == unix.UDP_GRO && len(data) >= 2:
			// The kernel writes the segment size as an int (udp_cmsg_recv).
			if len(data) >= 4 {
				m.SegmentSize = int(binary.NativeEndian.Uint32(data))
			} else {
				m.SegmentSize = int(binary.NativeEndian.Uint16(data))
			}
		}
	}
}

// arrival reads, from the control messages of a raw ESP or UDP socket
// opened beside packet rings, the interface the packet came in by
// (IP_PKTINFO, IPV6_PKTINFO) and whether the rings cannot have taken it:
// the kernel reassembled it from fragments (IP_RECVFRAGSIZE,
// IPV6_RECVFRAGSIZE are only there for those), or it came behind IPv6
// extension headers the rings do not take (IPV6_HOPOPTS, IPV6_RTHDR and
// IPV6_DSTOPTS carry each header in order; see ringext_linux.go).
func arrival(b []byte) (ifindex int, notRing bool) {
	var ext extCount
	for {
		level, typ, data, rest, ok := nextControl(b)
		if !ok {
			return ifindex, notRing || ext.beyondRings()
		}
		b = rest
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			ifindex = int(int32(binary.NativeEndian.Uint32(data[pktinfo4IfindexOffset:])))
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			ifindex = int(binary.NativeEndian.Uint32(data[pktinfo6IfindexOffset:]))
		case level == unix.IPPROTO_IP && typ == unix.IP_RECVFRAGSIZE, level == unix.IPPROTO_IPV6 && typ == unix.IPV6_RECVFRAGSIZE:
			notRing = true
		case level == unix.IPPROTO_IPV6 && (typ == unix.IPV6_HOPOPTS || typ == unix.IPV6_RTHDR || typ == unix.IPV6_DSTOPTS):
			ext.add(len(data))
		}
	}
}

// nextControl splits the first control message off b: its level, type
// and data, and what follows it. ok is false at the end of b or at a
// message whose length does not fit.
func nextControl(b []byte) (level, typ int32, data, rest []byte, ok bool) {
	if len(b) < cmsgDataOffset {
		return 0, 0, nil, nil, false
	}
	var l int
	if cmsgLenSize == 8 {
		l64 := binary.NativeEndian.Uint64(b)
		if l64 > uint64(len(b)) {
			return 0, 0, nil, nil, false
		}
		l = int(l64)
	} else {
		l = int(binary.NativeEndian.Uint32(b))
	}
	if l < cmsgDataOffset || l > len(b) {
		return 0, 0, nil, nil, false
	}
	level = int32(binary.NativeEndian.Uint32(b[cmsgLevelOffset:]))
	typ = int32(binary.NativeEndian.Uint32(b[cmsgTypeOffset:]))
	data = b[cmsgDataOffset:l]
	if next := unix.CmsgSpace(l - cmsgDataOffset); next < len(b) {
		rest = b[next:]
	}
	return level, typ, data, rest, true
}
