package header

import (
	"errors"
	"net/netip"
)

// When an inner packet is too big for the tunnel and may not be
// fragmented (IPv4 with DF set, or any IPv6 packet, which routers never
// fragment), the gateway drops it and tells the sender the tunnel's MTU:
// ICMP Destination Unreachable / Fragmentation Needed for IPv4 (RFC 792
// with the Next-Hop MTU of RFC 1191 §4), ICMPv6 Packet Too Big for IPv6
// (RFC 4443 §3.2). The sender's path MTU discovery does the rest.
//
// The message is written into a buffer of the caller's, which must not
// overlap the invoking packet: the quote is copied out of it.
//
// Both builders refuse the packets about which RFC 1122 §3.2.2 (for IPv4,
// with RFC 1812 §4.3.2.7) and RFC 4443 §2.4 (e) forbid an ICMP error, so
// that errors never answer errors, broadcasts or forged sources.

// Reasons an ICMP error is not built. Sentinels, so the data plane can
// count each without allocating.
var (
	ErrAboutICMPError    = errors.New("header: no ICMP error is sent about an ICMP error message; expected an invoking packet that is not one")
	ErrAboutFragment     = errors.New("header: no ICMP error is sent about a non-first IPv4 fragment; expected offset 0")
	ErrSourceNotUnicast  = errors.New("header: invoking packet's source is not a unicast address; expected one that names a single host")
	ErrDestNotUnicast    = errors.New("header: no ICMP error is sent about an IPv4 packet to a multicast or broadcast address; expected a unicast destination")
	ErrFromAddressFamily = errors.New("header: ICMP error source address is not of the invoking packet's IP version; expected IPv4 for IPv4, IPv6 for IPv6")
	ErrMTUOutOfRange     = errors.New("header: MTU out of range for the ICMP message; expected 68-65535 for IPv4 and at least 1280 for IPv6")
)

// Fixed values of the messages built here.
const (
	// icmpErrorTTL is the TTL or Hop Limit of the error: a common host
	// default, enough for any path the invoking packet took.
	icmpErrorTTL = 64
	// icmpErrorTrafficClass is CS6, network control, the class Linux and
	// routers give their ICMP errors (RFC 1812 §4.3.2.5 allows it), so
	// the message is not queued behind the traffic that caused it.
	icmpErrorTrafficClass = 0xc0
	// icmpv4QuoteLimit is the most an ICMPv4 error may be: as much of the
	// invoking packet as fits in 576 octets (RFC 1812 §4.3.2.3).
	icmpv4QuoteLimit = 576
	// icmpv4MinimumQuote is how much of the invoking packet follows its
	// header at least: 64 bits of data (RFC 792).
	icmpv4MinimumQuote = 8
)

// BuildFragmentationNeeded writes into dst an IPv4 packet from `from` to
// the source of the invoking packet, carrying ICMP Destination
// Unreachable, code Fragmentation Needed, with Next-Hop MTU mtu, and
// quoting as much of the invoking packet as fits in dst and in 576
// octets, no less than its header and 8 octets of its data. Header and
// ICMP checksums are set. It returns the packet as a view of dst.
//
// It refuses, with the errors above: an invoking packet that is itself an
// ICMP error or a non-first fragment, or whose source is not unicast
// (unspecified, loopback, multicast, limited broadcast) or whose
// destination is multicast or limited broadcast; a from address that is
// not IPv4; an mtu outside 68..65535; and a dst too short for the minimum
// quote (ErrShortBuffer).
func BuildFragmentationNeeded(dst []byte, invoking IPv4, from netip.Addr, mtu int) (IPv4, error) {
	if err := icmpv4Allowed(invoking); err != nil {
		return nil, err
	}
	if !from.Is4() {
		return nil, ErrFromAddressFamily
	}
	if mtu < IPv4MinimumMTU || mtu > IPv4MaximumSize {
		return nil, ErrMTUOutOfRange
	}
	const head = IPv4MinimumSize + ICMPHeaderSize
	quote := min(len(invoking), icmpv4QuoteLimit-head, len(dst)-head)
	if quote < min(len(invoking), invoking.HeaderLength()+icmpv4MinimumQuote) {
		return nil, ErrShortBuffer
	}
	pkt, _ := EncodeIPv4(dst, IPv4Fields{
		TOS:          icmpErrorTrafficClass,
		TotalLength:  uint16(head + quote),
		DontFragment: true,
		TTL:          icmpErrorTTL,
		Protocol:     IPProtoICMP,
		Source:       from,
		Destination:  invoking.Source(),
	})
	m := ICMPv4(pkt.Payload())
	m.SetType(ICMPv4DestinationUnreachable)
	m.SetCode(ICMPv4FragmentationNeeded)
	m.SetRestOfHeader(uint32(mtu)) // high half unused and zero
	copy(m.Payload(), invoking[:quote])
	m.UpdateChecksum()
	return pkt, nil
}

