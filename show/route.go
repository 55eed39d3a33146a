package show

import (
	"fmt"
	"net/netip"
	"strings"

	"ipsecgw/frr"
)

// RouteQuery is `show route [protocol P] [PREFIX|ADDRESS]`.
type RouteQuery struct {
	Protocol string       // bgp, ospf, ospf3, static, direct; "" for all
	Prefix   netip.Prefix // a prefix (exact) or an address (/32, /128: longest match); invalid for all
}

// RouteTableRoutes is one table (inet.0, inet6.0) of zebra's routes.
type RouteTableRoutes struct {
	Name   string
	Routes []frr.Route
}

// junosProtocol is Junos's name of an FRR route source. ipsecgw installs
// its static routes itself, so zebra knows them as kernel routes.
func junosProtocol(p string) string {
	switch p {
	case "connected":
		return "Direct"
	case "kernel", "static":
		return "Static"
	case "bgp":
		return "BGP"
	case "ospf":
		return "OSPF"
	case "ospf6":
		return "OSPF3"
	case "local":
		return "Local"
	}
	return strings.ToUpper(p[:min(1, len(p))]) + p[min(1, len(p)):]
}

// tableOf is the Junos table of a prefix.
func tableOf(p string) string {
	if strings.Contains(p, ":") {
		return "inet6.0"
	}
	return "inet.0"
}

func tableHeader(t *text, name string, routes []frr.Route) RouteTable {
	dests := map[string]bool{}
	active := 0
	for _, r := range routes {
		dests[r.Prefix] = true
		if r.Selected {
			active++
		}
	}
	rt := RouteTable{Name: name, Destinations: len(dests), Routes: len(routes), Active: active}
	t.line("")
	t.line("%s: %d destinations, %d routes (%d active, 0 holddown, 0 hidden)", name, rt.Destinations, rt.Routes, rt.Active)
	return rt
}

// selectRoutes applies q to a table's routes.
func selectRoutes(routes []frr.Route, q RouteQuery) []frr.Route {
	var out []frr.Route
	for _, r := range routes {
		if q.Protocol != "" && !strings.EqualFold(junosProtocol(r.Protocol), q.Protocol) {
			continue
		}
		out = append(out, r)
	}
	if !q.Prefix.IsValid() {
		return out
	}
	host := q.Prefix.Bits() == q.Prefix.Addr().BitLen()
	var best []frr.Route
	bestLen := -1
	for _, r := range out {
		p, err := netip.ParsePrefix(r.Prefix)
		if err != nil {
			continue
		}
		switch {
		case p == q.Prefix && !host:
			best = append(best, r)
		case host && p.Contains(q.Prefix.Addr()) && p.Bits() >= bestLen:
			if p.Bits() > bestLen {
				best, bestLen = nil, p.Bits()
			}
			best = append(best, r)
		}
	}
	return best
}

// Routes is `show route`: each table's counts, then its routes (those q
// selects), the active one starred, with BGP's attributes from paths (the
// best path of each prefix).
func Routes(tables []RouteTableRoutes, paths map[string]frr.BGPRoute, q RouteQuery, ifname func(string) string) Reply {
	var t text
	m := &RouteInformation{}
	for _, tb := range tables {
		sel := selectRoutes(tb.Routes, q)
		if len(sel) == 0 && (q.Protocol != "" || q.Prefix.IsValid()) {
			continue // Junos lists only the tables a filter selects from
		}
		rt := tableHeader(&t, tb.Name, tb.Routes)
		t.line("+ = Active Route, - = Last Active, * = Both")
		t.line("")
		for i := 0; i < len(sel); {
			j := i
			d := RouteDestEnt{Destination: sel[i].Prefix}
			for ; j < len(sel) && sel[j].Prefix == sel[i].Prefix; j++ {
				d.Entries = append(d.Entries, writeRoute(&t, &sel[j], j == i, paths, ifname))
			}
			rt.Entries = append(rt.Entries, d)
			i = j
		}
		m.Tables = append(m.Tables, rt)
	}
	return Reply{t.String(), m}
}

func writeRoute(t *text, r *frr.Route, first bool, paths map[string]frr.BGPRoute, ifname func(string) string) RouteEntry {
	lead := strings.Repeat(" ", 19)
	if first {
		lead = padTo(r.Prefix, 19)
	}
	star := " "
	e := RouteEntry{Protocol: junosProtocol(r.Protocol), Preference: r.Distance, Age: r.Uptime}
	if r.Selected {
		star, e.Active = "*", "*"
	}
	attrs := ""
	switch r.Protocol {
	case "bgp":
		lp := uint32(100)
		if p, ok := paths[r.Prefix]; ok {
			if p.LocalPref != 0 {
				lp = p.LocalPref
			}
			e.ASPath = strings.TrimSpace(p.Path + " " + p.OriginCode())
			if p.Metric != 0 {
				e.MED = fmt.Sprint(p.Metric)
				attrs += ", MED " + e.MED
			}
		}
		e.LocalPref = fmt.Sprint(lp)
		attrs += ", localpref " + e.LocalPref
	case "ospf", "ospf6":
		attrs = fmt.Sprintf(", metric %d", r.Metric)
	}
	t.line("%s%s[%s/%d] %s%s", lead, star, e.Protocol, r.Distance, r.Uptime, attrs)
	if e.ASPath != "" {
		t.line("                      AS path: %s", e.ASPath)
	}
	for _, nh := range r.NextHops {
		n := RouteNext{Via: ifname(nh.Interface)}
		mark := " "
		if nh.Active && r.Selected {
			mark, n.Selected = ">", &Flag{}
		}
		if nh.IP != "" {
			n.To = nh.IP
			t.line("                    %s  to %s via %s", mark, nh.IP, n.Via)
		} else {
			t.line("                    %s  via %s", mark, n.Via)
		}
		e.NextHops = append(e.NextHops, n)
	}
	return e
}

// BGPRouteTable is one table's routes sent to (advertising) or received
// from (receive) a BGP neighbor, with zebra's table for the counts.
type BGPRouteTable struct {
	Name   string
	Table  []frr.Route
	Routes []frr.BGPRoute
}

// BGPRoutes is `show route advertising-protocol bgp A` (advertising true:
// the next hop is Self) and `show route receive-protocol bgp A`.
func BGPRoutes(tables []BGPRouteTable, advertising bool) Reply {
	var t text
	m := &RouteInformation{}
	for _, tb := range tables {
		rt := tableHeader(&t, tb.Name, tb.Table)
		if len(tb.Routes) > 0 {
			t.line("  Prefix                  Nexthop              MED     Lclpref    AS path")
		}
		for _, r := range tb.Routes {
			nh := "Self"
			if !advertising {
				nh = r.NextHop
				for _, h := range r.NextHops {
					if h.Scope != "link-local" {
						nh = h.IP
						break
					}
				}
			}
			med, lp := "", ""
			if r.Metric != 0 {
				med = fmt.Sprint(r.Metric)
			}
			if r.LocalPref != 0 {
				lp = fmt.Sprint(r.LocalPref)
			}
			path := strings.TrimSpace(r.Path + " " + r.OriginCode())
			t.line("* %-24s%-17s%7s%12s    %s", r.Prefix, nh, med, lp, path)
			rt.Entries = append(rt.Entries, RouteDestEnt{Destination: r.Prefix, Entries: []RouteEntry{{
				Active: "*", Protocol: "BGP", MED: med, LocalPref: lp, ASPath: path, NextHops: []RouteNext{{To: nh}},
			}}})
		}
		m.Tables = append(m.Tables, rt)
	}
	return Reply{t.String(), m}
}
