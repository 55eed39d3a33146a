package cluster

import (
	"encoding/base64"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/strongswan"
)

// reinitSeed is ikeSeed with a third node and a second tunnel of the
// group, to another peer address, established on traffic.
const reinitSeed = ikeSeed + node3Seed + `set chassis high-availability services-redundancy-group 1 node 3 activeness-priority 50
set interfaces st0 unit 2 family inet address 198.18.4.1/24
set routing-options static route 198.18.3.0/24 next-hop st0.2
set security ike gateway ike_gw2 ike-policy ike_policy
set security ike gateway ike_gw2 address 198.51.100.101
set security ike gateway ike_gw2 local-address 198.51.100.10
set security ike gateway ike_gw2 version v2-only
set security ipsec vpn ipsec_vpn2 bind-interface st0.2
set security ipsec vpn ipsec_vpn2 ike gateway ike_gw2
set security ipsec vpn ipsec_vpn2 ike ipsec-policy ipsec_policy
set security ipsec vpn ipsec_vpn2 establish-tunnels on-traffic
`

// TestReinitiateWithoutState: where a survivor cannot resume a tunnel's
// SAs it negotiates at once, and says why. strongSwan runs no dead peer
// detection, so nothing but the survivor's own initiation can bring the
// tunnel back. Node 1 keeps no SA state (no cluster key): node 2 takes
// over, finds no record (as for an SA too new to have been written) and
// negotiates (cause no-state). Node 2 keeps state, sealed with a key node
// 3 does not have: node 3 takes over, cannot open the records and
// negotiates (cause state-unreadable). The second tunnel, on-traffic,
// is left alone when there is no state (it may have had no SA), and
// negotiated at once when the group's state is lost.
func TestReinitiateWithoutState(t *testing.T) {
	strongswan.Require(t)
	n, dir, node := newCluster(t, reinitSeed)
	for _, id := range []int{2, 3} {
		writeClusterKey(t, dir, id, newClusterKey()) // each its own
	}
	n.Exec("client", "ip", "addr", "add", "198.18.3.1/32", "dev", "lo")
	n.Exec("client", "ip", "addr", "add", "198.51.100.101/24", "dev", "eth1")
	charon := startClient(t, n, vipConnection(), vip2Connection(vip))
	n1 := node(1, true)
	tunnelUp := pingsThrough(n, "198.18.2.1", "198.18.1.1")
	waitFor(t, 30*time.Second, "the tunnel through the virtual IP carries traffic", tunnelUp, n1)
	tunnel2Up := pingsThrough(n, "198.18.3.1", "198.18.4.1")
	initiate2 := func(p *proc) {
		t.Helper()
		if err := charon.Initiate("net2"); err != nil {
			t.Fatalf("strongSwan's second tunnel: %v\n%s", err, p.logText())
		}
		waitFor(t, 20*time.Second, "the second tunnel carries traffic", tunnel2Up, p)
	}
	initiate2(n1)
	n2, n3 := node(2, false), node(3, false)
	waitFor(t, 20*time.Second, "nodes 2 and 3 are members", membersUp(dir, 2, 3), n1, n2, n3)

	// failover kills the owner and waits for a new IKE SA of each of
	// conns that carries traffic (strongSwan may keep the old ones until
	// they expire: it hears nothing more of them); count tunnels are
	// negotiated for cause.
	seen := map[uint64]bool{}
	failover := func(owner, next *proc, conns []string, cause string, count int) {
		t.Helper()
		sas, err := charon.ListSAs()
		if err != nil {
			t.Fatal(err)
		}
		for _, sa := range sas {
			seen[sa.InitiatorSPI] = true
		}
		owner.stop(t, syscall.SIGKILL)
		took := waitFor(t, 3*ttl+15*time.Second, next.name+" negotiates new IKE SAs for "+strings.Join(conns, ", "), func() bool {
			sas, err := charon.ListSAs()
			if err != nil {
				return false
			}
			fresh := map[string]bool{}
			for _, sa := range sas {
				if strings.EqualFold(sa.State, "ESTABLISHED") && !seen[sa.InitiatorSPI] {
					fresh[sa.Name] = true
				}
			}
			for _, c := range conns {
				if !fresh[c] {
					return false
				}
			}
			return true
		}, next)
		waitFor(t, 10*time.Second, "the new IKE SA carries traffic", tunnelUp, next)
		t.Logf("%s: new IKE SAs for %v %v after SIGKILL of %s (lease TTL %v)", cause, conns, took.Round(time.Millisecond), owner.name, ttl)
		metrics := n.Exec(next.name, "curl", "-s", "-m", "2", "http://127.0.0.1:9300/metrics")
		if want := fmt.Sprintf(`ipsecgw_cluster_sa_reinitiations_total{cause=%q} %d`, cause, count); !strings.Contains(metrics, want) {
			t.Fatalf("%s's metrics lack %s:\n%s\n%s", next.name, want, metrics, next.logText())
		}
		if !strings.Contains(next.logText(), "cause="+cause) || strings.Contains(next.logText(), "IKE SA resumed") {
			t.Fatalf("%s's log does not say why it negotiated (%s):\n%s", next.name, cause, next.logText())
		}
	}
	// No state: the tunnel kept up negotiates; the on-traffic one waits.
	// strongSwan brings it back itself here, once it has dropped the SA
	// node 1 had (without a DELETE exchange: no node knows that SA).
	failover(n1, n2, []string{"vip"}, "no-state", 1)
	if out, err := charon.Swanctl("--terminate", "--ike", "vip2", "--force"); err != nil {
		t.Fatalf("strongSwan: dropping the second tunnel's old IKE SA: %v\n%s", err, out)
	}
	initiate2(n2)

	// Node 2 writes the new SA's record, sealed with its key.
	b64 := base64.StdEncoding.EncodeToString
	query := fmt.Sprintf(`{"key":%q,"range_end":%q,"count_only":true}`, b64([]byte("/ipsecgw/sa/1/ike/")), b64([]byte("/ipsecgw/sa/1/ike0")))
	waitFor(t, 10*time.Second, "node 2 keeps the SAs' state in etcd", func() bool {
		out, _ := n.Try("client", "curl", "-s", "-m", "2", "-X", "POST", "-d", query, "http://198.51.100.2:2379/v3/kv/range")
		return strings.Contains(out, `"count":"2"`)
	}, n2)
	// State lost: both negotiate at once, the on-traffic one too.
	failover(n2, n3, []string{"vip", "vip2"}, "state-unreadable", 2)
	if !tunnel2Up() {
		t.Fatalf("the second tunnel carries no traffic through node 3:\n%s", n3.logText())
	}
}
