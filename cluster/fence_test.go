package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"ipsecgw/config/schema"
)

// A takeover that keeps OnChange busy for longer than the lease could
// live without a renewal (the daemon reading SA state from a slow etcd)
// does not fence the node: the lease is renewed meanwhile, and the
// renewal is what the fence looks at.
func TestSlowChangeKeepsLease(t *testing.T) {
	fresh(t)
	rec := &recorder{}
	groups := []*schema.SRG{srg(1, false, map[int]int{1: 200})}
	var slow atomic.Bool
	slow.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := Join(ctx, Options{
		Endpoints: []string{etcdURL}, NodeID: 1, LeaseTTL: 2 * time.Second, Logger: testLogger(),
		OnChange: func(c Change) {
			rec.add(1, c)
			if c.Owned && slow.Swap(false) {
				time.Sleep(3 * time.Second) // more than TTL − margin
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	n.SetGroups(groups)
	waitFor(t, 5*time.Second, "node 1 owns the group", func() bool { return rec.owner(1) == 1 })
	waitFor(t, 10*time.Second, "the slow change is over", func() bool { return !slow.Load() && n.mu.TryLock() && unlock(n) })
	time.Sleep(n.ttl)
	if stop, ok := rec.find(1, 1, false); ok {
		t.Fatalf("the node stopped the group while a change was slow: %q", stop.Reason)
	}
}

func unlock(n *Node) bool { n.mu.Unlock(); return true }
