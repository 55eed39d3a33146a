package cluster

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/strongswan"
)

// TestEtcdLeaderLossUnderTraffic: three etcd members, two ipsecgw nodes
// sharing a cluster key, lease-ttl 2, strongSwan's tunnel to the group
// under a continuous ping; the etcd leader is killed. Until a new leader
// is elected no lease is renewed, and the owner may fence itself; the new
// leader extends every lease by its full TTL, so the owner's next renewal
// succeeds on the same lease and the group stays with it, its SAs resumed
// from its own records (cluster/fence.go). Should the lease be lost
// anyway, node 2 takes the group over as in any failover. Either way the
// peer keeps the same IKE SA and the longest gap in replies stays below
// the failover bound (the lease TTL plus a second) or, when etcd's
// election takes longer than the lease TTL (a loaded machine: 3-4 s were
// seen), below the election's time plus a second: no renewal can land
// before a leader exists. The log says which happened.
func TestEtcdLeaderLossUnderTraffic(t *testing.T) {
	strongswan.Require(t)
	n, dir, node, etcd := newClusterEtcd(t, ikeSeed, 3)
	key := newClusterKey()
	for _, id := range []int{1, 2} {
		writeClusterKey(t, dir, id, key)
	}
	charon := startClient(t, n, vipConnection())
	n1 := node(1, true)
	tunnelUp := pingsThrough(n, "198.18.2.1", "198.18.1.1")
	waitFor(t, 30*time.Second, "the tunnel through the virtual IP carries traffic", tunnelUp, n1)
	n2 := node(2, false)
	waitFor(t, 20*time.Second, "node 2 is a member", membersUp(dir, 2), n1, n2)
	waitFor(t, 10*time.Second, "node 1 keeps the SA's state in etcd", func() bool {
		out, _ := n.Try("client", "curl", "-s", "-m", "2", "-X", "POST", "-d", `{"key":"L2lwc2VjZ3cvc2EvMS9pa2Uv","range_end":"L2lwc2VjZ3cvc2EvMS9pa2Uw","count_only":true}`,
			"http://198.51.100.2:2379/v3/kv/range") // /ipsecgw/sa/1/ike/ .. ike0
		return regexp.MustCompile(`"count":"[1-9]`).MatchString(out)
	}, n1)
	before := established(t, charon)

	leader := etcd.leader(t)
	var election time.Duration // from the kill until a live member leads
	r := pingTo(t, n, "198.18.1.1", 15*time.Second, 2*time.Second, func() {
		etcd.procs[leader].stop(t, syscall.SIGKILL)
		killed := time.Now()
		for time.Since(killed) < 12*time.Second {
			if l, err := etcd.currentLeader(); err == nil && l != leader {
				election = time.Since(killed)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if election == 0 {
		t.Fatalf("no new etcd leader within 12 s of killing member %d\n%s", leader, n1.logText())
	}

	log1 := n1.logText()
	fenced := strings.Contains(log1, "fenced: stopping every group this node owns")
	var what string
	switch {
	case hasVIP(n, "n1") && !hasVIP(n, "n2") && !fenced:
		what = "node 1 kept the group: a renewal landed before its lease could have expired"
	case hasVIP(n, "n1") && !hasVIP(n, "n2") && strings.Contains(log1, "lease renewed; owning groups again"):
		what = "node 1 fenced itself, then renewed the same lease and took its group up again"
	case hasVIP(n, "n2") && !hasVIP(n, "n1"):
		what = "node 1 lost its lease: node 2 took the group over"
	default:
		t.Fatalf("no single owner after the etcd leader's loss (node 1 %v, node 2 %v)\n--- n1 ---\n%s\n--- n2 ---\n%s",
			hasVIP(n, "n1"), hasVIP(n, "n2"), log1, n2.logText())
	}
	t.Logf("etcd leader (member %d) killed under ping: %s; new leader after %v; longest gap %v, %d of %d lost",
		leader, what, election.Round(time.Millisecond), r.gap.Round(time.Millisecond), r.lost, r.sent)
	checkGapWithin(t, r, max(ttl, election)+time.Second, n1, n2)
	for spi := range established(t, charon) {
		if !before[spi] {
			t.Fatalf("strongSwan has a new IKE SA %x: the tunnel was negotiated again\n--- n1 ---\n%s\n--- n2 ---\n%s", spi, log1, n2.logText())
		}
	}
	if fenced && hasVIP(n, "n1") {
		metrics := n.Exec("n1", "curl", "-s", "-m", "2", "http://127.0.0.1:9300/metrics")
		for _, want := range []string{`ipsecgw_cluster_fence_changes_total{change="fenced"} 1`, `ipsecgw_cluster_fence_changes_total{change="unfenced"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Fatalf("node 1's metrics lack %s:\n%s", want, metrics)
			}
		}
	}
}
