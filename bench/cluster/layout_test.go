package cluster

import (
	"crypto/rand"
	"fmt"
	"testing"

	"ipsecgw/config"
	"ipsecgw/config/schema"
)

func build(t *testing.T, text string, node int) *schema.Config {
	t.Helper()
	tree, err := config.Parse("layout", []byte(text), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	m, err := schema.Build(tree, schema.Options{NodeID: node})
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return m
}

// TestClusterConfig: every node's view of the configuration builds, has
// the groups with the priorities that spread them, and puts each group's
// two gateways (and so their VPNs) in that group.
func TestClusterConfig(t *testing.T) {
	for _, l := range []layout{{1, 6, "group19"}, {2, 6, "group19"}, {3, 6, "group31"}, {3, 4, "group19"}} {
		t.Run(fmt.Sprintf("%d nodes %d SRGs", l.nodes, l.srgs), func(t *testing.T) {
			if err := l.check(); err != nil {
				t.Fatal(err)
			}
			total := 0
			for i := 1; i <= l.nodes; i++ {
				total += l.owned(i)
				if l.owned(i) < l.srgs/l.nodes || l.owned(i) > (l.srgs+l.nodes-1)/l.nodes {
					t.Errorf("node %d prefers %d of %d groups: not spread", i, l.owned(i), l.srgs)
				}
			}
			if total != l.srgs {
				t.Errorf("nodes prefer %d groups in all, want %d", total, l.srgs)
			}
			for i := 1; i <= l.nodes; i++ {
				m := build(t, l.clusterConfig(), i)
				ha := m.HA
				if ha == nil || len(ha.SRGs) != l.srgs || len(ha.Nodes) != l.nodes {
					t.Fatalf("node %d: high availability %+v", i, ha)
				}
				for _, g := range ha.SRGs {
					best, bestPrio := 0, -1
					for n, p := range g.Priority {
						if p > bestPrio {
							best, bestPrio = n, p
						}
					}
					if best != l.preferred(g.ID) || len(g.Priority) != l.nodes || !g.Preemption {
						t.Errorf("SRG %d: priorities %v (preemption %v), want node %d first", g.ID, g.Priority, g.Preemption, l.preferred(g.ID))
					}
				}
				if len(m.IPsec.VPNs) != 2*l.srgs {
					t.Fatalf("node %d: %d VPNs, want %d", i, len(m.IPsec.VPNs), 2*l.srgs)
				}
				for _, v := range m.IPsec.VPNs {
					g := ha.SRGOf(v.IKE.Gateway.LocalAddress)
					if g == nil || vip(g.ID) != v.IKE.Gateway.LocalAddress {
						t.Errorf("VPN %s (local-address %s) is in SRG %+v", v.Name, v.IKE.Gateway.LocalAddress, g)
					}
				}
			}
			p := build(t, l.peerConfig(), 0)
			if len(p.IPsec.VPNs) != l.srgs {
				t.Fatalf("peer: %d VPNs, want %d", len(p.IPsec.VPNs), l.srgs)
			}
		})
	}
}

func TestLayoutCheck(t *testing.T) {
	for _, l := range []layout{{0, 6, "group19"}, {4, 6, "group19"}, {1, 0, "group19"}, {1, maxSRGs + 1, "group19"}, {1, 6, "group19+ecdsa"}} {
		if l.check() == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}
