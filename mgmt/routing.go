package mgmt

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/frr"
	"ipsecgw/metrics"
	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/show"
)

// The routing show and clear commands: live from FRR's JSON (the daemon's
// FRR instance), in Junos's layouts, with the configuration's names
// (groups, policies, Junos interface names) put back.

// routingTimeout bounds the vtysh calls of one command.
const routingTimeout = 15 * time.Second

func (s opService) routing(q *mgmtpb.ShowRouting) (show.Reply, error) {
	cfg := s.d.Config()
	in := s.d.FRR()
	if cfg == nil || cfg.Routing == nil || !in.Running() {
		return show.Reply{}, status.Error(codes.FailedPrecondition, "error: no routing protocol is configured")
	}
	ctx, cancel := context.WithTimeout(context.Background(), routingTimeout)
	defer cancel()
	names := junosNames(cfg)
	internal := func(err error) error { return status.Errorf(codes.Internal, "error: %v", err) }
	switch q.Command {
	case "bgp-summary", "bgp-neighbor":
		if cfg.Routing.BGP == nil {
			return show.Reply{}, status.Error(codes.FailedPrecondition, "error: BGP is not running")
		}
		sessions, tables, err := bgpSessions(ctx, in, cfg)
		if err != nil {
			return show.Reply{}, internal(err)
		}
		if q.Command == "bgp-neighbor" {
			return show.BGPNeighbors(sessions, q.Address), nil
		}
		return show.BGPSummary(sessions, len(cfg.Routing.BGP.Groups), tables), nil
	case "ospf-neighbor", "ospf3-neighbor":
		v3 := q.Command == "ospf3-neighbor"
		ns, err := in.OSPFNeighbors(ctx, v3)
		if err != nil {
			return show.Reply{}, internal(err)
		}
		if v3 {
			return show.OSPF3Neighbors(ns, names), nil
		}
		return show.OSPFNeighbors(ns, names), nil
	case "ospf-interface":
		ifs, err := in.OSPFInterfaces(ctx)
		if err != nil {
			return show.Reply{}, internal(err)
		}
		return show.OSPFInterfaces(ifs, names), nil
	case "route":
		var rq show.RouteQuery
		rq.Protocol = q.Protocol
		if q.Prefix != "" {
			p, err := parsePrefixOrAddr(q.Prefix)
			if err != nil {
				return show.Reply{}, err
			}
			rq.Prefix = p
		}
		tables, paths, err := routeTables(ctx, in)
		if err != nil {
			return show.Reply{}, internal(err)
		}
		return show.Routes(tables, paths, rq, names), nil
	case "route-advertising-protocol", "route-receive-protocol":
		nbr, err := netip.ParseAddr(q.Address)
		if err != nil {
			return show.Reply{}, status.Errorf(codes.InvalidArgument, "error: %q is not an IP address", q.Address)
		}
		return bgpRoutes(ctx, in, nbr, q.Command == "route-advertising-protocol")
	}
	return show.Reply{}, status.Errorf(codes.InvalidArgument, "error: unknown routing command %q", q.Command)
}

