package netio

import (
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"ipsecgw/header"
)

// recvKind is what a receiving socket is, which decides where a message's
// addresses and TOS come from.
type recvKind uint8

const (
	espV4 recvKind = iota // raw, IP header in front: addresses and TOS from it
	espV6                 // raw, payload only: source from the socket address, the rest from control messages
	udpV4                 // source from the socket address, the rest from control messages
	udpV6
)

// oobSize is the control-message space of one message: IPV6_PKTINFO (20
// octets of data) and IPV6_TCLASS (4), each with its header and padding,
// and beside packet rings IPV6_RECVFRAGSIZE and up to maxExtHeaders
// extension headers of maxExtOctets in all (ringext_linux.go), with room
// to spare. The slot is a multiple of 8 so every message's control area
// stays aligned like the first.
const oobSize = 320

// ListenESP opens a raw socket for IP protocol 50 (ESP) of the given
// family, receiving the ESP packets sent to any local address; Buf gets
// each from its SPI on. Needs CAP_NET_RAW. See the package comment for the
// kernel behaviour this depends on.
func ListenESP(family int) (Receiver, error) { return listenESP(family, nil) }

// listenESP is ListenESP; with skip, each packet's arrival interface and
// whether the kernel reassembled it are read too, and a packet not
// reassembled is dropped when skip(interface, message) says another
// receiver (a packet ring) has it already.
func listenESP(family int, skip func(ifindex int, m *Message) bool) (Receiver, error) {
	if err := checkFamily(family); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("raw ESP (IPv%d)", family)
	var r *socketReceiver
	var err error
	if family == 4 {
		var opts []sockopt
		if skip != nil {
			opts = []sockopt{
				{unix.IPPROTO_IP, unix.IP_PKTINFO, 1, "IP_PKTINFO"},
				{unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1, "IP_RECVFRAGSIZE"},
			}
		}
		r, err = newSocketReceiver(espV4, what, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ESP, opts, nil)
	} else {
		opts := []sockopt{
			{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"},
			{unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS"},
		}
		if skip != nil {
			opts = append(opts, sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE, 1, "IPV6_RECVFRAGSIZE"})
			opts = append(opts, extHeaderOpts...)
		}
		r, err = newSocketReceiver(espV6, what, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ESP, opts, nil)
	}
	if err != nil {
		return nil, err
	}
	if skip != nil {
		r.skip = skip
		for i := range r.hdrs {
			r.hdrs[i].Hdr.Control = &r.oob[i][0]
		}
	}
	return r, nil
}

// ListenUDP opens a UDP socket of the given family bound to port on every
// local address (IPv6 only for family 6: IPV6_V6ONLY); Buf gets each
// datagram's data. For the NAT-T port that is an IKE message after the
// non-ESP marker, a one-octet NAT keepalive, or an ESP packet; the data
// plane tells them apart. Ports below 1024 (IKE's 500) need
// CAP_NET_BIND_SERVICE.
func ListenUDP(family int, port uint16) (Receiver, error) { return listenUDP(family, port, nil) }

// listenUDP is ListenUDP; with skip, as listenESP, and without UDP GRO.
func listenUDP(family int, port uint16, skip func(ifindex int, m *Message) bool) (Receiver, error) {
	if err := checkFamily(family); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("UDP port %d (IPv%d)", port, family)
	var r *socketReceiver
	var err error
	if family == 4 {
		r, err = newSocketReceiver(udpV4, what, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_UDP, []sockopt{
			{unix.IPPROTO_IP, unix.IP_PKTINFO, 1, "IP_PKTINFO"},
			{unix.IPPROTO_IP, unix.IP_RECVTOS, 1, "IP_RECVTOS"},
			// Sent datagrams leave with DF clear, as Junos df-bit clear
			// (the data plane sends DF-set SAs through the raw socket).
			{unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT, "IP_MTU_DISCOVER"},
		}, &unix.SockaddrInet4{Port: int(port)})
	} else {
		r, err = newSocketReceiver(udpV6, what, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_UDP, []sockopt{
			{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1, "IPV6_V6ONLY"},
			{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"},
			{unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS"},
		}, &unix.SockaddrInet6{Port: int(port)})
	}
	if err != nil {
		return nil, err
	}
	if skip != nil {
		// Beside packet rings: which datagrams the kernel reassembled.
		opts := []sockopt{{unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1, "IP_RECVFRAGSIZE"}}
		if family == 6 {
			opts = append([]sockopt{{unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE, 1, "IPV6_RECVFRAGSIZE"}}, extHeaderOpts...)
		}
		for _, opt := range opts {
			var serr error
			_ = r.sock.rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), opt.level, opt.name, opt.value) })
			if serr != nil {
				r.Close()
				return nil, fmt.Errorf("netio: %s socket: set %s: %w", what, opt.what, serr)
			}
		}
		r.skip = skip
		r.sock.setBuffer(false)
		return r, nil
	}
	// UDP GRO: the kernel hands over a burst of one flow's datagrams as one
	// message (Message.SegmentSize), which is what lets a userspace tunnel
	// keep up with TCP. Older kernels lack it; then each datagram comes
	// alone, which is only slower.
	_ = r.sock.rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1)
	})
	r.sock.setBuffer(false)
	return r, nil
}

