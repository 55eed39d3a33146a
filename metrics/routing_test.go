package metrics

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

func TestRoutingMetrics(t *testing.T) {
	m := New(nil)
	m.AddRouting(func() Routing {
		return Routing{
			BGP: []BGPPeer{
				{Neighbor: "169.254.0.2", Group: "cloud", State: "Established", Flaps: 1,
					Prefixes: []BGPPrefixes{{Table: "inet.0", Accepted: 3, Active: 2, Advertised: 1}}},
				{Neighbor: "169.254.1.2", Group: "cloud", State: "Active"},
			},
			OSPF: []OSPFNeighbor{
				{Version: 2, Interface: "st0.1", Neighbor: "192.0.2.2", State: "Full"},
				{Version: 2, Interface: "st0.1", Neighbor: "192.0.2.3", State: "Full"},
				{Version: 3, Interface: "st0.1", Neighbor: "192.0.2.2", State: "Init"},
			},
		}
	})
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "ipsecgw_bgp") && !strings.HasPrefix(f.GetName(), "ipsecgw_ospf") {
			continue
		}
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := s.GetGauge().GetValue() + s.GetCounter().GetValue()
			if f.GetName() == "ipsecgw_bgp_peer_state" && v == 0 {
				continue
			}
			got = append(got, fmt.Sprintf("%s{%s} %g", f.GetName(), strings.Join(labels, ","), v))
		}
	}
	sort.Strings(got)
	want := []string{
		"ipsecgw_bgp_peer_flaps_total{group=cloud,neighbor=169.254.0.2} 1",
		"ipsecgw_bgp_peer_flaps_total{group=cloud,neighbor=169.254.1.2} 0",
		"ipsecgw_bgp_peer_prefixes{group=cloud,kind=accepted,neighbor=169.254.0.2,table=inet.0} 3",
		"ipsecgw_bgp_peer_prefixes{group=cloud,kind=active,neighbor=169.254.0.2,table=inet.0} 2",
		"ipsecgw_bgp_peer_prefixes{group=cloud,kind=advertised,neighbor=169.254.0.2,table=inet.0} 1",
		"ipsecgw_bgp_peer_state{group=cloud,neighbor=169.254.0.2,state=Established} 1",
		"ipsecgw_bgp_peer_state{group=cloud,neighbor=169.254.1.2,state=Active} 1",
		"ipsecgw_bgp_peer_up{group=cloud,neighbor=169.254.0.2} 1",
		"ipsecgw_bgp_peer_up{group=cloud,neighbor=169.254.1.2} 0",
		"ipsecgw_ospf_neighbors{interface=st0.1,state=Full,version=2} 2",
		"ipsecgw_ospf_neighbors{interface=st0.1,state=Init,version=3} 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("routing metrics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