func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, status.Errorf(codes.InvalidArgument, "error: %q is neither a prefix nor an address", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// junosNames maps the Linux names of the configured units back to their
// Junos names; other names stay as they are.
func junosNames(cfg *schema.Config) func(string) string {
	m := map[string]string{}
	for _, ifc := range cfg.Interfaces {
		for _, u := range ifc.Units {
			if n := daemon.LinuxName(u); n != "" {
				if _, taken := m[n]; !taken {
					m[n] = u.Name()
				}
			}
		}
	}
	return func(linux string) string {
		if j, ok := m[linux]; ok {
			return j
		}
		return linux
	}
}

// bgpSessions is every configured neighbor with its live state, and the
// tables' path counts.
func bgpSessions(ctx context.Context, in *frr.Instance, cfg *schema.Config) ([]show.BGPSession, []show.BGPTable, error) {
	live, err := in.BGPNeighbors(ctx)
	if err != nil {
		return nil, nil, err
	}
	byAddr := map[string]frr.BGPNeighbor{}
	for _, n := range live {
		byAddr[n.Address] = n
	}
	active := map[string]int{} // "peer table" → best paths
	var tables []show.BGPTable
	for _, fam := range []struct {
		name string
		v6   bool
	}{{"inet.0", false}, {"inet6.0", true}} {
		paths, err := in.BGPPaths(ctx, fam.v6)
		if err != nil {
			return nil, nil, err
		}
		tb := show.BGPTable{Name: fam.name}
		for _, p := range paths {
			if p.PeerID == "" || p.PeerID == "(unspec)" {
				continue // this router's own routes
			}
			tb.Total++
			if p.Best {
				tb.Active++
				active[p.PeerID+" "+fam.name]++
			}
		}
		tables = append(tables, tb)
	}
	var out []show.BGPSession
	for _, g := range cfg.Routing.BGP.Groups {
		for _, n := range g.Neighbors {
			addr := n.Address.String()
			s := show.BGPSession{BGPNeighbor: byAddr[addr], Group: g.Name, Import: policyNames(n.Import), Export: policyNames(n.Export)}
			s.Address = addr
			if s.RemoteAS == 0 {
				s.RemoteAS = n.PeerAS
			}
			for key, f := range s.Families {
				name := map[string]string{"ipv4Unicast": "inet.0", "ipv6Unicast": "inet6.0"}[key]
				if name == "" {
					continue
				}
				s.Tables = append(s.Tables, show.BGPSessionTable{Name: name, Active: active[addr+" "+name], Accepted: f.Accepted, Advertised: f.Sent})
			}
			if len(s.Tables) == 2 && s.Tables[0].Name == "inet6.0" {
				s.Tables[0], s.Tables[1] = s.Tables[1], s.Tables[0]
			}
			out = append(out, s)
		}
	}
	return out, tables, nil
}

func policyNames(ps []*schema.PolicyStatement) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// routeTables is zebra's routes by table, and BGP's best paths by prefix
// (their AS paths and local preferences).
func routeTables(ctx context.Context, in *frr.Instance) ([]show.RouteTableRoutes, map[string]frr.BGPRoute, error) {
	routes, err := in.Routes(ctx)
	if err != nil {
		return nil, nil, err
	}
	v4 := show.RouteTableRoutes{Name: "inet.0"}
	v6 := show.RouteTableRoutes{Name: "inet6.0"}
	for _, r := range routes {
		if strings.Contains(r.Prefix, ":") {
			v6.Routes = append(v6.Routes, r)
		} else {
			v4.Routes = append(v4.Routes, r)
		}
	}
	paths := map[string]frr.BGPRoute{}
	for _, v6 := range []bool{false, true} {
		ps, err := in.BGPPaths(ctx, v6)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range ps {
			if p.Best {
				paths[p.Prefix] = p
			}
		}
	}
	return []show.RouteTableRoutes{v4, v6}, paths, nil
}

// bgpRoutes is show route advertising-protocol|receive-protocol bgp A, for
// each family the session carries.
func bgpRoutes(ctx context.Context, in *frr.Instance, nbr netip.Addr, advertising bool) (show.Reply, error) {
	live, err := in.BGPNeighbors(ctx)
	if err != nil {
		return show.Reply{}, status.Errorf(codes.Internal, "error: %v", err)
	}
	var n *frr.BGPNeighbor
	for i := range live {
		if live[i].Address == nbr.String() {
			n = &live[i]
		}
	}
	if n == nil {
		return show.Reply{}, status.Errorf(codes.NotFound, "error: BGP neighbor %s is not configured", nbr)
	}
	tables, _, err := routeTables(ctx, in)
	if err != nil {
		return show.Reply{}, status.Errorf(codes.Internal, "error: %v", err)
	}
	var out []show.BGPRouteTable
	for i, fam := range []string{"ipv4Unicast", "ipv6Unicast"} {
		if _, ok := n.Families[fam]; !ok {
			continue
		}
		rs, err := in.BGPRoutes(ctx, nbr, i == 1, advertising)
		if err != nil {
			return show.Reply{}, status.Errorf(codes.Internal, "error: %v", err)
		}
		out = append(out, show.BGPRouteTable{Name: tables[i].Name, Table: tables[i].Routes, Routes: rs})
	}
	return show.BGPRoutes(out, advertising), nil
}

// clearBGP is clear bgp neighbor [A].
func (s opService) clearBGP(q *mgmtpb.ClearBGPNeighbor) (*mgmtpb.ClearReply, error) {
	cfg := s.d.Config()
	if cfg == nil || cfg.Routing == nil || cfg.Routing.BGP == nil || !s.d.FRR().Running() {
		return nil, status.Error(codes.FailedPrecondition, "error: BGP is not running")
	}
	var nbr netip.Addr
	count := 0
	if q.Address != "" {
		a, err := netip.ParseAddr(q.Address)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "error: %q is not an IP address", q.Address)
		}
		nbr = a
	}
	for _, g := range cfg.Routing.BGP.Groups {
		for _, n := range g.Neighbors {
			if !nbr.IsValid() || n.Address == nbr {
				count++
			}
		}
	}
	if count == 0 {
		return nil, status.Errorf(codes.NotFound, "error: BGP neighbor %s is not configured", nbr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), routingTimeout)
	defer cancel()
	if err := s.d.FRR().ClearBGPNeighbor(ctx, nbr); err != nil {
		return nil, status.Errorf(codes.Internal, "error: %v", err)
	}
	return &mgmtpb.ClearReply{Cleared: uint32(count)}, nil
}

// routingMetrics reads the routing protocols' state from FRR at a scrape
// (nothing when no routing runs).
func routingMetrics(d *daemon.Daemon) metrics.Routing {
	cfg, in := d.Config(), d.FRR()
	var r metrics.Routing
	if cfg == nil || cfg.Routing == nil || !in.Running() {
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), routingTimeout)
	defer cancel()
	if cfg.Routing.BGP != nil {
		if sessions, _, err := bgpSessions(ctx, in, cfg); err == nil {
			for _, s := range sessions {
				p := metrics.BGPPeer{Neighbor: s.Address, Group: s.Group, State: s.State, Flaps: uint64(s.Dropped)}
				if p.State == "" {
					p.State = "Idle"
				}
				for _, tb := range s.Tables {
					p.Prefixes = append(p.Prefixes, metrics.BGPPrefixes{Table: tb.Name, Accepted: tb.Accepted, Active: tb.Active, Advertised: tb.Advertised})
				}
				r.BGP = append(r.BGP, p)
			}
		}
	}
	names := junosNames(cfg)
	for _, o := range []*schema.OSPF{cfg.Routing.OSPF, cfg.Routing.OSPF3} {
		if o == nil {
			continue
		}
		ns, err := in.OSPFNeighbors(ctx, o.Version == 3)
		if err != nil {
			continue
		}
		for _, n := range ns {
			state := strings.ReplaceAll(n.StateWord(), "-", "")
			r.OSPF = append(r.OSPF, metrics.OSPFNeighbor{Version: o.Version, Interface: names(n.Ifname()), Neighbor: n.RouterID, State: state})
		}
	}
	return r
}
