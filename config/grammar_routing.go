package config

import (
	"fmt"
	"strconv"
	"strings"
)

// The routing statements: routing-options, protocols (OSPF, OSPFv3, BGP)
// and policy-options, the subset a route-based VPN needs (seed 001's OSPF
// across the tunnel, a cloud provider's BGP over two st0 units). FRR runs
// them (package frr); the model is config/schema's routing.go.

var (
	typeASN = uintRange(1, 4294967295)
	// typePrefixLength is a route-filter's "/N" (upto /24).
	typePrefixLength = &Type{Name: "a prefix length /N (0..128)", check: func(s string) error {
		if _, ok := PrefixLength(s); !ok {
			return fmt.Errorf("%q is not a prefix length /N", s)
		}
		return nil
	}}
	// typePrefixLengthRange is "/N-/M" (prefix-length-range /24-/28).
	typePrefixLengthRange = &Type{Name: "a prefix length range /N-/M", check: func(s string) error {
		lo, hi, ok := strings.Cut(s, "-")
		a, okA := PrefixLength(lo)
		b, okB := PrefixLength(hi)
		if !ok || !okA || !okB || a > b {
			return fmt.Errorf("%q is not a prefix length range /N-/M with N <= M", s)
		}
		return nil
	}}
	bfdLiveness = container("bfd-liveness-detection", "Bidirectional forwarding detection",
		leaf("minimum-interval", "Minimum transmit and receive interval in milliseconds", uintRange(10, 255000)),
		leaf("multiplier", "Missed packets before the session is down", uintRange(1, 255)),
	)
)

// PrefixLength parses a route-filter length "/N".
func PrefixLength(s string) (int, bool) {
	if !strings.HasPrefix(s, "/") {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 10, 8)
	if err != nil || n > 128 {
		return 0, false
	}
	return int(n), true
}

var routingOptions = container("routing-options", "Routing",
	leaf("router-id", "Router identifier", typeDottedQuad),
	leaf("autonomous-system", "Autonomous system number", typeASN),
	container("static", "Static routes",
		list("route", "Static route", typePrefix,
			leafList("next-hop", "Next hop: gateway address or interface", typeNextHop, 8),
			list("qualified-next-hop", "Next hop with its own preference (a floating route)", typeNextHop,
				leaf("preference", "Preference of this next hop (lower wins)", uintRange(0, 4294967295)),
				leaf("metric", "Metric of this next hop", uintRange(0, 4294967295)),
			).oneline().notApplied("ipsecgw installs next-hop and discard routes; a qualified next hop is not installed"),
			flag("discard", "Drop matching packets"),
			leaf("preference", "Route preference", uintRange(0, 4294967295)).
				notApplied("ipsecgw installs static routes in the kernel's main table, where they win over the routes FRR learns"),
		).oneline(),
	),
)

// ospfArea builds "area A { interface IF { ... } }" for OSPFv2 (with md5
// authentication) and OSPFv3 (without: it relies on IPsec).
func ospfArea(v2 bool) *Node {
	ifc := []*Node{
		flag("passive", "Do not form adjacencies"),
		leaf("interface-type", "Interface type (default: p2p on tunnel and serial interfaces, broadcast on Ethernet)", enum("p2p", "broadcast", "nbma", "p2mp")),
		leaf("metric", "Interface metric", uintRange(1, 65535)),
		leaf("hello-interval", "Hello interval in seconds", uintRange(1, 255)),
		leaf("dead-interval", "Dead interval in seconds", uintRange(1, 65535)),
		bfdLiveness,
	}
	if v2 {
		ifc = append(ifc, container("authentication", "Authentication",
			list("md5", "MD5 authentication key", uintRange(0, 255),
				leaf("key", "Key (text, stored as $9$)", typeSecretText),
			).oneline(),
		))
	}
	return list("area", "OSPF area", typeArea,
		list("interface", "Interface in this area", typeIfOrIfl, ifc...),
	)
}

func ospf(name, help string, v2 bool) *Node {
	return container(name, help,
		leafList("export", "Export policies, in order", nameType, 0),
		leaf("reference-bandwidth", "Bandwidth that has metric 1 (e.g. 100m, 10g)", typeBandwidth),
		ospfArea(v2),
	)
}

