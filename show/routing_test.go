package show

import (
	"os"
	"path/filepath"
	"testing"

	"ipsecgw/frr"
)

// The routing layouts, from FRR 8.4's JSON recorded on a test lab
// (frr/testdata/state: two ipsecgw gateways, BGP in both families and
// OSPF over an IKEv2 st0.1).

func frrState(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "frr", "testdata", "state", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func labIfname(linux string) string {
	if linux == "sp-1-2-0.1" {
		return "sp-1/2/0.1"
	}
	return linux
}

func routingGoldenCases(t *testing.T) []goldenCase {
	ns := must(frr.ParseBGPNeighbors(frrState(t, "bgp-neighbors.json")))
	sessions := []BGPSession{{BGPNeighbor: ns[0], Group: "tunnel4", Export: []string{"lan"},
		Tables: []BGPSessionTable{{Name: "inet.0", Active: 1, Accepted: 1, Advertised: 1}}}}
	down := ns[0]
	down.Address, down.State, down.UpMsec, down.Dropped, down.LastReset = "169.254.1.2", "Active", 65000, 2, "Peer closed the session"
	down.Families = nil
	all := append(sessions, BGPSession{BGPNeighbor: down, Group: "tunnel4"})
	tables := []BGPTable{{Name: "inet.0", Total: 1, Active: 1}, {Name: "inet6.0", Total: 1, Active: 1}}
	v4 := must(frr.ParseRoutes(frrState(t, "route-v4.json")))
	v4ospf := must(frr.ParseRoutes(frrState(t, "route-v4-ospf.json")))
	v6 := must(frr.ParseRoutes(frrState(t, "route-v6.json")))
	paths := map[string]frr.BGPRoute{}
	for _, f := range []string{"bgp-v4.json", "bgp-v6.json"} {
		for _, p := range must(frr.ParseBGPRoutes(frrState(t, f))) {
			if p.Best {
				paths[p.Prefix] = p
			}
		}
	}
	rt := []RouteTableRoutes{{"inet.0", v4}, {"inet6.0", v6}}
	return []goldenCase{
		{"bgp-summary", BGPSummary(all, 2, tables)},
		{"bgp-neighbor", BGPNeighbors(sessions, "169.254.0.2")},
		{"bgp-neighbor-down", BGPNeighbors(all[1:], "")},
		{"bgp-neighbor-unknown", BGPNeighbors(all, "192.0.2.9")},
		{"ospf-neighbor", OSPFNeighbors(must(frr.ParseOSPFNeighbors(frrState(t, "ospf-neighbor.json"))), labIfname)},
		{"ospf3-neighbor", OSPF3Neighbors(must(frr.ParseOSPFNeighbors(frrState(t, "ospf6-neighbor.json"))), labIfname)},
		{"ospf-interface", OSPFInterfaces(must(frr.ParseOSPFInterfaces(frrState(t, "ospf-interface.json"))), labIfname)},
		{"route", Routes(rt, paths, RouteQuery{}, labIfname)},
		{"route-protocol-bgp", Routes(rt, paths, RouteQuery{Protocol: "bgp"}, labIfname)},
		{"route-protocol-ospf", Routes([]RouteTableRoutes{{"inet.0", v4ospf}}, paths, RouteQuery{Protocol: "ospf"}, labIfname)},
		{"route-address", Routes(rt, paths, RouteQuery{Prefix: pfx("198.18.2.7/32")}, labIfname)},
		{"route-advertising-protocol", BGPRoutes([]BGPRouteTable{{"inet.0", v4, must(frr.ParseBGPRoutes(frrState(t, "bgp-advertised-v4.json")))}}, true)},
		{"route-receive-protocol", BGPRoutes([]BGPRouteTable{{"inet.0", v4, must(frr.ParseBGPRoutes(frrState(t, "bgp-received-v4.json")))}}, false)},
	}
}

func TestRoutingGolden(t *testing.T) { runGolden(t, routingGoldenCases(t)) }
