package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Routing is the state of the routing protocols (FRR's) at a scrape.
type Routing struct {
	BGP  []BGPPeer
	OSPF []OSPFNeighbor
}

// BGPPeer is one configured BGP neighbor.
type BGPPeer struct {
	Neighbor string // its address
	Group    string
	State    string // Idle, Connect, Active, OpenSent, OpenConfirm, Established
	Flaps    uint64 // sessions that went down since FRR started
	// Prefixes by table (inet.0, inet6.0).
	Prefixes []BGPPrefixes
}

// BGPPrefixes is a peer's prefix counts in one table.
type BGPPrefixes struct {
	Table                        string
	Accepted, Active, Advertised int
}

// OSPFNeighbor is one OSPF (version 2 or 3) adjacency.
type OSPFNeighbor struct {
	Version   int    // 2 or 3
	Interface string // Junos name (st0.1)
	Neighbor  string // router ID
	State     string // Full, 2Way, Init...
}

// BGPStates are the values of ipsecgw_bgp_peer_state's state label.
var BGPStates = []string{"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"}

var (
	bgpUpDesc = prometheus.NewDesc("ipsecgw_bgp_peer_up",
		"1 when the BGP session with the neighbor is Established, else 0.",
		[]string{"neighbor", "group"}, nil)
	bgpStateDesc = prometheus.NewDesc("ipsecgw_bgp_peer_state",
		"The BGP session's state: 1 for the state it is in, 0 for the others.",
		[]string{"neighbor", "group", "state"}, nil)
	bgpFlapsDesc = prometheus.NewDesc("ipsecgw_bgp_peer_flaps_total",
		"Times the BGP session with the neighbor went down since the routing daemons started.",
		[]string{"neighbor", "group"}, nil)
	bgpPrefixesDesc = prometheus.NewDesc("ipsecgw_bgp_peer_prefixes",
		"The neighbor's prefixes in a table, by kind: accepted (received and let in by the import policy), active (best paths), advertised (sent to it).",
		[]string{"neighbor", "group", "table", "kind"}, nil)
	ospfNeighborsDesc = prometheus.NewDesc("ipsecgw_ospf_neighbors",
		"OSPF neighbors, by version, interface and adjacency state.",
		[]string{"version", "interface", "state"}, nil)
)

// routingCollector exports a Routing taken at scrape time.
type routingCollector struct {
	routing func() Routing
}

// AddRouting exports the routing protocols' state, read at each scrape.
func (m *Metrics) AddRouting(routing func() Routing) {
	m.registry.MustRegister(&routingCollector{routing: routing})
}

func (c *routingCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{bgpUpDesc, bgpStateDesc, bgpFlapsDesc, bgpPrefixesDesc, ospfNeighborsDesc} {
		ch <- d
	}
}

func (c *routingCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.routing()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, p := range r.BGP {
		up := 0.0
		if p.State == "Established" {
			up = 1
		}
		gauge(bgpUpDesc, up, p.Neighbor, p.Group)
		for _, s := range BGPStates {
			v := 0.0
			if s == p.State {
				v = 1
			}
			gauge(bgpStateDesc, v, p.Neighbor, p.Group, s)
		}
		ch <- prometheus.MustNewConstMetric(bgpFlapsDesc, prometheus.CounterValue, float64(p.Flaps), p.Neighbor, p.Group)
		for _, t := range p.Prefixes {
			gauge(bgpPrefixesDesc, float64(t.Accepted), p.Neighbor, p.Group, t.Table, "accepted")
			gauge(bgpPrefixesDesc, float64(t.Active), p.Neighbor, p.Group, t.Table, "active")
			gauge(bgpPrefixesDesc, float64(t.Advertised), p.Neighbor, p.Group, t.Table, "advertised")
		}
	}
	type key struct{ version, ifc, state string }
	counts := map[key]int{}
	var order []key
	for _, n := range r.OSPF {
		k := key{map[int]string{2: "2", 3: "3"}[n.Version], n.Interface, n.State}
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		counts[k]++
	}
	for _, k := range order {
		gauge(ospfNeighborsDesc, float64(counts[k]), k.version, k.ifc, k.state)
	}
}
