package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/config/store"
)

// gateway is one node's configuration store on the cluster's etcd, with
// the host-name it runs (what its apply hook last put into effect).
type gateway struct {
	st *store.Store
	mu sync.Mutex
	hn string
}

func (g *gateway) running() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.hn
}

func openGateway(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{}
	st, err := store.Open(t.TempDir(), store.Options{
		Backend: NewConfigBackend(client(t, etcdURL), 5*time.Second),
		Apply: func(c *schema.Config) error {
			g.mu.Lock()
			g.hn = c.HostName
			g.mu.Unlock()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	g.st = st
	g.hn = hostName(st.Committed()) // a daemon starts with the committed configuration
	t.Cleanup(st.Close)
	return g
}

func (g *gateway) set(t *testing.T, cmd string) {
	t.Helper()
	err := g.st.Edit(func(e *config.Editor) error {
		return e.LoadSet(e.Tree.Root, "t", []byte(cmd+"\n"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hostName(tr *config.Tree) string {
	if s := tr.Root.Lookup("system", "host-name"); s != nil {
		return s.Value()
	}
	return ""
}

// Two nodes commit at once from the same configuration: one wins, the
// other is told to retry and changes nothing; after it catches up (the
// watch), its retry succeeds; a bad commit changes nothing anywhere.
func TestConcurrentCommits(t *testing.T) {
	fresh(t)
	a, b := openGateway(t), openGateway(t)
	a.set(t, "set system host-name from-a")
	b.set(t, "set system host-name from-b")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, g := range []*gateway{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = g.st.Commit(store.CommitOptions{User: fmt.Sprint("node", i+1)})
		}()
	}
	wg.Wait()
	won, lost := a, b
	if errs[0] != nil {
		won, lost = b, a
		errs[0], errs[1] = errs[1], errs[0]
	}
	if errs[0] != nil || !errors.Is(errs[1], store.ErrModified) {
		t.Fatalf("commits: %v, %v", errs[0], errs[1])
	}
	if lost.running() != "" || hostName(lost.st.Committed()) != "" {
		t.Fatalf("the losing commit changed its node: running %q", lost.running())
	}
	winner := won.running()
	// The loser takes the winner's configuration, keeps its own edit in
	// the candidate, and commits it on top.
	if changed, err := lost.st.Refresh(); !changed || err != nil || lost.running() != winner {
		t.Fatalf("refresh: %v %v, running %q, want %q", changed, err, lost.running(), winner)
	}
	if _, err := lost.st.Commit(store.CommitOptions{}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if _, err := won.st.Refresh(); err != nil || won.running() != lost.running() {
		t.Fatalf("after the retry: %q and %q", won.running(), lost.running())
	}
	// A bad commit is refused where it is made, and nothing is written.
	a.set(t, "set security ike gateway g ike-policy missing")
	if _, err := a.st.Commit(store.CommitOptions{}); err == nil {
		t.Fatal("a bad commit succeeded")
	}
	if changed, _ := b.st.Refresh(); changed || len(b.st.Rollbacks()) != 2 {
		t.Fatalf("a bad commit reached the cluster: %d rollbacks", len(b.st.Rollbacks()))
	}
}

// A node that was down while others committed catches up when it opens its
// store; a running node follows commits, rollbacks and an expired commit
// confirmed through the watch.
func TestCatchUpRollbackAndConfirmed(t *testing.T) {
	fresh(t)
	a := openGateway(t)
	for _, hn := range []string{"one", "two", "three"} {
		a.set(t, "set system host-name "+hn)
		if _, err := a.st.Commit(store.CommitOptions{Comment: hn}); err != nil {
			t.Fatal(err)
		}
	}
	b := openGateway(t) // started after the commits
	if hostName(b.st.Committed()) != "three" || len(b.st.Rollbacks()) != 3 || b.st.Rollbacks()[2].Comment != "one" {
		t.Fatalf("late node: %q, %+v", hostName(b.st.Committed()), b.st.Rollbacks())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go WatchConfig(ctx, client(t, etcdURL), func() {
		if _, err := b.st.Refresh(); err != nil {
			t.Errorf("refresh: %v", err)
		}
	})
	follows := func(want string) {
		t.Helper()
		waitFor(t, 5*time.Second, "node b runs "+want, func() bool { return b.running() == want })
	}
	follows("three")
	// Rollback on a: the whole cluster goes back.
	if err := a.st.Rollback(2); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.Commit(store.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	follows("one")
	// A commit confirmed that is not confirmed rolls the cluster back:
	// node b, the one node whose deadline timer runs, makes the rollback.
	go NewConfigBackend(client(t, etcdURL), 5*time.Second).RunConfirm(ctx, slog.New(slog.DiscardHandler))
	a.set(t, "set system host-name trial")
	if _, err := a.st.Commit(store.CommitOptions{Confirm: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	follows("trial")
	follows("one")
	if _, err := a.st.Refresh(); err != nil || hostName(a.st.Committed()) != "one" || a.running() != "one" {
		t.Fatalf("node a after the confirm expired: %q %v", a.running(), err)
	}
}

// Read of a rollback past the oldest kept, or before the first commit.
func TestConfigBackendBounds(t *testing.T) {
	fresh(t)
	b := NewConfigBackend(client(t, etcdURL), 5*time.Second)
	if _, _, err := b.Read(0); err == nil {
		t.Fatal("rollback 0 of an empty cluster")
	}
	var v int64
	for i := range store.MaxRollback + 3 {
		var err error
		if v, err = b.Write(fmt.Sprintf("system { host-name h%d; }\n", i), v); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := b.Read(store.MaxRollback); err != nil {
		t.Fatalf("rollback %d: %v", store.MaxRollback, err)
	}
	if _, _, err := b.Read(store.MaxRollback + 1); err == nil {
		t.Fatal("a rollback past the oldest kept")
	}
	if _, err := b.Write("system { host-name stale; }\n", v-1); !errors.Is(err, store.ErrModified) {
		t.Fatalf("a write on a stale version: %v", err)
	}
}
