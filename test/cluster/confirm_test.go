package cluster

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"ipsecgw/mgmt/mgmtpb"
)

// confirmSeed is seed with a third node.
const confirmSeed = seed + node3Seed

// configClient is the management API of a node (the CLI has no seconds
// for commit confirmed; NETCONF's confirm-timeout does, through this).
func configClient(t *testing.T, p *proc) mgmtpb.ConfigClient {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+filepath.Join(p.dir, p.name+".sock"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return mgmtpb.NewConfigClient(conn)
}

// hostName is the host-name a node runs ("" while its CLI does not
// answer).
func hostName(t *testing.T, p *proc) string {
	out, err := exec.Command(binary, "cli", "--socket", filepath.Join(p.dir, p.name+".sock"), "-c", "show version").CombinedOutput()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Hostname: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// restoredAt finds, in a node's log, when it rolled a commit confirmed
// back and the deadline it had.
var restoredAt = regexp.MustCompile(`time=(\S+) level=WARN msg="commit confirmed not confirmed in time: the configuration before it is restored on the cluster".* deadline=(\S+)`)

// confirmPending is a node's view of the cluster's pending commit
// confirmed.
func confirmPending(t *testing.T, p *proc) bool {
	t.Helper()
	st, err := configClient(t, p).Status(context.Background(), &mgmtpb.StatusRequest{})
	if err != nil {
		t.Fatalf("%s: status: %v", p.name, err)
	}
	return st.ConfirmSecondsLeft > 0
}

// TestCommitConfirmedClusterWide: three nodes on one etcd member. A
// commit confirmed made on node 1 is in effect and pending on every node;
// node 1 is killed before its deadline, and the two survivors restore the
// configuration before it, once (one rollback in the commit history, made
// by one of them). Then Junos's rules across nodes: a commit check on
// another node confirms a pending commit confirmed, and so does a commit
// on another node; neither is rolled back.
func TestCommitConfirmedClusterWide(t *testing.T) {
	_, _, node := newCluster(t, confirmSeed)
	n1 := node(1, true)
	waitFor(t, 20*time.Second, "node 1 runs the seed", func() bool { return hostName(t, n1) == "n1" }, n1)
	n2, n3 := node(2, false), node(3, false)
	for _, p := range []*proc{n2, n3} {
		waitFor(t, 20*time.Second, p.name+" runs the cluster's configuration", func() bool { return hostName(t, p) == p.name }, p)
	}

	// A commit confirmed on node 1, in effect everywhere and pending
	// everywhere.
	ctx := context.Background()
	c1 := configClient(t, n1)
	if _, err := c1.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{
		"set groups node2 system host-name n2-trial", "set groups node3 system host-name n3-trial"}}); err != nil {
		t.Fatal(err)
	}
	const confirmFor = 6 * time.Second
	if _, err := c1.Commit(ctx, &mgmtpb.CommitRequest{ConfirmSeconds: uint32(confirmFor / time.Second)}); err != nil {
		t.Fatalf("commit confirmed on node 1: %v", err)
	}
	deadline := time.Now().Add(confirmFor)
	for _, p := range []*proc{n2, n3} {
		waitFor(t, 5*time.Second, p.name+" runs the commit confirmed", func() bool { return hostName(t, p) == p.name+"-trial" }, p)
		if !confirmPending(t, p) {
			t.Fatalf("%s does not see the commit confirmed pending", p.name)
		}
	}
	if out := cli(t, n3, "configure; status"); !strings.Contains(out, "commit confirmed will be rolled back in") {
		t.Fatalf("node 3's configuration mode does not say a commit confirmed is pending:\n%s", out)
	}
	// The node that made it dies before the deadline.
	n1.stop(t, syscall.SIGKILL)
	if time.Now().After(deadline) {
		t.Fatal("the test was too slow: node 1 was killed after the deadline")
	}
	for _, p := range []*proc{n2, n3} {
		waitFor(t, time.Until(deadline)+15*time.Second, p.name+" rolled back", func() bool { return hostName(t, p) == p.name }, n2, n3)
	}
	rbs, err := configClient(t, n2).Rollbacks(ctx, &mgmtpb.RollbacksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	countRollbacks := func(rs *mgmtpb.RollbacksReply) int {
		k := 0
		for _, r := range rs.Rollbacks {
			if r.Comment == "commit confirmed rollback" {
				k++
			}
		}
		return k
	}
	made := strings.Count(n2.logText(), "is restored on the cluster") + strings.Count(n3.logText(), "is restored on the cluster")
	if countRollbacks(rbs) != 1 || made != 1 {
		t.Fatalf("%d rollbacks in the commit history, %d logged, want 1 each: %v\n--- n2 ---\n%s\n--- n3 ---\n%s",
			countRollbacks(rbs), made, rbs.Rollbacks, n2.logText(), n3.logText())
	}
	// When it was made, by the log of the node that made it: not before
	// the deadline (by the committing node's clock; all share one here).
	for _, p := range []*proc{n2, n3} {
		m := restoredAt.FindStringSubmatch(p.logText())
		if m == nil {
			continue
		}
		at, err1 := time.Parse(time.RFC3339Nano, m[1])
		due, err2 := time.Parse(time.RFC3339Nano, m[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("%s's log: %v %v\n%s", p.name, err1, err2, m[0])
		}
		t.Logf("%s made the rollback %v after the deadline; the test saw both survivors run it %v after its own, later deadline (each look is a CLI call)",
			p.name, at.Sub(due).Round(time.Millisecond), time.Since(deadline).Round(time.Millisecond))
		if at.Before(due) {
			t.Fatalf("rolled back before the deadline: %s", m[0])
		}
	}

	// A commit check on node 3 confirms node 2's commit confirmed; a
	// commit on node 2 confirms node 3's.
	c2, c3 := configClient(t, n2), configClient(t, n3)
	c2.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{"set groups node2 system host-name n2-checked"}})
	if _, err := c2.Commit(ctx, &mgmtpb.CommitRequest{ConfirmSeconds: 3}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "node 3 sees it pending", func() bool { return confirmPending(t, n3) }, n3)
	if out := cli(t, n3, "configure; commit check"); !strings.Contains(out, "configuration check succeeds") {
		t.Fatalf("commit check on node 3:\n%s", out)
	}
	if confirmPending(t, n2) {
		t.Fatal("a commit check on node 3 did not confirm node 2's commit confirmed")
	}
	c3.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{"set groups node3 system host-name n3-confirmed"}})
	if _, err := c3.Commit(ctx, &mgmtpb.CommitRequest{ConfirmSeconds: 3}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "node 2 sees it pending", func() bool { return confirmPending(t, n2) }, n2)
	if out := cli(t, n2, "configure; set groups node2 system host-name n2-final; commit"); !strings.Contains(out, "commit complete") {
		t.Fatalf("commit on node 2:\n%s", out)
	}
	if confirmPending(t, n3) {
		t.Fatal("a commit on node 2 did not confirm node 3's commit confirmed")
	}
	time.Sleep(4 * time.Second) // past both deadlines: nothing rolls back
	if hostName(t, n2) != "n2-final" || hostName(t, n3) != "n3-confirmed" {
		t.Fatalf("after the deadlines: %q %q", hostName(t, n2), hostName(t, n3))
	}
	if rbs, err = c3.Rollbacks(ctx, &mgmtpb.RollbacksRequest{}); err != nil || countRollbacks(rbs) != 1 {
		t.Fatalf("a confirmed commit was rolled back: %v %v", rbs, err)
	}
}