// socketReceiver reads batches with recvmmsg into the caller's buffers.
// The message headers, socket addresses and control areas are its own and
// point at each other from the start, so a batch only aims each message's
// data vector at the caller's Buf: nothing is allocated per call.
type socketReceiver struct {
	sock *socket
	kind recvKind
	// skip, when set, drops the raw ESP packets a packet ring has taken
	// (listenESP); the messages then have control areas whatever kind.
	skip func(ifindex int, m *Message) bool

	mu    sync.Mutex // one ReadBatch at a time; guards the fields below
	hdrs  [IdealBatchSize]unix.Mmsghdr
	iovs  [IdealBatchSize][2]unix.Iovec // espV4: [0] the IPv4 header, [1] Buf; else [0] Buf
	names [IdealBatchSize]unix.RawSockaddrInet6
	oob   [IdealBatchSize][oobSize]byte
	ipHdr [IdealBatchSize][header.IPv4MinimumSize]byte // espV4 only

	// The batch's request and result, which recv reads and writes: recv
	// is a method value made once, so calling rc.Read allocates nothing.
	want  int
	got   int
	errno syscall.Errno
	recv  func(fd uintptr) bool

	sendMu  sync.Mutex // one SendSegments at a time; guards sendOOB and runBatch
	sendOOB [gsoOOBSize]byte
	// runBatch is SendRuns' sendmmsg state, made at its first call (a
	// receiving socket that never sends runs does without its 20 KB).
	runBatch *runBatch
}

func newSocketReceiver(kind recvKind, what string, domain, typ, proto int, opts []sockopt, bind unix.Sockaddr) (*socketReceiver, error) {
	s, err := openSocket(what, domain, typ, proto, opts, bind)
	if err != nil {
		return nil, err
	}
	s.setBuffer(true)
	r := &socketReceiver{sock: s, kind: kind}
	r.recv = r.recvmmsg
	for i := range r.hdrs {
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i][0]
		h.SetIovlen(1)
		if kind == espV4 {
			// The kernel fills the 20 octets of the fixed header first
			// and the rest of the packet, options and all, into Buf.
			r.iovs[i][0].Base = &r.ipHdr[i][0]
			r.iovs[i][0].SetLen(header.IPv4MinimumSize)
			h.SetIovlen(2)
		} else {
			h.Control = &r.oob[i][0]
		}
	}
	return r, nil
}

// ReadBatch reads up to min(len(msgs), IdealBatchSize) packets with one
// recvmmsg, waiting for the first.
func (r *socketReceiver) ReadBatch(msgs []Message) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	want := min(len(msgs), IdealBatchSize)
	if want == 0 {
		return 0, nil
	}
	for {
		for i := range want {
			r.aim(i, msgs[i].Buf)
		}
		r.want, r.got, r.errno = want, 0, 0
		if err := r.sock.rc.Read(r.recv); err != nil {
			return 0, r.sock.wrap("recvmmsg", err)
		}
		if r.errno != 0 {
			return 0, r.sock.wrap("recvmmsg", r.errno)
		}
		for i := range r.got {
			r.finish(i, &msgs[i])
		}
		if r.skip == nil {
			return r.got, nil
		}
		if n := r.keep(msgs[:r.got]); n > 0 {
			return n, nil
		}
	}
}

