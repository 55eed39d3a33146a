package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv4 header, RFC 791 §3.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The Type of Service octet is the DS field (RFC 2474: DSCP, the high six
// bits) and the ECN field (RFC 3168: the low two bits). Flags are, from
// the high bit: reserved (zero), DF (don't fragment), MF (more fragments).
// The fragment offset counts units of 8 octets.
const (
	ipv4VersionIHL   = 0
	ipv4TOS          = 1
	ipv4TotalLength  = 2
	ipv4ID           = 4
	ipv4FlagsOffset  = 6
	ipv4TTL          = 8
	ipv4Protocol     = 9
	ipv4Checksum     = 10
	ipv4Source       = 12
	ipv4Destination  = 16
	ipv4OptionsStart = 20

	// IPv4MinimumSize is the length of a header without options.
	IPv4MinimumSize = 20
	// IPv4MaximumHeaderSize is the longest header IHL can describe (15
	// words), leaving at most 40 octets of options.
	IPv4MaximumHeaderSize = 60
	// IPv4MaximumSize is the largest packet Total Length can describe.
	IPv4MaximumSize = 0xffff
	// IPv4MinimumMTU is the MTU every IPv4 link must carry without
	// further fragmentation (RFC 791: 60-octet header plus 8 of data).
	IPv4MinimumMTU = 68

	ipv4Version        = 4
	ipv4FlagDF         = 0x4000
	ipv4FlagMF         = 0x2000
	ipv4OffsetMask     = 0x1fff
	ipv4MaximumOffset  = ipv4OffsetMask * 8 // in octets
	ipv4FragmentUnit   = 8
	ipv4MaximumOptions = IPv4MaximumHeaderSize - IPv4MinimumSize
)

// IPv4 is a view of one IPv4 packet: header, options and payload, and
// nothing after Total Length. Make one with ParseIPv4 or EncodeIPv4.
type IPv4 []byte

// ParseIPv4 is the gate to the IPv4 view. It accepts b when b starts with
// a version 4 header whose IHL is at least 5 words, whose Total Length
// covers the header and fits in b. The view it returns ends at Total
// Length: octets after it (link-layer padding) are not part of the packet.
// It does not verify the header checksum; see ChecksumValid.
func ParseIPv4(b []byte) (IPv4, bool) {
	if len(b) < IPv4MinimumSize || b[ipv4VersionIHL]>>4 != ipv4Version {
		return nil, false
	}
	hlen := int(b[ipv4VersionIHL]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[ipv4TotalLength:]))
	if hlen < IPv4MinimumSize || total < hlen || total > len(b) {
		return nil, false
	}
	return IPv4(b[:total]), true
}

// IPv4Fields are the values EncodeIPv4 writes.
type IPv4Fields struct {
	TOS            uint8 // DSCP and ECN
	TotalLength    uint16
	ID             uint16
	DontFragment   bool
	MoreFragments  bool
	FragmentOffset int // in octets, a multiple of 8
	TTL            uint8
	Protocol       uint8
	Source         netip.Addr
	Destination    netip.Addr
	Options        []byte // copied as is; length a multiple of 4, at most 40
}

// EncodeIPv4 writes an IPv4 header with f's values and a correct checksum
// at the start of b, which must already hold (or will hold) the payload
// after the header, and returns the view b[:f.TotalLength]. It reports
// false, writing nothing, when the fields cannot form a header ParseIPv4
// would accept: b shorter than TotalLength, TotalLength shorter than the
// header, an address that is not IPv4, a fragment offset that is not a
// multiple of 8 or beyond 65528, or options whose length is not a multiple
// of 4 or exceeds 40.
func EncodeIPv4(b []byte, f IPv4Fields) (IPv4, bool) {
	hlen := IPv4MinimumSize + len(f.Options)
	switch {
	case len(f.Options)%4 != 0 || len(f.Options) > ipv4MaximumOptions,
		int(f.TotalLength) < hlen || len(b) < int(f.TotalLength),
		!f.Source.Is4() || !f.Destination.Is4(),
		f.FragmentOffset < 0 || f.FragmentOffset > ipv4MaximumOffset || f.FragmentOffset%ipv4FragmentUnit != 0:
		return nil, false
	}
	h := IPv4(b[:f.TotalLength])
	h[ipv4VersionIHL] = ipv4Version<<4 | uint8(hlen/4)
	h[ipv4TOS] = f.TOS
	binary.BigEndian.PutUint16(h[ipv4TotalLength:], f.TotalLength)
	binary.BigEndian.PutUint16(h[ipv4ID:], f.ID)
	h.setFlagsOffset(f.DontFragment, f.MoreFragments, f.FragmentOffset)
	h[ipv4TTL] = f.TTL
	h[ipv4Protocol] = f.Protocol
	h.SetSource(f.Source)
	h.SetDestination(f.Destination)
	copy(h[ipv4OptionsStart:], f.Options)
	h.UpdateChecksum()
	return h, true
}

// HeaderLength returns the header length in octets, options included.
func (h IPv4) HeaderLength() int { return int(h[ipv4VersionIHL]&0x0f) * 4 }

// TOS returns the Type of Service octet: DSCP in the high six bits, ECN
// in the low two.
func (h IPv4) TOS() uint8 { return h[ipv4TOS] }

// DSCP returns the Differentiated Services Code Point (RFC 2474).
func (h IPv4) DSCP() uint8 { return h[ipv4TOS] >> 2 }

