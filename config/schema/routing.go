package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/secret"
)

// The routing model: [protocols ospf|ospf3|bgp] and [policy-options], with
// every reference resolved (interfaces to units, policy names to
// statements, prefix-list names to lists). FRR runs it (package frr); static
// routes stay in Config.Routes, which the daemon installs itself.

// Routing is what FRR runs. It is nil when nothing asks for a routing
// protocol.
type Routing struct {
	AutonomousSystem uint32
	OSPF             *OSPF // nil when not configured
	OSPF3            *OSPF
	BGP              *BGP
	PrefixLists      []*PrefixList
	Policies         []*PolicyStatement
}

// OSPF is protocols ospf (Version 2) or ospf3 (Version 3).
type OSPF struct {
	Version            int
	Export             []*PolicyStatement
	ReferenceBandwidth uint64 // bits per second; 0 = FRR's default (100 Mb/s)
	Areas              []*OSPFArea
}

// OSPFArea is one area and its interfaces.
type OSPFArea struct {
	ID         netip.Addr // 0.0.0.0 for "area 0"
	Interfaces []*OSPFInterface
}

// OSPFInterface is one interface of an area.
type OSPFInterface struct {
	Unit *Unit
	// Type is p2p, broadcast, nbma or p2mp: the configured one, else Junos's
	// default for the interface (p2p on tunnels, service and serial
	// interfaces, broadcast elsewhere); "" on the loopback.
	Type    string
	Passive bool
	Metric  int           // 0 = from the reference bandwidth
	Hello   time.Duration // 0 = default (10 s)
	Dead    time.Duration // 0 = default (4 hellos)
	BFD     *BFD
	MD5     []OSPFKey
}

// OSPFKey is one "authentication md5 ID key K".
type OSPFKey struct {
	ID  int
	Key Key
}

// BFD is bfd-liveness-detection.
type BFD struct {
	MinimumInterval time.Duration
	Multiplier      int // default 3
}

// BGP is protocols bgp.
type BGP struct {
	Groups []*BGPGroup
}

// BGPGroup is one group; its Neighbors carry the group's settings merged
// with their own.
type BGPGroup struct {
	Name      string
	Type      string   // external or internal
	Families  []string // inet, inet6; empty: each neighbor's own family
	Neighbors []*BGPNeighbor
}

// BGPNeighbor is one neighbor with every setting in effect.
type BGPNeighbor struct {
	Address      netip.Addr
	Group        *BGPGroup
	Description  string
	PeerAS       uint32
	LocalAS      uint32 // 0 = routing-options autonomous-system
	LocalAddress netip.Addr
	HoldTime     int // 0 = Junos default, 90 s
	Import       []*PolicyStatement
	Export       []*PolicyStatement
	Multihop     bool
	MultihopTTL  int
	AuthKey      Key
	BFD          *BFD
}

// PrefixList is policy-options prefix-list.
type PrefixList struct {
	Name     string
	Prefixes []netip.Prefix
}

// PolicyStatement is policy-options policy-statement: terms in order, then
// the final action.
type PolicyStatement struct {
	Name  string
	Terms []*PolicyTerm
	Then  PolicyActions
}

// PolicyTerm is one term: a route matches when it matches every condition
// given (within one condition, any of its values).
type PolicyTerm struct {
	Name         string
	Protocols    []string
	PrefixLists  []*PrefixList
	RouteFilters []RouteFilter
	Then         PolicyActions
}

// RouteFilter is "route-filter P exact|orlonger|longer|upto /N|
// prefix-length-range /N-/M", as the range of lengths it matches.
type RouteFilter struct {
	Prefix netip.Prefix
	Match  string
	Min    int // lengths matched, inclusive
	Max    int
}

// PolicyActions is a then clause. Action is accept, reject or "" (go on).
type PolicyActions struct {
	Action          string
	Metric          *uint32
	LocalPreference *uint32
	ASPathPrepend   []uint32
}

