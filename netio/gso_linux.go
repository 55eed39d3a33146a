package netio

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// gsoOOBSize holds UDP_SEGMENT (2 octets of data), IP(V6)_PKTINFO (20) and
// IP_TOS / IPV6_TCLASS (4), each with its header and padding.
const gsoOOBSize = 128

// SendSegments sends buf as datagrams of segSize octets from this socket's
// port to dst, with src as the source address and tos as the DS/ECN byte,
// in one sendmsg: with more than one segment the kernel splits it (UDP
// GSO, UDP_SEGMENT), typically after it crossed the stack as one buffer.
func (r *socketReceiver) SendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segSize int) error {
	if r.kind != udpV4 && r.kind != udpV6 {
		return fmt.Errorf("netio: SendSegments on a %s socket", r.sock.what)
	}
	if segSize <= 0 || len(buf) == 0 || (len(buf)+segSize-1)/segSize > MaxSegments {
		return fmt.Errorf("netio: SendSegments: %d octets in segments of %d", len(buf), segSize)
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	return r.sendSegments(dst, src, tos, buf, nil, len(buf), segSize)
}

// sendSegments is SendSegments and SendSegmentVec: the run is buf, or,
// when segs is set, segs gathered (total octets in all). The caller
// holds sendMu.
func (r *socketReceiver) sendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segs [][]byte, total, segSize int) error {
	oob, err := r.sendControl(r.sendOOB[:0], dst, src, tos, total, segSize)
	if err != nil {
		return err
	}
	var sa unix.Sockaddr
	if r.kind == udpV4 {
		sa = &unix.SockaddrInet4{Port: int(dst.Port()), Addr: dst.Addr().As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: int(dst.Port()), Addr: dst.Addr().As16()}
	}
	var serr error
	err = r.sock.rc.Write(func(fd uintptr) bool {
		for {
			if segs != nil {
				_, serr = unix.SendmsgBuffers(int(fd), segs, oob, sa, 0)
			} else {
				_, serr = unix.SendmsgN(int(fd), buf, oob, sa, 0)
			}
			switch serr {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			return true
		}
	})
	if err != nil {
		return r.sock.wrap("sendmsg", err)
	}
	if serr != nil {
		return r.sock.wrap("sendmsg", serr)
	}
	return nil
}

// sendControl appends to oob the control messages of one run of total
// octets to dst: UDP_SEGMENT when it is more than one datagram, the
// source address when src is valid, and the DS byte. It refuses dst of
// the other address family.
func (r *socketReceiver) sendControl(oob []byte, dst netip.AddrPort, src netip.Addr, tos uint8, total, segSize int) ([]byte, error) {
	if total > segSize {
		oob = appendCmsg(oob, unix.IPPROTO_UDP, unix.UDP_SEGMENT, 2, func(d []byte) {
			binary.NativeEndian.PutUint16(d, uint16(segSize))
		})
	}
	if r.kind == udpV4 {
		if !dst.Addr().Is4() {
			return nil, fmt.Errorf("netio: SendSegments: %s is not IPv4", dst.Addr())
		}
		if src.IsValid() {
			oob = appendCmsg(oob, unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo, func(d []byte) {
				a := src.As4()
				copy(d[unsafe.Offsetof(unix.Inet4Pktinfo{}.Spec_dst):], a[:])
			})
		}
		oob = appendCmsg(oob, unix.IPPROTO_IP, unix.IP_TOS, 4, func(d []byte) {
			binary.NativeEndian.PutUint32(d, uint32(tos))
		})
		return oob, nil
	}
	if !dst.Addr().Is6() || dst.Addr().Is4In6() {
		return nil, fmt.Errorf("netio: SendSegments: %s is not IPv6", dst.Addr())
	}
	if src.IsValid() {
		oob = appendCmsg(oob, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo, func(d []byte) {
			a := src.As16()
			copy(d[unsafe.Offsetof(unix.Inet6Pktinfo{}.Addr):], a[:])
		})
	}
	oob = appendCmsg(oob, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, 4, func(d []byte) {
		binary.NativeEndian.PutUint32(d, uint32(tos))
	})
	return oob, nil
}

// appendCmsg appends one control message of dataLen octets, filled by fill.
func appendCmsg(b []byte, level, typ, dataLen int, fill func([]byte)) []byte {
	start := len(b)
	space := unix.CmsgSpace(dataLen)
	b = b[:start+space]
	clear(b[start:])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[start]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(dataLen))
	fill(b[start+unix.CmsgLen(0) : start+unix.CmsgLen(0)+dataLen])
	return b
}

// SendSegmentVec is SendSegments with the datagrams gathered from segs
// (SegmentVecSender).
func (r *socketReceiver) SendSegmentVec(dst netip.AddrPort, src netip.Addr, tos uint8, segs [][]byte, segSize int) error {
	if r.kind != udpV4 && r.kind != udpV6 {
		return fmt.Errorf("netio: SendSegmentVec on a %s socket", r.sock.what)
	}
	total, err := checkSegmentVec(segs, segSize)
	if err != nil {
		return err
	}
	if len(segs) == 1 {
		return r.SendSegments(dst, src, tos, segs[0], segSize)
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	return r.sendSegments(dst, src, tos, nil, segs, total, segSize)
}