// ECN returns the ECN field (RFC 3168), one of the ECN constants.
func (h IPv4) ECN() uint8 { return h[ipv4TOS] & ecnMask }

// TotalLength returns the length of the packet, header included.
func (h IPv4) TotalLength() uint16 { return binary.BigEndian.Uint16(h[ipv4TotalLength:]) }

// ID returns the Identification field that ties fragments together.
func (h IPv4) ID() uint16 { return binary.BigEndian.Uint16(h[ipv4ID:]) }

// DontFragment reports whether the DF flag is set.
func (h IPv4) DontFragment() bool { return h.flagsOffset()&ipv4FlagDF != 0 }

// MoreFragments reports whether the MF flag is set.
func (h IPv4) MoreFragments() bool { return h.flagsOffset()&ipv4FlagMF != 0 }

// FragmentOffset returns the fragment offset in octets (the field times 8).
func (h IPv4) FragmentOffset() int { return int(h.flagsOffset()&ipv4OffsetMask) * ipv4FragmentUnit }

// IsFragment reports whether the packet is a fragment: MF is set or the
// offset is not zero.
func (h IPv4) IsFragment() bool { return h.flagsOffset()&(ipv4FlagMF|ipv4OffsetMask) != 0 }

// TTL returns the Time to Live.
func (h IPv4) TTL() uint8 { return h[ipv4TTL] }

// Protocol returns the protocol number of the payload.
func (h IPv4) Protocol() uint8 { return h[ipv4Protocol] }

// Checksum returns the Header Checksum field as carried.
func (h IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(h[ipv4Checksum:]) }

// Source returns the source address.
func (h IPv4) Source() netip.Addr { return netip.AddrFrom4([4]byte(h[ipv4Source:ipv4Destination])) }

// Destination returns the destination address.
func (h IPv4) Destination() netip.Addr {
	return netip.AddrFrom4([4]byte(h[ipv4Destination:ipv4OptionsStart]))
}

// Options returns the options and padding, empty when IHL is 5.
func (h IPv4) Options() []byte { return h[ipv4OptionsStart:h.HeaderLength()] }

// Payload returns the octets after the header, up to Total Length.
func (h IPv4) Payload() []byte { return h[h.HeaderLength():] }

// SetTOS sets the Type of Service octet (DSCP and ECN).
func (h IPv4) SetTOS(tos uint8) { h[ipv4TOS] = tos }

// SetTotalLength sets the Total Length field. The view keeps its length;
// parse again to see the packet at its new length.
func (h IPv4) SetTotalLength(n uint16) { binary.BigEndian.PutUint16(h[ipv4TotalLength:], n) }

// SetID sets the Identification field.
func (h IPv4) SetID(id uint16) { binary.BigEndian.PutUint16(h[ipv4ID:], id) }

// SetDontFragment sets or clears DF, leaving MF and the offset alone.
func (h IPv4) SetDontFragment(df bool) {
	v := h.flagsOffset() &^ ipv4FlagDF
	if df {
		v |= ipv4FlagDF
	}
	binary.BigEndian.PutUint16(h[ipv4FlagsOffset:], v)
}

// SetTTL sets the Time to Live.
func (h IPv4) SetTTL(ttl uint8) { h[ipv4TTL] = ttl }

// SetProtocol sets the protocol number.
func (h IPv4) SetProtocol(p uint8) { h[ipv4Protocol] = p }

// SetChecksum sets the Header Checksum field.
func (h IPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(h[ipv4Checksum:], c) }

// SetSource sets the source address. It reports false, writing nothing,
// when a is not an IPv4 address.
func (h IPv4) SetSource(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	copy(h[ipv4Source:], b[:])
	return true
}

// SetDestination sets the destination address. It reports false, writing
// nothing, when a is not an IPv4 address.
func (h IPv4) SetDestination(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	copy(h[ipv4Destination:], b[:])
	return true
}

// ComputeChecksum returns the header checksum the header should carry,
// computed over the header with the checksum field taken as zero.
func (h IPv4) ComputeChecksum() uint16 {
	hdr := h[:h.HeaderLength()]
	s := PartialChecksum(hdr[:ipv4Checksum], 0)
	s = PartialChecksum(hdr[ipv4Checksum+2:], s)
	return ^s
}

// UpdateChecksum stores the checksum of the header as it now stands.
func (h IPv4) UpdateChecksum() { h.SetChecksum(h.ComputeChecksum()) }

// ChecksumValid reports whether the header checksum is right: the ones'
// complement sum of the whole header, checksum included, is all ones.
func (h IPv4) ChecksumValid() bool {
	return PartialChecksum(h[:h.HeaderLength()], 0) == 0xffff
}

func (h IPv4) flagsOffset() uint16 { return binary.BigEndian.Uint16(h[ipv4FlagsOffset:]) }

// setFlagsOffset writes the flags and fragment offset word; offset is in
// octets and must be a multiple of 8 no larger than ipv4MaximumOffset.
func (h IPv4) setFlagsOffset(df, mf bool, offset int) {
	v := uint16(offset/ipv4FragmentUnit) & ipv4OffsetMask
	if df {
		v |= ipv4FlagDF
	}
	if mf {
		v |= ipv4FlagMF
	}
	binary.BigEndian.PutUint16(h[ipv4FlagsOffset:], v)
}