// bgpPeer is what a group and a neighbor both set (the neighbor wins).
func bgpPeer() []*Node {
	return []*Node{
		description(),
		leaf("peer-as", "Peer autonomous system", typeASN),
		leaf("local-as", "Local autonomous system for this peer", typeASN),
		leaf("local-address", "Local address of the session", typeIP),
		leaf("hold-time", "Hold time in seconds", uintRange(3, 65535)),
		leafList("import", "Import policies, in order", nameType, 0),
		leafList("export", "Export policies, in order", nameType, 0),
		container("multihop", "The peer is not directly connected",
			leaf("ttl", "Time to live", uintRange(1, 255)),
		),
		leaf("authentication-key", "TCP MD5 key (text, stored as $9$)", typeSecretText),
		bfdLiveness,
	}
}

var protocols = container("protocols", "Routing protocols",
	container("bgp", "BGP",
		list("group", "BGP group", nameType, append([]*Node{
			leaf("type", "Session type", enum("external", "internal")),
			list("family", "Address family", enum("inet", "inet6"),
				flag("unicast", "Unicast routes"),
			).oneline(),
		}, append(bgpPeer(),
			list("neighbor", "BGP neighbor", typeIP, bgpPeer()...),
		)...)...),
	),
	ospf("ospf", "OSPFv2", true),
	ospf("ospf3", "OSPFv3 (IPv6)", false),
)

var policyOptions = container("policy-options", "Routing policy",
	list("prefix-list", "Named list of prefixes", nameType,
		list("", "Prefix", typePrefix),
	),
	list("policy-statement", "Routing policy", nameType,
		list("term", "Policy term", nameType,
			container("from", "Match conditions",
				leafList("protocol", "Protocol the route came from", enum("static", "direct", "bgp", "ospf", "ospf3"), 0),
				leafList("prefix-list", "Prefix lists (exact match)", nameType, 0),
				list("route-filter", "Route filter", typePrefix, choices("match",
					flag("exact", "Only this prefix"),
					flag("orlonger", "This prefix and longer ones"),
					flag("longer", "Longer prefixes only"),
					leaf("upto", "This prefix and longer ones up to /N", typePrefixLength),
					leaf("prefix-length-range", "Longer prefixes of length /N to /M", typePrefixLengthRange),
				)...).oneline(),
			),
			policyThen(),
		),
		policyThen(),
	),
)

// policyThen is a then clause; the actions that change the route print
// before the one that ends the evaluation, as Junos prints them.
func policyThen() *Node {
	return container("then", "Actions", append([]*Node{
		leaf("metric", "Set the metric (MED)", uintRange(0, 4294967295)),
		leaf("local-preference", "Set the local preference", uintRange(0, 4294967295)),
		leaf("as-path-prepend", "Prepend AS numbers (\"65000 65000\")", typeASPath),
	}, choices("action",
		flag("accept", "Accept the route"),
		flag("reject", "Reject the route"),
	)...)...).oneline()
}

var (
	typeBandwidth = &Type{Name: "a bandwidth (bits per second, with k, m or g)", check: func(s string) error {
		if _, ok := Bandwidth(s); !ok {
			return fmt.Errorf("%q is not a bandwidth", s)
		}
		return nil
	}}
	typeASPath = &Type{Name: "AS numbers separated by spaces", check: func(s string) error {
		f := strings.Fields(s)
		if len(f) == 0 {
			return fmt.Errorf("empty AS path")
		}
		for _, a := range f {
			if n, err := strconv.ParseUint(a, 10, 32); err != nil || n == 0 {
				return fmt.Errorf("%q is not an AS number", a)
			}
		}
		return nil
	}}
)

// Bandwidth parses a Junos bandwidth: 100m, 10g, 1000000 (bits per second).
func Bandwidth(s string) (uint64, bool) {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult = 1e3
	case strings.HasSuffix(s, "m"):
		mult = 1e6
	case strings.HasSuffix(s, "g"):
		mult = 1e9
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || n > 1e12/mult {
		return 0, false
	}
	return n * mult, true
}
