package v1

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
)

// Identification is the Identification payload of the IPsec DOI (RFC
// 2407 §4.6.2). In phase 1 it names the peer (IDii, IDir), with Protocol
// and Port zero or UDP and 500; in Quick Mode the two of them (IDci,
// IDcr) are the traffic selectors, an address, subnet or range with an IP
// protocol and port, zero for any:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!   ID Type     !  Protocol ID  !             Port              !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                     Identification Data                       ~
type Identification struct {
	Type     IDType
	Protocol uint8 // IP protocol, 0 for any
	Port     uint16
	// Data is the address (4 or 16 bytes), address and mask, first and
	// last address, name or DER, as Type says.
	Data []byte
}

func (*Identification) PayloadType() PayloadType { return PayloadID }

// IDFromAddr is the identification of one IP address: ID_IPV4_ADDR or
// ID_IPV6_ADDR. An IPv4-mapped address is taken as IPv4.
func IDFromAddr(a netip.Addr) Identification {
	a = a.Unmap()
	t := ID_IPV6_ADDR
	if a.Is4() {
		t = ID_IPV4_ADDR
	}
	return Identification{Type: t, Data: a.AsSlice()}
}

// IDFromPrefix is the Quick Mode identification of a subnet:
// ID_IPV4_ADDR_SUBNET or ID_IPV6_ADDR_SUBNET, the masked address and the
// mask.
func IDFromPrefix(p netip.Prefix) Identification {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	t, n := ID_IPV6_ADDR_SUBNET, 16
	if p.Addr().Is4() {
		t, n = ID_IPV4_ADDR_SUBNET, 4
	}
	data := append(p.Addr().AsSlice(), make([]byte, n)...)
	mask := data[n:]
	for i := range p.Bits() {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return Identification{Type: t, Data: data}
}

// IDFromRange is the Quick Mode identification of an address range:
// ID_IPV4_ADDR_RANGE or ID_IPV6_ADDR_RANGE. first and last must be of the
// same family.
func IDFromRange(first, last netip.Addr) (Identification, error) {
	first, last = first.Unmap(), last.Unmap()
	if !first.IsValid() || first.BitLen() != last.BitLen() {
		return Identification{}, encodeError("range %v to %v: not two addresses of one family", first, last)
	}
	t := ID_IPV6_ADDR_RANGE
	if first.Is4() {
		t = ID_IPV4_ADDR_RANGE
	}
	return Identification{Type: t, Data: append(first.AsSlice(), last.AsSlice()...)}, nil
}

// Addr returns the address of an ID_IPV4_ADDR or ID_IPV6_ADDR
// identification.
func (id Identification) Addr() (netip.Addr, bool) {
	if want := addrLen(id.Type); want == 0 || want != len(id.Data) || isPair(id.Type) {
		return netip.Addr{}, false
	}
	return netip.AddrFromSlice(id.Data)
}

// Prefix returns the subnet of an ID_IPV4_ADDR_SUBNET or
// ID_IPV6_ADDR_SUBNET identification, and also an ID_IPV4_ADDR or
// ID_IPV6_ADDR one as a host prefix, since peers send either for a single
// host. It fails for a mask that is not contiguous ones, which no prefix
// can say, and for an address with bits set beyond the mask.
func (id Identification) Prefix() (netip.Prefix, bool) {
	if a, ok := id.Addr(); ok {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	if id.Type != ID_IPV4_ADDR_SUBNET && id.Type != ID_IPV6_ADDR_SUBNET || len(id.Data) != 2*addrLen(id.Type) {
		return netip.Prefix{}, false
	}
	n := len(id.Data) / 2
	bits, ok := maskBits(id.Data[n:])
	if !ok {
		return netip.Prefix{}, false
	}
	a, _ := netip.AddrFromSlice(id.Data[:n])
	p := netip.PrefixFrom(a, bits)
	if p.Masked().Addr() != a {
		return netip.Prefix{}, false
	}
	return p, true
}

// maskBits counts the leading ones of a mask that is ones then zeros.
func maskBits(mask []byte) (int, bool) {
	n, ended := 0, false
	for _, c := range mask {
		switch {
		case ended && c != 0:
			return 0, false
		case ended:
		case c == 0xff:
			n += 8
		default:
			ones := bits.LeadingZeros8(^c)
			if c<<ones != 0 {
				return 0, false // a one after a zero
			}
			n += ones
			ended = true
		}
	}
	return n, true
}

// Range returns the first and last address of an ID_IPV4_ADDR_RANGE or
// ID_IPV6_ADDR_RANGE identification.
func (id Identification) Range() (first, last netip.Addr, ok bool) {
	if id.Type != ID_IPV4_ADDR_RANGE && id.Type != ID_IPV6_ADDR_RANGE || len(id.Data) != 2*addrLen(id.Type) {
		return netip.Addr{}, netip.Addr{}, false
	}
	n := len(id.Data) / 2
	first, _ = netip.AddrFromSlice(id.Data[:n])
	last, _ = netip.AddrFromSlice(id.Data[n:])
	return first, last, true
}

// AppendBody appends the payload body: IDii_b and IDir_b, which HASH_I
// and HASH_R cover (RFC 2409 §5), computed before the payload is sent.
func (id Identification) AppendBody(dst []byte) []byte {
	dst = append(dst, uint8(id.Type), id.Protocol)
	dst = binary.BigEndian.AppendUint16(dst, id.Port)
	return append(dst, id.Data...)
}

func (id Identification) String() string {
	var s string
	if p, ok := id.Prefix(); ok {
		s = p.String()
		if id.Type == ID_IPV4_ADDR || id.Type == ID_IPV6_ADDR {
			s = p.Addr().String()
		}
	} else if first, last, ok := id.Range(); ok {
		s = first.String() + "-" + last.String()
	} else if id.Type == ID_FQDN || id.Type == ID_USER_FQDN {
		s = string(id.Data)
	} else {
		s = fmt.Sprintf("%v:%x", id.Type, id.Data)
	}
	if id.Protocol != 0 || id.Port != 0 {
		s += fmt.Sprintf("[%d/%d]", id.Protocol, id.Port)
	}
	return s
}

// addrLen is the size of one address of an address ID type, 0 for other
// types.
func addrLen(t IDType) int {
	switch t {
	case ID_IPV4_ADDR, ID_IPV4_ADDR_SUBNET, ID_IPV4_ADDR_RANGE:
		return 4
	case ID_IPV6_ADDR, ID_IPV6_ADDR_SUBNET, ID_IPV6_ADDR_RANGE:
		return 16
	}
	return 0
}

// isPair reports whether the type carries two addresses.
func isPair(t IDType) bool {
	switch t {
	case ID_IPV4_ADDR_SUBNET, ID_IPV4_ADDR_RANGE, ID_IPV6_ADDR_SUBNET, ID_IPV6_ADDR_RANGE:
		return true
	}
	return false
}

// dataLen is the size an address ID type's data must have, 0 for types of
// any size.
func dataLen(t IDType) int {
	n := addrLen(t)
	if isPair(t) {
		n *= 2
	}
	return n
}

func parseID(r *reader) (Payload, error) {
	at := r.Offset()
	var t, proto uint8
	var port uint16
	if !r.U8(&t) || !r.U8(&proto) || !r.U16(&port) {
		return nil, r.short(at, "ID Type, Protocol ID and Port", 4)
	}
	id := &Identification{Type: IDType(t), Protocol: proto, Port: port, Data: r.Rest()}
	if want := dataLen(id.Type); want != 0 && len(id.Data) != want {
		return nil, r.errorf(at+4, "%v data is %d bytes, want %d", id.Type, len(id.Data), want)
	}
	return id, nil
}

func (id *Identification) encode(b *builder) {
	if want := dataLen(id.Type); want != 0 && len(id.Data) != want {
		b.fail("%v data is %d bytes, want %d", id.Type, len(id.Data), want)
	}
	b.AppendWith(id.AppendBody)
}
