package show

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// text accumulates a layout line by line.
type text struct{ strings.Builder }

// line prints one line; format and args as fmt.Sprintf.
func (t *text) line(format string, args ...any) {
	fmt.Fprintf(&t.Builder, format, args...)
	t.WriteByte('\n')
}

// counter prints "<indent><label><spaces><value>" with the value
// right-aligned to end at column end (1-based), or one space after the label
// when the value does not fit. The ESP/AH counters of the statistics end at
// column 35, the IKE traffic statistics at 39.
func (t *text) counter(indent, label string, value uint64, end int) {
	v := strconv.FormatUint(value, 10)
	pad := end - len(indent) - len(label) - len(v)
	t.line("%s%s%s%s", indent, label, strings.Repeat(" ", max(pad, 1)), v)
}

// seconds is a remaining time in whole seconds, never negative (a lifetime
// that ran out while the view was taken reads as 0).
func seconds(d time.Duration) int64 {
	return max(int64(d/time.Second), 0)
}

// expires is the Junos wording of a remaining lifetime.
func expires(d time.Duration) string {
	return fmt.Sprintf("Expires in %d seconds", seconds(d))
}

// onOff is Junos's Enabled/Disabled.
func onOff(b bool) string {
	if b {
		return "Enabled"
	}
	return "Disabled"
}

// yesNo is Junos's Yes/No.
func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// cookie prints an IKE SPI (IKEv1 cookie) as Junos does: 16 lower-case hex
// digits, zeros while the responder has not answered.
func cookie(spi uint64) string { return fmt.Sprintf("%016x", spi) }

// addrOrZero prints a, or the unspecified address of a's family ("0.0.0.0")
// when a is unset, as Junos prints an address nobody assigned.
func addrOrZero(a netip.Addr) string {
	if !a.IsValid() {
		return "0.0.0.0"
	}
	return a.String()
}

// orDefault is s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// eventTime is the Junos timestamp of tunnel events and failures,
// "Sun Oct 13 2024 11:33:44", in t's own location.
func eventTime(t time.Time) string { return t.Format("Mon Jan 02 2006 15:04:05") }

// dhGroup names a Diffie-Hellman group as Junos prints it, "DH-group-14".
func dhGroup(n int) string { return "DH-group-" + strconv.Itoa(n) }

// Selector is one traffic selector (a proxy ID): an inclusive address range,
// optionally narrowed to one IP protocol and port.
type Selector struct {
	First, Last netip.Addr // the range, inclusive; both of one family
	Protocol    uint8      // IP protocol number; 0 is any
	Port        uint16     // 0 is any
}

// SelectorFromPrefix is the selector covering p, any protocol, any port.
func SelectorFromPrefix(p netip.Prefix) Selector {
	p = p.Masked()
	return Selector{First: p.Addr(), Last: lastAddr(p)}
}

// family is "ipv4" or "ipv6".
func (s Selector) family() string {
	if s.First.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// Range is the iked form of `show security ipsec security-associations
// detail`: "ipv4(0.0.0.0-255.255.255.255)". Protocol and port are not shown
// there.
func (s Selector) Range() string {
	return fmt.Sprintf("%s(%s-%s)", s.family(), s.First, s.Last)
}

// Identity is the kmd form of `show services ipsec-vpn ipsec
// security-associations detail`, named after the IKEv1 identity type that
// carries the selector: "ipv4_subnet(any:0,[0..7]=10.1.12.0/24)" for a
// prefix, "ipv4(any:0,[0..3]=192.0.2.1)" for one address and
// "ipv4_range(any:0,[0..7]=192.0.2.1-192.0.2.9)" otherwise. The bracket
// gives the byte span of the identity data; "any:0" is the protocol and port.
func (s Selector) Identity() string {
	n := s.First.BitLen() / 8
	kind, span, data := "_range", 2*n, s.First.String()+"-"+s.Last.String()
	switch {
	case s.First == s.Last:
		kind, span, data = "", n, s.First.String()
	default:
		if p, ok := s.prefix(); ok {
			kind, data = "_subnet", p.String()
		}
	}
	return fmt.Sprintf("%s%s(%s:%d,[0..%d]=%s)", s.family(), kind, protocolName(s.Protocol), s.Port, span-1, data)
}

// prefix is the prefix that covers exactly the range, if there is one.
func (s Selector) prefix() (netip.Prefix, bool) {
	for bits := 0; bits <= s.First.BitLen(); bits++ {
		p := netip.PrefixFrom(s.First, bits).Masked()
		if p.Addr() == s.First && lastAddr(p) == s.Last {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(a)*8; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	last, _ := netip.AddrFromSlice(a)
	return last
}

// protocolName is the kmd name of an IP protocol in an identity.
func protocolName(p uint8) string {
	switch p {
	case 0:
		return "any"
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "ipv6-icmp"
	}
	return strconv.Itoa(int(p))
}
