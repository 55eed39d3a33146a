package ikev2

import (
	"fmt"
	"net/netip"
	"strings"

	"ipsecgw/ike/wire"
)

// Selectors are the traffic selectors of one Child SA from this gateway's
// point of view: Local is the traffic behind this gateway, Remote the
// traffic behind the peer. The initiator sends Local as TSi and Remote as
// TSr; for the responder the initiator's TSi is remote traffic.
type Selectors struct {
	Local, Remote []wire.TrafficSelector
}

// Whole address spaces, all protocols, all ports.
var (
	anyIPv4 = netip.MustParsePrefix("0.0.0.0/0")
	anyIPv6 = netip.MustParsePrefix("::/0")
)

// PrefixSelector is the selector of a prefix: its first to its last
// address, any protocol, all ports. An IPv4-mapped IPv6 prefix becomes the
// IPv4 prefix it maps; an invalid prefix gives the zero selector.
func PrefixSelector(p netip.Prefix) wire.TrafficSelector {
	if !p.IsValid() {
		return wire.TrafficSelector{}
	}
	p = unmapPrefix(p).Masked()
	return wire.TrafficSelector{StartPort: 0, EndPort: 65535, Start: p.Addr(), End: lastAddr(p)}
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// lastAddr is the highest address of a masked prefix: its host bits set.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := range a {
		switch {
		case bits >= (i+1)*8:
		case bits <= i*8:
			a[i] = 0xff
		default:
			a[i] |= 0xff >> (bits - i*8)
		}
	}
	last := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		return last.Unmap()
	}
	return last
}

// SelectorPrefixes returns the fewest prefixes that cover exactly the
// selector's address range, lowest first: the form a route or a kernel
// policy takes. An invalid range (mixed families, start after end) gives
// none.
func SelectorPrefixes(ts wire.TrafficSelector) []netip.Prefix {
	start, end := ts.Start, ts.End
	if !validRange(start, end) {
		return nil
	}
	var out []netip.Prefix
	for {
		// The largest block that starts at start and ends by end.
		p := netip.PrefixFrom(start, start.BitLen())
		for bits := 0; bits <= start.BitLen(); bits++ {
			q := netip.PrefixFrom(start, bits).Masked()
			if q.Addr() == start && lastAddr(q).Compare(end) <= 0 {
				p = q
				break
			}
		}
		out = append(out, p)
		last := lastAddr(p)
		if last == end {
			return out
		}
		start = last.Next()
	}
}

func validRange(start, end netip.Addr) bool {
	return start.IsValid() && end.IsValid() && start.Is4() == end.Is4() &&
		start.Zone() == "" && end.Zone() == "" && start.Compare(end) <= 0
}

// OPAQUE ports (RFC 7296 §3.13.1): start 65535, end 0, for traffic whose
// ports cannot be seen (non-initial fragments).
const opaqueStart, opaqueEnd = 65535, 0

func isOpaque(ts wire.TrafficSelector) bool {
	return ts.StartPort == opaqueStart && ts.EndPort == opaqueEnd
}

func allPorts(ts wire.TrafficSelector) bool { return ts.StartPort == 0 && ts.EndPort == 65535 }

// Intersect returns the traffic both selectors cover: the overlap of their
// address and port ranges, and the protocol if both name the same one or
// one of them is any (0). OPAQUE ports meet only OPAQUE or all ports.
// ok is false when nothing is left or either selector is malformed.
func Intersect(a, b wire.TrafficSelector) (wire.TrafficSelector, bool) {
	if !validRange(a.Start, a.End) || !validRange(b.Start, b.End) || a.Start.Is4() != b.Start.Is4() {
		return wire.TrafficSelector{}, false
	}
	var out wire.TrafficSelector
	out.Start, out.End = maxAddr(a.Start, b.Start), minAddr(a.End, b.End)
	if out.Start.Compare(out.End) > 0 {
		return wire.TrafficSelector{}, false
	}
	switch {
	case a.Protocol == b.Protocol, b.Protocol == 0:
		out.Protocol = a.Protocol
	case a.Protocol == 0:
		out.Protocol = b.Protocol
	default:
		return wire.TrafficSelector{}, false
	}
	switch {
	case isOpaque(a) && (isOpaque(b) || allPorts(b)), isOpaque(b) && allPorts(a):
		out.StartPort, out.EndPort = opaqueStart, opaqueEnd
	case isOpaque(a) || isOpaque(b) || a.StartPort > a.EndPort || b.StartPort > b.EndPort:
		return wire.TrafficSelector{}, false
	default:
		out.StartPort, out.EndPort = max(a.StartPort, b.StartPort), min(a.EndPort, b.EndPort)
		if out.StartPort > out.EndPort {
			return wire.TrafficSelector{}, false
		}
	}
	return out, true
}