// icmpv4Allowed says why no ICMP error may be sent about h, or nil.
func icmpv4Allowed(h IPv4) error {
	if h.FragmentOffset() != 0 {
		return ErrAboutFragment
	}
	if h.Protocol() == IPProtoICMP {
		if p := h.Payload(); len(p) == 0 || icmpv4IsError(p[icmpType]) {
			return ErrAboutICMPError
		}
	}
	limited := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	src, dst := h.Source(), h.Destination()
	if src.IsUnspecified() || src.IsLoopback() || src.IsMulticast() || src == limited {
		return ErrSourceNotUnicast
	}
	if dst.IsMulticast() || dst == limited {
		return ErrDestNotUnicast
	}
	return nil
}

// BuildPacketTooBig writes into dst an IPv6 packet from `from` to the
// source of the invoking packet, carrying ICMPv6 Packet Too Big with MTU
// mtu and as much of the invoking packet as fits in dst and in the IPv6
// minimum MTU of 1280 octets, no less than its fixed header. The ICMPv6
// checksum is set. It returns the packet as a view of dst.
//
// It refuses, with the errors above: an invoking packet that is itself an
// ICMPv6 error or whose source is unspecified, loopback or multicast; a
// from address that is not IPv6; an mtu below 1280, which IPv6 cannot
// use (a tunnel that narrow must fragment the outer packet instead); and
// a dst too short for the minimum quote (ErrShortBuffer). A multicast
// destination is allowed: Packet Too Big is the exception of RFC 4443
// §2.4 (e.2), as multicast senders need path MTU discovery too.
func BuildPacketTooBig(dst []byte, invoking IPv6, from netip.Addr, mtu int) (IPv6, error) {
	if err := icmpv6Allowed(invoking); err != nil {
		return nil, err
	}
	if !from.Is6() {
		return nil, ErrFromAddressFamily
	}
	if mtu < IPv6MinimumMTU || uint64(mtu) > 0xffffffff {
		return nil, ErrMTUOutOfRange
	}
	const head = IPv6MinimumSize + ICMPHeaderSize
	quote := min(len(invoking), IPv6MinimumMTU-head, len(dst)-head)
	if quote < IPv6MinimumSize {
		return nil, ErrShortBuffer
	}
	to := invoking.Source()
	pkt, _ := EncodeIPv6(dst, IPv6Fields{
		TrafficClass:  icmpErrorTrafficClass,
		PayloadLength: uint16(ICMPHeaderSize + quote),
		NextHeader:    IPProtoICMPv6,
		HopLimit:      icmpErrorTTL,
		Source:        from,
		Destination:   to,
	})
	m := ICMPv6(pkt.Payload())
	m.SetType(ICMPv6PacketTooBig)
	m.SetCode(0)
	m.SetMTU(uint32(mtu))
	copy(m.Payload(), invoking[:quote])
	m.UpdateChecksum(from, to)
	return pkt, nil
}

// icmpv6Allowed says why no ICMPv6 error may be sent about h, or nil. A
// packet whose extension headers cannot be walked is answered: it cannot
// be shown to be an ICMPv6 error, and a sender owed an MTU is better
// served than one left to time out.
func icmpv6Allowed(h IPv6) error {
	if u, ok := ipv6UpperLayer(h); ok && u.protocol == IPProtoICMPv6 && !u.nonFirst {
		if len(u.payload) == 0 || icmpv6IsError(u.payload[icmpType]) {
			return ErrAboutICMPError
		}
	}
	src := h.Source()
	if src.IsUnspecified() || src.IsLoopback() || src.IsMulticast() {
		return ErrSourceNotUnicast
	}
	return nil
}
