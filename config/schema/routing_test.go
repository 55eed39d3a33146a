package schema

import (
	"strings"
	"testing"
)

func TestRoutingModel(t *testing.T) {
	c := buildFile(t, "../../frr/testdata/cloud.conf", Options{})
	r := c.Routing
	if r == nil || r.AutonomousSystem != 65000 || c.RouterID.String() != "192.0.2.1" {
		t.Fatalf("routing: %+v", r)
	}
	g := r.BGP.Groups[0]
	if g.Name != "cloud" || g.Type != "external" || strings.Join(g.Families, ",") != "inet,inet6" || len(g.Neighbors) != 3 {
		t.Fatalf("group: %+v", g)
	}
	n1, n2 := g.Neighbors[0], g.Neighbors[1]
	if n1.PeerAS != 64512 || n1.HoldTime != 30 || n1.Description != "tunnel-1" || n1.BFD == nil || n1.BFD.Multiplier != 3 || !n1.AuthKey.IsSet() {
		t.Fatalf("neighbor 1: %+v", n1)
	}
	if key, _ := n1.AuthKey.Bytes(); string(key) != "juniper" {
		t.Fatalf("authentication-key = %q", key)
	}
	if len(n1.Export) != 1 || len(n2.Export) != 2 || n2.Export[1].Name != "prepend" || n2.Import[0].Name != "from-cloud" {
		t.Fatalf("policies: %+v %+v", n1.Export, n2.Export)
	}
	o := r.OSPF
	if o.ReferenceBandwidth != 10e9 || o.Export[0].Name != "statics" {
		t.Fatalf("ospf: %+v", o)
	}
	eth := o.Areas[0].Interfaces[0]
	if eth.Type != "broadcast" || eth.Metric != 10 || eth.Hello.Seconds() != 1 || len(eth.MD5) != 1 || eth.MD5[0].ID != 1 {
		t.Fatalf("ospf interface: %+v", eth)
	}
	if r.OSPF3.Areas[0].ID.String() != "0.0.0.0" || r.OSPF3.Areas[0].Interfaces[0].Unit.Name() != "st0.1" {
		t.Fatalf("ospf3: %+v", r.OSPF3.Areas[0])
	}
	to := r.Policies[0]
	if to.Name != "to-cloud" || to.Then.Action != "reject" || len(to.Terms) != 2 || to.Terms[0].PrefixLists[0].Name != "lan" ||
		*to.Terms[1].Then.Metric != 50 || to.Terms[1].RouteFilters[0].Min != 15 || to.Terms[1].RouteFilters[0].Max != 32 {
		t.Fatalf("to-cloud: %+v", to)
	}
	from := r.Policies[1].Terms[0].RouteFilters
	if from[0].Match != "upto" || from[0].Min != 24 || from[0].Max != 28 || from[1].Max != 128 {
		t.Fatalf("from-cloud filters: %+v", from)
	}
	if p := r.Policies[2].Then.ASPathPrepend; len(p) != 2 || p[0] != 65000 {
		t.Fatalf("prepend: %v", p)
	}
}

func TestRoutingErrors(t *testing.T) {
	base := `interfaces { st0 { unit 1 { family inet { address 169.254.0.2/30; } } } }
routing-options { autonomous-system 65000; }
policy-options { policy-statement ok { then accept; } }
`
	for _, tc := range []struct{ name, extra, want string }{
		{"export policy not defined", "protocols { ospf { export nope; area 0 { interface st0.1; } } }",
			"t.conf:4:27: protocols ospf export: policy nope is not defined; expected a policy-statement under [edit policy-options] (defined: ok)"},
		{"ospf interface not configured", "protocols { ospf { area 0 { interface st0.2; } } }",
			"t.conf:4:29: protocols ospf area 0 interface st0.2: interface st0.2 is not configured; expected a unit configured under [edit interfaces]"},
		{"external without peer-as", "protocols { bgp { group g { neighbor 169.254.0.1; } } }",
			"t.conf:4:29: protocols bgp group g neighbor 169.254.0.1: external neighbor 169.254.0.1 has no peer-as; expected peer-as N in the neighbor or its group"},
		{"import not defined", "protocols { bgp { group g { peer-as 1; import [ ok gone ]; neighbor 169.254.0.1; } } }",
			"t.conf:4:52: protocols bgp group g import: policy gone is not defined; expected a policy-statement under [edit policy-options] (defined: ok)"},
		{"prefix-list not defined", "policy-options { policy-statement p { term t { from prefix-list nolist; then accept; } } }",
			"t.conf:4:65: policy-options policy-statement p term t from prefix-list: prefix-list nolist is not defined; expected a prefix-list under [edit policy-options] (none are defined)"},
		{"route-filter without match", "policy-options { policy-statement p { term t { from route-filter 198.18.0.0/15; } } }",
			"t.conf:4:53: policy-options policy-statement p term t from route-filter 198.18.0.0/15: route-filter 198.18.0.0/15 has no match type; expected exact, orlonger, longer, upto /N or prefix-length-range /N-/M"},
		{"route-filter upto shorter", "policy-options { policy-statement p { term t { from route-filter 198.18.0.0/15 upto /8; } } }",
			"t.conf:4:53: policy-options policy-statement p term t from route-filter 198.18.0.0/15: route-filter 198.18.0.0/15 matches no length (/15 to /8); expected lengths between /15 and /32"},
		{"internal with another AS", "protocols { bgp { group g { type internal; neighbor 169.254.0.1 { peer-as 7; } } } }",
			"t.conf:4:44: protocols bgp group g neighbor 169.254.0.1: internal neighbor 169.254.0.1 has peer-as 7, not the local AS 65000; expected peer-as equal to the local autonomous system, or none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buildFails(t, base+tc.extra+"\n", tc.want)
		})
	}
	if _, err := build(t, base, Options{}); err != nil {
		t.Fatalf("base configuration: %v", err)
	}
}
