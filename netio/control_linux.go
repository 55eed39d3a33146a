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
)

// parseControl sets m.Dst and m.TOS from the IP_PKTINFO, IP_TOS,
// IPV6_PKTINFO and IPV6_TCLASS messages in b, ignoring any others. It
// stops at the first message whose length does not fit.
func parseControl(b []byte, m *Message) {
	for len(b) >= cmsgDataOffset {
		var l int
		if cmsgLenSize == 8 {
			l64 := binary.NativeEndian.Uint64(b)
			if l64 > uint64(len(b)) {
				return
			}
			l = int(l64)
		} else {
			l = int(binary.NativeEndian.Uint32(b))
		}
		if l < cmsgDataOffset || l > len(b) {
			return
		}
		level := int32(binary.NativeEndian.Uint32(b[cmsgLevelOffset:]))
		typ := int32(binary.NativeEndian.Uint32(b[cmsgTypeOffset:]))
		data := b[cmsgDataOffset:l]
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
		next := unix.CmsgSpace(l - cmsgDataOffset)
		if next >= len(b) {
			return
		}
		b = b[next:]
	}
}
