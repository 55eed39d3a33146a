package cluster

import (
	"fmt"
	"net/netip"
	"strings"

	benchike "ipsecgw/bench/ike"
)

// The addresses, all on one bridge in 198.51.100.0/24 (RFC 5737), and the
// tunnels' inside addresses:
//
//	e1       198.51.100.2            etcd
//	nI       198.51.100.(10+I)       node I's eth1
//	SRG k    198.51.100.(20+k)       virtual IP, on its owner's eth1
//	gen      198.51.100.(100+k)      the generator's address for SRG k
//	peer     198.51.100.(150+k)      the traffic peer's address for SRG k
//
// A responder tells its peers apart by their address, so each group's
// gateways have a remote address of their own. The generator's tunnels of
// group k protect 198.18.k.0/24 (behind the cluster) to 198.19.k.0/24;
// the traffic tunnel of group k joins st0.k, 169.254.k.1 on the owner and
// 169.254.k.2 on the peer.
const (
	maxNodes = 3
	maxSRGs  = 40
	etcdAddr = "198.51.100.2"
)

func nodeAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)}) }
func vip(k int) netip.Addr      { return netip.AddrFrom4([4]byte{198, 51, 100, byte(20 + k)}) }
func genAddr(k int) netip.Addr  { return netip.AddrFrom4([4]byte{198, 51, 100, byte(100 + k)}) }
func peerAddr(k int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(150 + k)}) }

// innerAddr is st0.k's address on the owner (side 1) or the peer (2).
func innerAddr(k, side int) netip.Addr {
	return netip.AddrFrom4([4]byte{169, 254, byte(k), byte(side)})
}

func clusterNet(k int) string { return fmt.Sprintf("198.18.%d.0/24", k) }
func genNet(k int) string     { return fmt.Sprintf("198.19.%d.0/24", k) }

// genUnit is the st0 unit of the generator's VPN of group k (the traffic
// VPN has unit k).
func genUnit(k int) int { return 100 + k }

// layout is one step: nodes nodes and srgs groups.
type layout struct {
	nodes, srgs int
	group       string // IKE key exchange group (bench/ike's names)
}

func (l layout) check() error {
	if l.nodes < 1 || l.nodes > maxNodes {
		return fmt.Errorf("nodes: %d, want 1 to %d", l.nodes, maxNodes)
	}
	if l.srgs < 1 || l.srgs > maxSRGs {
		return fmt.Errorf("SRGs: %d, want 1 to %d", l.srgs, maxSRGs)
	}
	if strings.Contains(l.group, "+ecdsa") {
		return fmt.Errorf("group %s: the cluster benchmark uses pre-shared keys only", l.group)
	}
	return nil
}

// preferred is the node whose activeness-priority is highest for group
// k: the groups go round-robin over the nodes, so each node prefers
// srgs/nodes of them (active/active).
func (l layout) preferred(k int) int { return (k-1)%l.nodes + 1 }

// owned is how many groups node i owns once the groups are placed.
func (l layout) owned(i int) int {
	n := 0
	for k := 1; k <= l.srgs; k++ {
		if l.preferred(k) == i {
			n++
		}
	}
	return n
}

// clusterConfig is the cluster's configuration in set format, given to
// node 1; the others take it from etcd.
func (l layout) clusterConfig() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	for i := 1; i <= l.nodes; i++ {
		w("set groups node%d system host-name n%d", i, i)
		w("set groups node%d interfaces eth1 unit 0 family inet address %s/24", i, nodeAddr(i))
	}
	w(`set apply-groups "${node}"`)
	for i := 1; i <= l.nodes; i++ {
		w("set chassis high-availability node %d address %s", i, nodeAddr(i))
	}
	b.WriteString(benchike.ProposalConfig(l.group))
	for k := 1; k <= l.srgs; k++ {
		g := fmt.Sprintf("set chassis high-availability services-redundancy-group %d ", k)
		w(g+"virtual-ip 1 ip %s/24", vip(k))
		w(g + "virtual-ip 1 interface eth1")
		w(g + "managed-services ipsec")
		for i := 1; i <= l.nodes; i++ {
			prio := 100
			if l.preferred(k) == i {
				prio = 200
			}
			w(g+"node %d activeness-priority %d", i, prio)
		}
		w(g + "preemption")
		w("set interfaces st0 unit %d family inet", genUnit(k))
		b.WriteString(benchike.GatewayConfig(fmt.Sprintf("gen%d", k), vip(k), genAddr(k),
			fmt.Sprintf("st0.%d", genUnit(k)), clusterNet(k), genNet(k), true))
		w("set interfaces st0 unit %d family inet address %s/24", k, innerAddr(k, 1))
		b.WriteString(benchike.GatewayConfig(fmt.Sprintf("peer%d", k), vip(k), peerAddr(k),
			fmt.Sprintf("st0.%d", k), innerAddr(k, 1).String()+"/32", innerAddr(k, 2).String()+"/32", true))
	}
	return b.String()
}

// peerConfig is the traffic peer's configuration: one tunnel to each
// group's virtual IP, from an address of its own, brought up at once.
func (l layout) peerConfig() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set system host-name peer")
	b.WriteString(benchike.ProposalConfig(l.group))
	for k := 1; k <= l.srgs; k++ {
		w("set interfaces eth1 unit 0 family inet address %s/24", peerAddr(k))
		w("set interfaces st0 unit %d family inet address %s/24", k, innerAddr(k, 2))
		name := fmt.Sprintf("srg%d", k)
		b.WriteString(benchike.GatewayConfig(name, peerAddr(k), vip(k),
			fmt.Sprintf("st0.%d", k), innerAddr(k, 2).String()+"/32", innerAddr(k, 1).String()+"/32", false))
		w("set security ipsec vpn %s establish-tunnels immediately", name)
	}
	return b.String()
}
