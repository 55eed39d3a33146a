package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Type is the type of a leaf value or a list key: what it accepts and how to
// say what it expected when it refuses.
type Type struct {
	// Name says what is expected, for messages and help ("integer 180..86400").
	Name string
	// Enum, when set, lists every accepted value (used for completion too).
	Enum []string
	// Secret values are stored and shown only in $9$ form.
	Secret bool
	// SecretData values (password hashes) are stored as written and shown
	// with "## SECRET-DATA", as Junos does.
	SecretData bool
	check      func(string) error
}

// Check validates one value. The error says what is wrong with it; the
// caller adds where, and what was expected (t.Name).
func (t *Type) Check(v string) error {
	if t.Enum != nil {
		for _, e := range t.Enum {
			if v == e {
				return nil
			}
		}
		// The caller adds "expected " + t.Name, which lists the values.
		return fmt.Errorf("%q is not a valid keyword here", v)
	}
	if t.check != nil {
		return t.check(v)
	}
	return nil
}

func enum(values ...string) *Type {
	return &Type{Name: "one of " + strings.Join(values, ", "), Enum: values}
}

func uintRange(lo, hi uint64) *Type {
	return &Type{
		Name: fmt.Sprintf("integer %d..%d", lo, hi),
		check: func(s string) error {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", s)
			}
			if n < lo || n > hi {
				return fmt.Errorf("%d is out of range", n)
			}
			return nil
		},
	}
}

func text(maxLen int) *Type {
	return &Type{
		Name: fmt.Sprintf("text of at most %d characters", maxLen),
		check: func(s string) error {
			if len(s) > maxLen {
				return fmt.Errorf("text is %d characters long", len(s))
			}
			return nil
		},
	}
}

var identRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]*$`)

// name is the type of user-chosen names (proposals, policies, gateways...).
func name(maxLen int) *Type {
	return &Type{
		Name: fmt.Sprintf("a name of 1..%d letters, digits, '-', '_', '.' or ':'", maxLen),
		check: func(s string) error {
			if s == "" || len(s) > maxLen {
				return fmt.Errorf("name %q has %d characters", s, len(s))
			}
			if !identRE.MatchString(s) {
				return fmt.Errorf("name %q contains a character that is not allowed", s)
			}
			return nil
		},
	}
}

var (
	typeIPv4 = &Type{Name: "an IPv4 address", check: func(s string) error {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return fmt.Errorf("%q is not an IPv4 address", s)
		}
		return nil
	}}
	typeIPv6 = &Type{Name: "an IPv6 address", check: func(s string) error {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return fmt.Errorf("%q is not an IPv6 address", s)
		}
		return nil
	}}
	typeIP = &Type{Name: "an IPv4 or IPv6 address", check: func(s string) error {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("%q is not an IP address", s)
		}
		return nil
	}}
	// typePrefix is a network prefix; host bits must be zero (2.2.2.0/24).
	typePrefix = &Type{Name: "an IPv4 or IPv6 prefix (address/length)", check: func(s string) error {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("%q is not a prefix", s)
		}
		if p.Masked() != p {
			return fmt.Errorf("%q has host bits set; the network is %s", s, p.Masked())
		}
		return nil
	}}
	// typeIfAddr is an interface address: host bits allowed (16.1.1.2/24).
	typeIfAddr = &Type{Name: "an interface address (address/length)", check: func(s string) error {
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("%q is not an address/length", s)
		}
		return nil
	}}
	typeIPOrHost = &Type{Name: "an IP address or host name", check: func(s string) error {
		if _, err := netip.ParseAddr(s); err == nil {
			return nil
		}
		if checkHostname(s) != nil {
			return fmt.Errorf("%q is neither an IP address nor a host name", s)
		}
		return nil
	}}
	typeHostname = &Type{Name: "a host name", check: checkHostname}
	typeEmail    = &Type{Name: "user@host", check: func(s string) error {
		at := strings.LastIndexByte(s, '@')
		if at <= 0 || at == len(s)-1 {
			return fmt.Errorf("%q is not of the form user@host", s)
		}
		return nil
	}}
	// typeDottedQuad is a 32-bit identifier written like an IPv4 address
	// (router-id, OSPF area).
	typeDottedQuad = &Type{Name: "a dotted-quad identifier (a.b.c.d)", check: func(s string) error {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return fmt.Errorf("%q is not a dotted quad", s)
		}
		return nil
	}}
	typeArea = &Type{Name: "an OSPF area (a.b.c.d or a number)", check: func(s string) error {
		if _, err := strconv.ParseUint(s, 10, 32); err == nil {
			return nil
		}
		return typeDottedQuad.check(s)
	}}
	typeIfName = &Type{Name: "an interface name (Linux name, or Junos name such as et-0/2/10)", check: checkIfName}
	typeIfl    = &Type{Name: "a logical interface (name.unit, e.g. st0.1)", check: checkIfl}
	// typeIfOrIfl names an interface with or without its unit (et-0/2/10 is
	// et-0/2/10.0).
	typeIfOrIfl = &Type{Name: "an interface or logical interface (et-0/2/10, ge-0/0/1.0)", check: func(s string) error {
		if checkIfName(s) == nil || checkIfl(s) == nil {
			return nil
		}
		return fmt.Errorf("%q is not an interface name", s)
	}}
	// typeNextHop is a static route's next hop: a gateway address or an
	// interface (st0.1).
	typeNextHop = &Type{Name: "a next-hop address or logical interface", check: func(s string) error {
		if _, err := netip.ParseAddr(s); err == nil {
			return nil
		}
		if checkIfl(s) == nil {
			return nil
		}
		return fmt.Errorf("%q is neither an address nor a logical interface", s)
	}}
	typeSecretText = &Type{Name: "a key (text, stored as $9$)", Secret: true}
	typeSecretHex  = &Type{Name: "a key in hexadecimal (stored as $9$)", Secret: true, check: checkHex}
	typeString     = text(900)
)

var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$`)