// keep moves the messages that skip leaves to the front of msgs and
// returns how many there are. Those are the rare ones beside packet
// rings (fragments the kernel reassembled, ESP arriving elsewhere), so
// copying their payloads down costs little.
func (r *socketReceiver) keep(msgs []Message) int {
	n := 0
	for i := range msgs {
		m := &msgs[i]
		// A truncated control area may have lost the extension headers
		// that tell: kept (at worst a duplicate, which replay protection
		// drops).
		truncated := r.hdrs[i].Hdr.Flags&unix.MSG_CTRUNC != 0
		if ifindex, notRing := arrival(r.control(i)); !notRing && !truncated && r.skip(ifindex, m) {
			continue
		}
		if n != i {
			k := &msgs[n]
			k.N = copy(k.Buf, m.Buf[:m.N])
			k.Src, k.Dst, k.TOS, k.SegmentSize = m.Src, m.Dst, m.TOS, m.SegmentSize
		}
		n++
	}
	return n
}

// aim points message i's data vector at buf and resets what the kernel
// overwrites.
func (r *socketReceiver) aim(i int, buf []byte) {
	v := &r.iovs[i][0]
	if r.kind == espV4 {
		v = &r.iovs[i][1]
	}
	v.Base = nil
	if len(buf) > 0 {
		v.Base = &buf[0]
	}
	v.SetLen(len(buf))
	h := &r.hdrs[i].Hdr
	h.Namelen = unix.SizeofSockaddrInet6
	if r.kind != espV4 || r.skip != nil {
		h.SetControllen(oobSize)
	}
	h.Flags = 0
	r.hdrs[i].Len = 0
}

// recvmmsg is the system call, run by the poller when the socket may be
// readable; false means "would block, wait and call again".
func (r *socketReceiver) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.want), 0, 0, 0)
		switch e {
		case 0:
			r.got = int(n)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			r.errno = e
			return true
		}
	}
}

// finish fills msgs[i]'s N, Src, Dst and TOS from message i's result.
func (r *socketReceiver) finish(i int, m *Message) {
	n := int(r.hdrs[i].Len)
	m.Src, m.Dst, m.TOS, m.SegmentSize = netip.AddrPort{}, netip.Addr{}, 0, 0
	switch r.kind {
	case espV4:
		m.N = stripIPv4Header(r.ipHdr[i][:], m.Buf, n, m)
	case espV6:
		m.N = n
		m.Src = netip.AddrPortFrom(sockaddrAddr6(&r.names[i]), 0)
		parseControl(r.control(i), m)
	case udpV4:
		m.N = n
		m.Src = sockaddrAddrPort4((*unix.RawSockaddrInet4)(unsafe.Pointer(&r.names[i])))
		parseControl(r.control(i), m)
	case udpV6:
		m.N = n
		m.Src = netip.AddrPortFrom(sockaddrAddr6(&r.names[i]), bigEndianPort(r.names[i].Port))
		parseControl(r.control(i), m)
	}
}

// control returns the control messages the kernel wrote for message i.
func (r *socketReceiver) control(i int) []byte {
	return r.oob[i][:min(int(r.hdrs[i].Hdr.Controllen), oobSize)]
}

// stripIPv4Header reads source, destination and TOS from the fixed IPv4
// header the kernel put in hdr, moves the payload to the start of buf when
// the header had options (which the kernel put at the start of buf), and
// returns the payload length. n counts the octets received into hdr and
// buf together.
//
// hdr holds exactly the fixed header, so it cannot pass header.ParseIPv4
// (Total Length runs past it); it is read only through the accessors of
// fixed-header fields, which stay within its 20 octets.
func stripIPv4Header(hdr, buf []byte, n int, m *Message) int {
	if n < header.IPv4MinimumSize {
		return 0 // the kernel never delivers less than a header
	}
	v := header.IPv4(hdr)
	m.Src = netip.AddrPortFrom(v.Source(), 0)
	m.Dst = v.Destination()
	m.TOS = v.TOS()
	options := v.HeaderLength() - header.IPv4MinimumSize
	inBuf := n - header.IPv4MinimumSize
	if options <= 0 {
		return inBuf
	}
	if options >= inBuf {
		return 0
	}
	return copy(buf, buf[options:inBuf])
}

func sockaddrAddr6(sa *unix.RawSockaddrInet6) netip.Addr { return netip.AddrFrom16(sa.Addr) }

func sockaddrAddrPort4(sa *unix.RawSockaddrInet4) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), bigEndianPort(sa.Port))
}

// bigEndianPort reads a sockaddr's port field, which holds the port in
// network byte order whatever the host's order.
func bigEndianPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// Close closes the socket; a blocked ReadBatch returns net.ErrClosed.
func (r *socketReceiver) Close() error { return r.sock.close() }
