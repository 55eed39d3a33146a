package wire

import (
	"fmt"
	"net/netip"
)

// TrafficSelector is one traffic selector (§3.13.1): an address range, an
// IP protocol and a port range. Its type, TS_IPV4_ADDR_RANGE or
// TS_IPV6_ADDR_RANGE, follows from the addresses.
type TrafficSelector struct {
	// Protocol is the IP protocol number, 0 for any.
	Protocol uint8
	// StartPort and EndPort bound the ports, 0 to 65535 for any. For ICMP
	// they carry type and code; start 65535 with end 0 means OPAQUE.
	StartPort, EndPort uint16
	// Start and End bound the addresses, both IPv4 or both IPv6, without
	// zone.
	Start, End netip.Addr
}

// Type is the selector's TS Type.
func (ts TrafficSelector) Type() TSType {
	if ts.Start.Is4() {
		return TS_IPV4_ADDR_RANGE
	}
	return TS_IPV6_ADDR_RANGE
}

func (ts TrafficSelector) String() string {
	return fmt.Sprintf("%v-%v proto %d port %d-%d", ts.Start, ts.End, ts.Protocol, ts.StartPort, ts.EndPort)
}

// TSi is the initiator's traffic selectors payload, TSr the responder's
// (§3.13).
type (
	TSi struct{ Selectors []TrafficSelector }
	TSr struct{ Selectors []TrafficSelector }
)

func (*TSi) PayloadType() PayloadType { return PayloadTSi }
func (*TSr) PayloadType() PayloadType { return PayloadTSr }

// Selector Length of each TS type: header (8) and two addresses.
const (
	tsHeaderLen = 8
	tsIPv4Len   = tsHeaderLen + 2*4
	tsIPv6Len   = tsHeaderLen + 2*16
)

// parseSelectors decodes a TSi or TSr payload body (§3.13):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Number of TSs |                 RESERVED                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                       <Traffic Selectors>                     ~
//
// and each selector:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   TS Type     |IP Protocol ID*|       Selector Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Start Port*         |           End Port*           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                         Starting Address*                     ~
//	~                         Ending Address*                       ~
func parseSelectors(r *reader) ([]TrafficSelector, error) {
	at := r.Offset()
	var count uint8
	if !r.U8(&count) || !r.Skip(3) {
		return nil, r.short(at, "Number of TSs and RESERVED", 4)
	}
	var sels []TrafficSelector
	if count > 0 {
		sels = make([]TrafficSelector, 0, count)
	}
	for i := 1; !r.Empty(); i++ {
		sat := r.Offset()
		if i > int(count) {
			return nil, r.errorf(sat, "Number of TSs says %d, more follow", count)
		}
		var typ uint8
		var length uint16
		var ts TrafficSelector
		if !r.U8(&typ) || !r.U8(&ts.Protocol) || !r.U16(&length) || !r.U16(&ts.StartPort) || !r.U16(&ts.EndPort) {
			return nil, r.short(sat, fmt.Sprintf("traffic selector %d header", i), tsHeaderLen)
		}
		var want int
		switch TSType(typ) {
		case TS_IPV4_ADDR_RANGE:
			want = tsIPv4Len
		case TS_IPV6_ADDR_RANGE:
			want = tsIPv6Len
		default:
			return nil, r.errorf(sat, "traffic selector %d: TS Type %d, want %d (IPv4) or %d (IPv6)",
				i, typ, TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE)
		}
		if int(length) != want {
			return nil, r.errorf(sat+2, "traffic selector %d: Selector Length %d for %v, want %d", i, length, TSType(typ), want)
		}
		n := (want - tsHeaderLen) / 2
		var start, end []byte
		if !r.Bytes(&start, n) || !r.Bytes(&end, n) {
			return nil, r.short(sat, fmt.Sprintf("traffic selector %d", i), want)
		}
		ts.Start, _ = netip.AddrFromSlice(start)
		ts.End, _ = netip.AddrFromSlice(end)
		sels = append(sels, ts)
	}
	if len(sels) != int(count) {
		return nil, r.errorf(at, "Number of TSs says %d, found %d", count, len(sels))
	}
	return sels, nil
}

func parseTSi(r *reader) (Payload, error) {
	s, err := parseSelectors(r)
	if err != nil {
		return nil, err
	}
	return &TSi{Selectors: s}, nil
}

func parseTSr(r *reader) (Payload, error) {
	s, err := parseSelectors(r)
	if err != nil {
		return nil, err
	}
	return &TSr{Selectors: s}, nil
}

func (p *TSi) encode(b *builder) { encodeSelectors(b, p.Selectors) }
func (p *TSr) encode(b *builder) { encodeSelectors(b, p.Selectors) }

func encodeSelectors(b *builder, sels []TrafficSelector) {
	b.u8Len(len(sels), "Number of TSs")
	b.Zeros(3)
	for i, ts := range sels {
		v4 := ts.Start.Is4() && ts.End.Is4()
		v6 := ts.Start.Is6() && ts.End.Is6() && ts.Start.Zone() == "" && ts.End.Zone() == ""
		if !v4 && !v6 {
			b.fail("traffic selector %d: %v to %v is not one address family without zone", i+1, ts.Start, ts.End)
			return
		}
		length := tsIPv6Len
		if v4 {
			length = tsIPv4Len
		}
		b.U8(uint8(ts.Type()))
		b.U8(ts.Protocol)
		b.U16(uint16(length))
		b.U16(ts.StartPort)
		b.U16(ts.EndPort)
		b.addr(ts.Start)
		b.addr(ts.End)
	}
}

// addr writes a selector address: 4 bytes for IPv4, 16 for IPv6.
func (b *builder) addr(a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		b.Append(v[:])
		return
	}
	v := a.As16()
	b.Append(v[:])
}
