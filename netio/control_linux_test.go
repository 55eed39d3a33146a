package netio

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg builds one control message as the kernel lays it out.
func cmsg(level, typ int, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafePointer(b))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func pktinfo4(dst netip.Addr) []byte {
	var b [unix.SizeofInet4Pktinfo]byte
	binary.NativeEndian.PutUint32(b[:], 7) // ifindex
	copy(b[4:], []byte{198, 51, 100, 99})  // spec_dst: the local address routing would pick, not the header's
	a := dst.As4()
	copy(b[pktinfo4AddrOffset:], a[:])
	return b[:]
}

func pktinfo6(dst netip.Addr) []byte {
	var b [unix.SizeofInet6Pktinfo]byte
	a := dst.As16()
	copy(b[pktinfo6AddrOffset:], a[:])
	binary.NativeEndian.PutUint32(b[16:], 7)
	return b[:]
}

func int32Data(v int32) []byte { return binary.NativeEndian.AppendUint32(nil, uint32(v)) }

func controlSeeds() [][]byte {
	join := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	return [][]byte{
		join(cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, pktinfo4(addrB4)), cmsg(unix.IPPROTO_IP, unix.IP_TOS, []byte{0xba})),
		join(cmsg(unix.IPPROTO_IPV6, unix.IPV6_TCLASS, int32Data(0x8b)), cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, pktinfo6(addrB6))),
		join(cmsg(unix.SOL_SOCKET, unix.SO_TIMESTAMP, make([]byte, 16)), cmsg(unix.IPPROTO_IP, unix.IP_TOS, []byte{0x21})),
		{},
	}
}

func TestParseControl(t *testing.T) {
	seeds := controlSeeds()
	for _, c := range []struct {
		b   []byte
		dst netip.Addr
		tos uint8
	}{
		{seeds[0], addrB4, 0xba},
		{seeds[1], addrB6, 0x8b},
		{seeds[2], netip.Addr{}, 0x21}, // an unknown message is skipped
		{seeds[3], netip.Addr{}, 0},
	} {
		var m Message
		parseControl(c.b, &m)
		if m.Dst != c.dst || m.TOS != c.tos {
			t.Errorf("parseControl(% x) = dst %s tos %#x; want %s %#x", c.b, m.Dst, m.TOS, c.dst, c.tos)
		}
	}
	// Every prefix ends the parse cleanly: a message wholly inside it
	// (its padding need not be) is read, a cut one is not.
	full := seeds[0]
	for i := range len(full) {
		var m Message
		parseControl(full[:i], &m)
		if whole := i >= unix.CmsgLen(unix.SizeofInet4Pktinfo); whole != m.Dst.IsValid() {
			t.Errorf("%d-octet prefix: destination %s; want it read exactly when the message is whole", i, m.Dst)
		}
	}
}

// FuzzParseControl: no control area, however malformed, makes
// parseControl panic or read past it.
func FuzzParseControl(f *testing.F) {
	for _, s := range controlSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		parseControl(b[:len(b):len(b)], &m)
	})
}

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