func checkHostname(s string) error {
	// A name whose last label is numeric would read as a (bad) address:
	// top-level domains are never all digits (RFC 3696 §2).
	last := strings.TrimSuffix(s, ".")
	if i := strings.LastIndexByte(last, '.'); i >= 0 {
		last = last[i+1:]
	}
	if _, err := strconv.ParseUint(last, 10, 64); err == nil && strings.Contains(s, ".") {
		return fmt.Errorf("%q is not a valid host name", s)
	}
	if len(s) > 253 || !hostnameRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid host name", s)
	}
	return nil
}

// checkHex validates a hexadecimal key. It never quotes the value: it is a
// secret.
func checkHex(s string) error {
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if h == "" {
		return fmt.Errorf("empty hexadecimal key")
	}
	if len(h)%2 != 0 {
		return fmt.Errorf("hexadecimal key has an odd number of digits")
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Errorf("hexadecimal key has a non-hexadecimal character at position %d", i+1)
		}
	}
	return nil
}

// Linux limits interface names to 15 bytes (IFNAMSIZ-1) without '/', spaces
// or ':'; Junos names (et-0/2/10, so-0/0/0:1) need a mapping to a host name.
var junosIfRE = regexp.MustCompile(`^[a-z]{2,4}-\d+/\d+/\d+(:\d+)?$`)

// IsJunosInterfaceName reports whether s is a Junos FPC/PIC/port name such as
// et-0/2/10, which cannot be a Linux interface name.
func IsJunosInterfaceName(s string) bool { return junosIfRE.MatchString(s) }

// IsLinuxInterfaceName reports whether s can name a Linux network interface.
func IsLinuxInterfaceName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '/' || c == ':' || c >= 0x7f {
			return false
		}
	}
	return true
}

func checkIfName(s string) error {
	if IsJunosInterfaceName(s) || IsLinuxInterfaceName(s) && !strings.Contains(s, ".") {
		return nil
	}
	return fmt.Errorf("%q is not an interface name", s)
}

// SplitIfl splits a logical interface name "ifd.unit" into its parts.
func SplitIfl(s string) (ifd string, unit uint32, ok bool) {
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(s[dot+1:], 10, 32)
	if err != nil {
		return "", 0, false
	}
	if checkIfName(s[:dot]) != nil {
		return "", 0, false
	}
	return s[:dot], uint32(n), true
}

func checkIfl(s string) error {
	if _, _, ok := SplitIfl(s); !ok {
		return fmt.Errorf("%q is not a logical interface name.unit", s)
	}
	return nil
}