// routingProtocols builds protocols and policy-options; Config.Routing
// stays nil when neither has anything that runs.
func (b *builder) routingProtocols(ro, pr, po *config.Stmt) {
	active := func(s *config.Stmt) *config.Stmt {
		if s == nil || s.Inactive {
			return nil
		}
		return s
	}
	ro, pr, po = active(ro), active(pr), active(po)
	r := &Routing{}
	if s := child(ro, "autonomous-system"); s != nil {
		n, _ := strconv.ParseUint(s.Value(), 10, 32)
		r.AutonomousSystem = uint32(n)
	}
	b.policyOptions(r, po)
	if s := child(pr, "ospf"); s != nil {
		r.OSPF = b.ospf(r, s, 2)
	}
	if s := child(pr, "ospf3"); s != nil {
		r.OSPF3 = b.ospf(r, s, 3)
	}
	if s := child(pr, "bgp"); s != nil {
		r.BGP = b.bgp(r, s)
	}
	if r.OSPF != nil || r.OSPF3 != nil || r.BGP != nil {
		b.cfg.Routing = r
	}
}

func (b *builder) policyOptions(r *Routing, po *config.Stmt) {
	for _, s := range entries(po, "prefix-list") {
		pl := &PrefixList{Name: s.Key}
		for _, e := range entries(s, "") {
			p, _ := netip.ParsePrefix(e.Key)
			pl.Prefixes = append(pl.Prefixes, p)
		}
		r.PrefixLists = append(r.PrefixLists, pl)
	}
	// Statements first, so a policy can be named before it is defined.
	for _, s := range entries(po, "policy-statement") {
		r.Policies = append(r.Policies, &PolicyStatement{Name: s.Key})
	}
	for i, s := range entries(po, "policy-statement") {
		ps := r.Policies[i]
		for _, ts := range entries(s, "term") {
			ps.Terms = append(ps.Terms, b.policyTerm(r, ts))
		}
		ps.Then = policyActions(child(s, "then"))
	}
}

func (b *builder) policyTerm(r *Routing, ts *config.Stmt) *PolicyTerm {
	t := &PolicyTerm{Name: ts.Key, Then: policyActions(child(ts, "then"))}
	from := child(ts, "from")
	if c := child(from, "protocol"); c != nil {
		t.Protocols = append(t.Protocols, c.Values...)
	}
	if c := child(from, "prefix-list"); c != nil {
		for i, name := range c.Values {
			pl := findPrefixList(r, name)
			if pl == nil {
				b.failValue(c, i, "prefix-list "+name+" is not defined", "a prefix-list under [edit policy-options] ("+names(r.PrefixLists, func(p *PrefixList) string { return p.Name })+")")
				continue
			}
			t.PrefixLists = append(t.PrefixLists, pl)
		}
	}
	for _, fs := range entries(from, "route-filter") {
		p, _ := netip.ParsePrefix(fs.Key)
		f := RouteFilter{Prefix: p, Min: p.Bits(), Max: p.Addr().BitLen()}
		switch {
		case has(fs, "exact"):
			f.Match, f.Max = "exact", p.Bits()
		case has(fs, "orlonger"):
			f.Match = "orlonger"
		case has(fs, "longer"):
			f.Match, f.Min = "longer", p.Bits()+1
		case has(fs, "upto"):
			n, _ := config.PrefixLength(str(fs, "upto"))
			f.Match, f.Max = "upto", n
		case has(fs, "prefix-length-range"):
			lo, hi, _ := strings.Cut(str(fs, "prefix-length-range"), "-")
			f.Match = "prefix-length-range"
			f.Min, _ = config.PrefixLength(lo)
			f.Max, _ = config.PrefixLength(hi)
		default:
			b.fail(fs, "route-filter "+fs.Key+" has no match type", "exact, orlonger, longer, upto /N or prefix-length-range /N-/M")
			continue
		}
		if f.Min > f.Addr().BitLen() || f.Max > p.Addr().BitLen() || f.Min > f.Max || f.Max < p.Bits() {
			b.fail(fs, fmt.Sprintf("route-filter %s matches no length (/%d to /%d)", fs.Key, f.Min, f.Max),
				fmt.Sprintf("lengths between /%d and /%d", p.Bits(), p.Addr().BitLen()))
			continue
		}
		t.RouteFilters = append(t.RouteFilters, f)
	}
	return t
}

// Addr is the filter's prefix address (for its family).
func (f RouteFilter) Addr() netip.Addr { return f.Prefix.Addr() }