func maxAddr(a, b netip.Addr) netip.Addr {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

func minAddr(a, b netip.Addr) netip.Addr {
	if a.Compare(b) <= 0 {
		return a
	}
	return b
}

// contains reports whether inner is all within outer.
func contains(outer, inner wire.TrafficSelector) bool {
	x, ok := Intersect(outer, inner)
	return ok && x == inner
}

// Narrowed is the responder's answer to the initiator's selectors.
type Narrowed struct {
	// TSi and TSr go into the response as they are: subsets of the
	// initiator's TSi and TSr (RFC 7296 §2.9).
	TSi, TSr []wire.TrafficSelector
	// Policy indexes the Selectors (the Child SA of the VPN) that accepted
	// them.
	Policy int
}

// Narrow is the responder's traffic selector negotiation (RFC 7296 §2.9).
// tsi and tsr are the initiator's; policy is what this gateway allows,
// one Selectors per Child SA (the resolved peer's), where the initiator's
// TSi is matched against Remote and TSr against Local. The answer is the
// intersection of each proposed selector with the policy's, in the
// initiator's order, duplicates dropped; address families that end up on
// one side only are dropped too, as no packet could use them.
//
// The first selectors of TSi and TSr may describe the packet that
// triggered the request (§2.9). Narrow honours that: it takes the first
// policy entry that accepts some of both first selectors, and only when
// none does, the first that accepts anything; the intersection of the
// first selectors, when not empty, comes first in the answer, so the
// answer includes the triggering packet whenever the policy allows it.
// Narrow never widens; it does not send ADDITIONAL_TS_POSSIBLE, since each
// policy entry is a Child SA of its own. Nothing in common is an error
// wrapping ErrTSUnacceptable.
func Narrow(tsi, tsr []wire.TrafficSelector, policy []Selectors) (Narrowed, error) {
	if len(tsi) == 0 || len(tsr) == 0 {
		return Narrowed{}, tsError(tsi, tsr, policy, "the initiator proposed no TSi or no TSr")
	}
	best := -1
	var bestN Narrowed
	for i, p := range policy {
		n, ok := narrowPair(tsi, tsr, p)
		if !ok {
			continue
		}
		n.Policy = i
		_, firstI := intersectAny(tsi[0], p.Remote)
		_, firstR := intersectAny(tsr[0], p.Local)
		if firstI && firstR {
			return n, nil
		}
		if best < 0 {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return Narrowed{}, tsError(tsi, tsr, policy, "no policy entry shares traffic with them")
	}
	return bestN, nil
}

func intersectAny(ts wire.TrafficSelector, list []wire.TrafficSelector) (wire.TrafficSelector, bool) {
	for _, l := range list {
		if x, ok := Intersect(ts, l); ok {
			return x, true
		}
	}
	return wire.TrafficSelector{}, false
}

func narrowPair(tsi, tsr []wire.TrafficSelector, p Selectors) (Narrowed, bool) {
	ni, nr := narrowList(tsi, p.Remote), narrowList(tsr, p.Local)
	var v4i, v6i, v4r, v6r bool
	for _, ts := range ni {
		v4i, v6i = v4i || ts.Start.Is4(), v6i || !ts.Start.Is4()
	}
	for _, ts := range nr {
		v4r, v6r = v4r || ts.Start.Is4(), v6r || !ts.Start.Is4()
	}
	keep := func(list []wire.TrafficSelector, v4, v6 bool) []wire.TrafficSelector {
		out := list[:0]
		for _, ts := range list {
			if ts.Start.Is4() && v4 || !ts.Start.Is4() && v6 {
				out = append(out, ts)
			}
		}
		return out
	}
	ni, nr = keep(ni, v4r, v6r), keep(nr, v4i, v6i)
	if len(ni) == 0 || len(nr) == 0 {
		return Narrowed{}, false
	}
	return Narrowed{TSi: ni, TSr: nr}, true
}

// narrowList intersects each proposed selector with each allowed one, in
// the proposed order.
func narrowList(proposed, allowed []wire.TrafficSelector) []wire.TrafficSelector {
	var out []wire.TrafficSelector
	for _, p := range proposed {
		for _, a := range allowed {
			x, ok := Intersect(p, a)
			if ok && !containsSelector(out, x) {
				out = append(out, x)
			}
		}
	}
	return out
}

func containsSelector(list []wire.TrafficSelector, ts wire.TrafficSelector) bool {
	for _, x := range list {
		if x == ts {
			return true
		}
	}
	return false
}

// CheckNarrowed is the initiator's check of the responder's selectors:
// each must lie within one the initiator proposed on the same side, since
// the responder may narrow but never widen (§2.9), and neither side may be
// empty. The error wraps ErrTSUnacceptable; the initiator then deletes the
// Child SA.
func CheckNarrowed(sentTSi, sentTSr, gotTSi, gotTSr []wire.TrafficSelector) error {
	for _, side := range []struct {
		name      string
		sent, got []wire.TrafficSelector
	}{{"TSi", sentTSi, gotTSi}, {"TSr", sentTSr, gotTSr}} {
		if len(side.got) == 0 {
			return fmt.Errorf("%w: the responder's %s is empty", ErrTSUnacceptable, side.name)
		}
		for _, g := range side.got {
			within := false
			for _, s := range side.sent {
				if contains(s, g) {
					within = true
					break
				}
			}
			if !within {
				return fmt.Errorf("%w: the responder's %s %v is not within what was proposed [%s]",
					ErrTSUnacceptable, side.name, g, describeSelectors(side.sent))
			}
		}
	}
	return nil
}

func tsError(tsi, tsr []wire.TrafficSelector, policy []Selectors, reason string) error {
	var pol []string
	for _, p := range policy {
		pol = append(pol, fmt.Sprintf("local [%s] remote [%s]", describeSelectors(p.Local), describeSelectors(p.Remote)))
	}
	return fmt.Errorf("%w: %s; initiator's TSi [%s] TSr [%s]; local policy %s",
		ErrTSUnacceptable, reason, describeSelectors(tsi), describeSelectors(tsr), strings.Join(pol, "; "))
}

func describeSelectors(list []wire.TrafficSelector) string {
	s := make([]string, len(list))
	for i, ts := range list {
		s[i] = ts.String()
	}
	return strings.Join(s, ", ")
}
