package cluster

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"ipsecgw/config/store"
)

// member is a gateway that follows the cluster as a daemon does: the
// configuration watch and the commit confirmed timer, until stopped.
type member struct {
	*gateway
	stop context.CancelFunc
	wg   sync.WaitGroup
	logs *strings.Builder
	lmu  *sync.Mutex
}

func startMember(t *testing.T) *member {
	t.Helper()
	m := &member{gateway: openGateway(t), logs: &strings.Builder{}, lmu: &sync.Mutex{}}
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = func() { cancel(); m.wg.Wait() }
	t.Cleanup(m.stop)
	cli := client(t, etcdURL)
	log := slog.New(slog.NewTextHandler(lockedWriter{m.logs, m.lmu}, nil))
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		WatchConfig(ctx, cli, func() {
			if _, err := m.st.Refresh(); err != nil {
				t.Errorf("refresh: %v", err)
			}
		})
	}()
	go func() { defer m.wg.Done(); NewConfigBackend(cli, 5*time.Second).RunConfirm(ctx, log) }()
	return m
}

func (m *member) log() string {
	m.lmu.Lock()
	defer m.lmu.Unlock()
	return m.logs.String()
}

type lockedWriter struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (g *gateway) commit(t *testing.T, hn string, confirm time.Duration) {
	t.Helper()
	g.set(t, "set system host-name "+hn)
	if _, err := g.st.Commit(store.CommitOptions{User: "op", Comment: hn, Confirm: confirm}); err != nil {
		t.Fatal(err)
	}
}

// rollbacksMade counts the commit confirmed rollbacks in the cluster's
// commit history.
func rollbacksMade(g *gateway) int {
	n := 0
	for _, r := range g.st.Rollbacks() {
		if r.Comment == store.RollbackComment {
			n++
		}
	}
	return n
}

// A commit confirmed made on node a is pending on every node; a dies
// before its deadline; the two survivors' timers fire at the same moment
// and exactly one of them restores the configuration before it, which
// every survivor then runs.
func TestCommitConfirmedOutlivesItsNode(t *testing.T) {
	fresh(t)
	a, b, c := startMember(t), startMember(t), startMember(t)
	a.commit(t, "base", 0)
	for _, m := range []*member{b, c} {
		waitFor(t, 5*time.Second, "the members run the base", func() bool { return m.running() == "base" })
	}
	a.commit(t, "trial", 1500*time.Millisecond)
	for _, m := range []*member{b, c} {
		waitFor(t, 5*time.Second, "the members run the trial", func() bool { return m.running() == "trial" })
		if left, ok := m.st.ConfirmLeft(); !ok || left <= 0 || left > 1500*time.Millisecond {
			t.Fatalf("the pending commit confirmed seen on another node: %v %v", left, ok)
		}
		if id, ok := m.st.ConfirmID(); !ok || id == 0 {
			t.Fatalf("confirm id on another node: %d %v", id, ok)
		}
	}
	a.stop() // node a dies: nothing of it runs any more
	for _, m := range []*member{b, c} {
		waitFor(t, 8*time.Second, "the survivors roll back", func() bool { return m.running() == "base" })
		if _, ok := m.st.ConfirmLeft(); ok {
			t.Fatal("still pending after the rollback")
		}
	}
	if n := rollbacksMade(b.gateway); n != 1 {
		t.Fatalf("%d rollbacks in the commit history, want 1: %+v", n, b.st.Rollbacks())
	}
	made := strings.Count(b.log(), "is restored on the cluster") + strings.Count(c.log(), "is restored on the cluster")
	if made != 1 || a.log() != "" {
		t.Fatalf("rollbacks made: %d by the survivors (want 1); node a's log %q", made, a.log())
	}
	if rb := b.st.Rollbacks()[0]; rb.User != "root" || hostName(b.st.Committed()) != "base" {
		t.Fatalf("the rollback commit: %+v, host-name %q", rb, hostName(b.st.Committed()))
	}
	// Node a, back after the deadline, runs the rolled-back configuration.
	back := openGateway(t)
	if back.running() != "base" {
		t.Fatalf("node a restarted runs %q", back.running())
	}
}

// Junos's rules across nodes: a commit check or a commit on another node
// confirms a pending commit confirmed; a confirm after the deadline is
// refused; a rollback asked on another node (NETCONF's cancel-commit)
// happens at once everywhere.
func TestCommitConfirmedConfirmedElsewhere(t *testing.T) {
	fresh(t)
	a, b := startMember(t), startMember(t)
	a.commit(t, "base", 0)
	waitFor(t, 5*time.Second, "b runs the base", func() bool { return b.running() == "base" })

	// A commit check on b confirms it.
	a.commit(t, "checked", time.Second)
	waitFor(t, 5*time.Second, "b runs it", func() bool { return b.running() == "checked" })
	if err := b.st.Confirm(); err != nil {
		t.Fatalf("commit check on b: %v", err)
	}
	if _, ok := a.st.ConfirmLeft(); ok {
		t.Fatal("still pending on a after b confirmed")
	}
	// A commit on b confirms it.
	a.commit(t, "committed", time.Second)
	waitFor(t, 5*time.Second, "b runs it", func() bool { return b.running() == "committed" })
	b.commit(t, "on-b", 0)
	if _, ok := a.st.ConfirmLeft(); ok {
		t.Fatal("still pending after a commit on b")
	}
	time.Sleep(1500 * time.Millisecond) // past both deadlines
	waitFor(t, 5*time.Second, "a runs b's commit", func() bool { return a.running() == "on-b" })
	if b.running() != "on-b" || rollbacksMade(a.gateway) != 0 {
		t.Fatalf("a confirmed commit was rolled back: %q, %+v", b.running(), a.st.Rollbacks())
	}

	// Cancelled on b, with a's id: rolled back at once on both.
	a.commit(t, "cancelled", time.Minute)
	id, ok := a.st.ConfirmID()
	waitFor(t, 5*time.Second, "b runs it", func() bool { return b.running() == "cancelled" })
	if err := b.st.CancelConfirm(id + 1); !errors.Is(err, store.ErrNoConfirmPending) {
		t.Fatalf("cancel with another id: %v", err)
	}
	if !ok || b.st.CancelConfirm(id) != nil || b.running() != "on-b" {
		t.Fatalf("cancel on b: pending %v, b runs %q", ok, b.running())
	}
	waitFor(t, 5*time.Second, "a follows the rollback", func() bool { return a.running() == "on-b" })
	if err := a.st.Confirm(); !errors.Is(err, store.ErrNoConfirmPending) {
		t.Fatalf("confirm with none pending: %v", err)
	}

	// Past its deadline a commit confirmed cannot be confirmed any more:
	// its rollback is due.
	a.set(t, "set system host-name late")
	if _, err := a.st.Commit(store.CommitOptions{Confirm: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := b.st.Confirm(); !errors.Is(err, store.ErrNoConfirmPending) {
		t.Fatalf("confirm past the deadline: %v", err)
	}
	for _, m := range []*member{a, b} {
		waitFor(t, 5*time.Second, "the late one rolled back", func() bool { return m.running() == "on-b" })
	}
}