func policyActions(s *config.Stmt) PolicyActions {
	var a PolicyActions
	switch {
	case has(s, "accept"):
		a.Action = "accept"
	case has(s, "reject"):
		a.Action = "reject"
	}
	u32 := func(name string) *uint32 {
		if c := child(s, name); c != nil {
			n, _ := strconv.ParseUint(c.Value(), 10, 32)
			v := uint32(n)
			return &v
		}
		return nil
	}
	a.Metric, a.LocalPreference = u32("metric"), u32("local-preference")
	for _, f := range strings.Fields(str(s, "as-path-prepend")) {
		n, _ := strconv.ParseUint(f, 10, 32)
		a.ASPathPrepend = append(a.ASPathPrepend, uint32(n))
	}
	return a
}

func findPrefixList(r *Routing, name string) *PrefixList {
	for _, p := range r.PrefixLists {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// policies resolves a leaf-list of policy names (export, import).
func (b *builder) policies(r *Routing, s *config.Stmt) []*PolicyStatement {
	if s == nil {
		return nil
	}
	var out []*PolicyStatement
	for i, name := range s.Values {
		var found *PolicyStatement
		for _, p := range r.Policies {
			if p.Name == name {
				found = p
			}
		}
		if found == nil {
			b.failValue(s, i, "policy "+name+" is not defined", "a policy-statement under [edit policy-options] ("+names(r.Policies, func(p *PolicyStatement) string { return p.Name })+")")
			continue
		}
		out = append(out, found)
	}
	return out
}

func (b *builder) ospf(r *Routing, s *config.Stmt, version int) *OSPF {
	o := &OSPF{Version: version, Export: b.policies(r, child(s, "export"))}
	if c := child(s, "reference-bandwidth"); c != nil {
		o.ReferenceBandwidth, _ = config.Bandwidth(c.Value())
	}
	seen := map[*Unit]string{}
	for _, as := range entries(s, "area") {
		a := &OSPFArea{ID: areaID(as.Key)}
		for _, is := range entries(as, "interface") {
			u := b.unitNamed(is, is.Key)
			if u == nil {
				continue
			}
			if prev, dup := seen[u]; dup {
				b.fail(is, fmt.Sprintf("interface %s is already in area %s", u.Name(), prev), "each interface in one area")
				continue
			}
			seen[u] = as.Key
			oi := &OSPFInterface{
				Unit:    u,
				Type:    str(is, "interface-type"),
				Passive: has(is, "passive"),
				Metric:  num(is, "metric", 0),
				Hello:   seconds(is, "hello-interval", 0),
				Dead:    seconds(is, "dead-interval", 0),
				BFD:     bfd(child(is, "bfd-liveness-detection")),
			}
			if oi.Type == "" {
				oi.Type = defaultOSPFType(u.Interface)
			}
			for _, ks := range entries(child(is, "authentication"), "md5") {
				id, _ := strconv.Atoi(ks.Key)
				k := child(ks, "key")
				if k == nil {
					b.fail(ks, "md5 key "+ks.Key+" has no key", "key SECRET")
					continue
				}
				oi.MD5 = append(oi.MD5, OSPFKey{ID: id, Key: b.secretLeaf(k)})
			}
			a.Interfaces = append(a.Interfaces, oi)
		}
		o.Areas = append(o.Areas, a)
	}
	return o
}

// defaultOSPFType is the network type Junos gives an interface: tunnels,
// service interfaces and serial links are point-to-point, Ethernet is a
// broadcast network, the loopback is neither.
func defaultOSPFType(ifc *Interface) string {
	switch ifc.Kind {
	case Loopback:
		return ""
	case Tunnel, Service:
		return "p2p"
	}
	for _, p := range []string{"so-", "t1-", "e1-", "t3-", "e3-", "gr-", "ip-", "lt-", "ppp", "tun", "gre", "wg"} {
		if strings.HasPrefix(ifc.Name, p) {
			return "p2p"
		}
	}
	return "broadcast"
}

// areaID reads an area as a dotted quad (a plain number is its 32 bits).
func areaID(s string) netip.Addr {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	a, _ := netip.ParseAddr(s)
	return a
}

func bfd(s *config.Stmt) *BFD {
	if s == nil {
		return nil
	}
	return &BFD{
		MinimumInterval: time.Duration(num(s, "minimum-interval", 300)) * time.Millisecond,
		Multiplier:      num(s, "multiplier", 3),
	}
}

func (b *builder) bgp(r *Routing, s *config.Stmt) *BGP {
	g := &BGP{}
	for _, gs := range entries(s, "group") {
		grp := &BGPGroup{Name: gs.Key, Type: str(gs, "type")}
		if grp.Type == "" {
			grp.Type = "external"
		}
		for _, f := range entries(gs, "family") {
			grp.Families = append(grp.Families, f.Key)
		}
		if len(entries(gs, "neighbor")) == 0 {
			b.fail(gs, "group "+gs.Key+" has no neighbor", "neighbor ADDRESS")
		}
		// The group's settings, resolved once, are each neighbor's start.
		tmpl := BGPNeighbor{Group: grp}
		b.bgpPeer(r, &tmpl, gs)
		for _, ns := range entries(gs, "neighbor") {
			n := new(BGPNeighbor)
			*n = tmpl
			n.Address, _ = netip.ParseAddr(ns.Key)
			b.bgpPeer(r, n, ns)
			switch {
			case r.AutonomousSystem == 0 && n.LocalAS == 0:
				b.fail(ns, "neighbor "+ns.Key+" has no local autonomous system", "routing-options autonomous-system N (or local-as)")
			case grp.Type == "external" && n.PeerAS == 0:
				b.fail(ns, "external neighbor "+ns.Key+" has no peer-as", "peer-as N in the neighbor or its group")
			case grp.Type == "internal":
				local := n.LocalAS
				if local == 0 {
					local = r.AutonomousSystem
				}
				if n.PeerAS != 0 && n.PeerAS != local {
					b.fail(ns, fmt.Sprintf("internal neighbor %s has peer-as %d, not the local AS %d", ns.Key, n.PeerAS, local), "peer-as equal to the local autonomous system, or none")
				}
				n.PeerAS = local
			}
			if n.LocalAddress.IsValid() && n.LocalAddress.Is4() != n.Address.Is4() {
				b.fail(ns, fmt.Sprintf("local-address %s is not of neighbor %s's family", n.LocalAddress, ns.Key), "a local-address of the neighbor's family")
			}
			grp.Neighbors = append(grp.Neighbors, n)
		}
		g.Groups = append(g.Groups, grp)
	}
	return g
}

// bgpPeer applies the settings s (a group or a neighbor) has to n.
func (b *builder) bgpPeer(r *Routing, n *BGPNeighbor, s *config.Stmt) {
	if d := str(s, "description"); d != "" {
		n.Description = d
	}
	asn := func(name string, into *uint32) {
		if c := child(s, name); c != nil {
			v, _ := strconv.ParseUint(c.Value(), 10, 32)
			*into = uint32(v)
		}
	}
	asn("peer-as", &n.PeerAS)
	asn("local-as", &n.LocalAS)
	if has(s, "local-address") {
		n.LocalAddress = addr(s, "local-address")
	}
	n.HoldTime = num(s, "hold-time", n.HoldTime)
	if c := child(s, "import"); c != nil {
		n.Import = b.policies(r, c)
	}
	if c := child(s, "export"); c != nil {
		n.Export = b.policies(r, c)
	}
	if m := child(s, "multihop"); m != nil {
		n.Multihop, n.MultihopTTL = true, num(m, "ttl", 64)
	}
	if k := child(s, "authentication-key"); k != nil {
		n.AuthKey = b.secretLeaf(k)
	}
	if f := bfd(child(s, "bfd-liveness-detection")); f != nil {
		n.BFD = f
	}
}

// unitNamed resolves an interface named in a list entry's key (protocols
// ospf area A interface IF); a bare interface name means unit 0.
func (b *builder) unitNamed(s *config.Stmt, name string) *Unit {
	full := name
	if _, _, ok := config.SplitIfl(name); !ok {
		full += ".0"
	}
	u := b.units[full]
	if u == nil {
		b.fail(s, fmt.Sprintf("interface %s is not configured", name), "a unit configured under [edit interfaces]")
	}
	return u
}

// secretLeaf reads a secret leaf (authentication-key, md5 key).
func (b *builder) secretLeaf(s *config.Stmt) Key {
	v, err := secret.FromEncoded(s.Value())
	if err != nil {
		b.fail(s, "bad $9$ secret", "a $9$ string")
		return Key{}
	}
	return Key{Value: v}
}
