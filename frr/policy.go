package frr

import (
	"fmt"
	"slices"
	"strings"

	"ipsecgw/config/schema"
)

// Junos policy chains as FRR route-maps.
//
// A chain (export [a b]) is evaluated per route: terms in order, the first
// accept or reject wins; a term without one changes the route (metric...)
// and evaluation goes on; after the last policy the protocol's default
// applies. A route-map is first match wins too, with "on-match next" for a
// term that only changes the route, and an explicit last entry for the
// default, so each chain becomes one route-map per family and route source.
// Route lists (prefix-list, route-filter; ORed, as in Junos) become one FRR
// prefix list per term and family.

type family int

const (
	v4 family = 4
	v6 family = 6
)

// source is where a route comes from, in Junos's and FRR's words.
type source struct {
	junos string // the word of "from protocol"
	frr   string // FRR's redistribute word
	tag   uint32 // BGP export: the tag its redistributed routes carry
}

// The sources a route can come from. ipsecgw installs static routes
// itself, so FRR knows them as kernel routes.
var (
	srcStatic = source{"static", "kernel", 4200000001}
	srcDirect = source{"direct", "connected", 4200000002}
	srcOSPF   = source{"ospf", "ospf", 4200000003}
	srcOSPF3  = source{"ospf3", "ospf6", 4200000004}
	srcBGP    = source{"bgp", "bgp", 0}
)

// protoOSPF and protoBGP say which sources a protocol can export.
var (
	protoOSPF = []source{srcStatic, srcDirect, srcBGP}
	protoBGP  = []source{srcStatic, srcDirect, srcOSPF, srcOSPF3}
)

// section is one chain evaluated for routes of one source and family;
// tagged sections match only routes carrying the source's tag.
type section struct {
	chain  []*schema.PolicyStatement
	fam    family
	src    source
	tagged bool
	deflt  string // permit or deny: the protocol's default
}

// redistributable lists the sources of from that chain can accept, in
// the order given: those worth redistributing.
func redistributable(chain []*schema.PolicyStatement, from []source) []source {
	var out []source
	for _, src := range from {
		if acceptsAny(chain, src) {
			out = append(out, src)
		}
	}
	return out
}

// acceptsAny reports whether some term or final action of the chain can
// accept a route of src.
func acceptsAny(chain []*schema.PolicyStatement, src source) bool {
	for _, p := range chain {
		for _, t := range p.Terms {
			if t.Then.Action == "accept" && matchesSource(t, src) {
				return true
			}
		}
		if p.Then.Action == "accept" {
			return true
		}
	}
	return false
}

func matchesSource(t *schema.PolicyTerm, src source) bool {
	return len(t.Protocols) == 0 || slices.Contains(t.Protocols, src.junos)
}

// routeMap defines route-map name from its sections (once) and returns
// the name.
func (w *writer) routeMap(name string, chain []*schema.PolicyStatement, fam family, src source, tagged bool) string {
	deflt := "deny"
	if src == srcBGP {
		deflt = "permit"
	}
	return w.routeMapSections(name, []section{{chain: chain, fam: fam, src: src, tagged: tagged, deflt: deflt}})
}

func (w *writer) routeMapSections(name string, sections []section) string {
	if w.defined == nil {
		w.defined = map[string]bool{}
	}
	if w.defined["route-map "+name] {
		return name
	}
	w.defined["route-map "+name] = true
	seq := 0
	entry := func(action string, matches, sets []string, next bool) {
		seq += 10
		fmt.Fprintf(&w.defs, "route-map %s %s %d\n", name, action, seq)
		for _, m := range matches {
			fmt.Fprintf(&w.defs, " %s\n", m)
		}
		if action == "permit" {
			for _, s := range sets {
				fmt.Fprintf(&w.defs, " %s\n", s)
			}
			if next {
				fmt.Fprintf(&w.defs, " on-match next\n")
			}
		}
		fmt.Fprintf(&w.defs, "exit\n!\n")
	}
	for _, s := range sections {
		var tag []string
		if s.tagged {
			tag = []string{fmt.Sprintf("match tag %d", s.src.tag)}
		}
		apply := func(matches []string, a schema.PolicyActions) {
			sets := setLines(a)
			switch a.Action {
			case "accept":
				entry("permit", matches, sets, false)
			case "reject":
				entry("deny", matches, nil, false)
			default:
				if len(sets) > 0 {
					entry("permit", matches, sets, true)
				}
			}
		}
		for _, p := range s.chain {
			for _, t := range p.Terms {
				if !matchesSource(t, s.src) {
					continue
				}
				pl, ok := w.termPrefixList(p, t, s.fam)
				if !ok {
					continue // its route lists have no prefix of this family
				}
				matches := append([]string(nil), tag...)
				if pl != "" {
					matches = append(matches, fmt.Sprintf("match %s address prefix-list %s", ipWord(s.fam), pl))
				}
				apply(matches, t.Then)
			}
			apply(tag, p.Then)
		}
		entry(s.deflt, tag, nil, false)
	}
	return name
}

func setLines(a schema.PolicyActions) []string {
	var out []string
	if a.Metric != nil {
		out = append(out, fmt.Sprintf("set metric %d", *a.Metric))
	}
	if a.LocalPreference != nil {
		out = append(out, fmt.Sprintf("set local-preference %d", *a.LocalPreference))
	}
	if len(a.ASPathPrepend) > 0 {
		as := make([]string, len(a.ASPathPrepend))
		for i, n := range a.ASPathPrepend {
			as[i] = fmt.Sprint(n)
		}
		out = append(out, "set as-path prepend "+strings.Join(as, " "))
	}
	return out
}

func ipWord(f family) string {
	if f == v6 {
		return "ipv6"
	}
	return "ip"
}

// termPrefixList defines the prefix list of a term's route lists in one
// family and returns its name: "" when the term has no route list (it
// matches every prefix), ok false when it has some but none of this family
// (it matches nothing here).
func (w *writer) termPrefixList(p *schema.PolicyStatement, t *schema.PolicyTerm, fam family) (name string, ok bool) {
	if len(t.PrefixLists) == 0 && len(t.RouteFilters) == 0 {
		return "", true
	}
	var lines []string
	for _, pl := range t.PrefixLists {
		for _, pfx := range pl.Prefixes {
			if pfx.Addr().Is4() == (fam == v4) {
				lines = append(lines, pfx.String())
			}
		}
	}
	for _, f := range t.RouteFilters {
		if f.Prefix.Addr().Is4() != (fam == v4) {
			continue
		}
		l := f.Prefix.String()
		switch {
		case f.Min == f.Prefix.Bits() && f.Max == f.Prefix.Bits():
		case f.Min == f.Prefix.Bits():
			l += fmt.Sprintf(" le %d", f.Max)
		default:
			l += fmt.Sprintf(" ge %d le %d", f.Min, f.Max)
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return "", false
	}
	name = fmt.Sprintf("%s-%s-v%d", p.Name, t.Name, fam)
	if w.defined == nil {
		w.defined = map[string]bool{}
	}
	if !w.defined["prefix-list "+name] {
		w.defined["prefix-list "+name] = true
		for i, l := range lines {
			fmt.Fprintf(&w.defs, "%s prefix-list %s seq %d permit %s\n", ipWord(fam), name, (i+1)*5, l)
		}
		w.defs.WriteString("!\n")
	}
	return name, true
}
