package store

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/config/schema"
)

func setLines(t *testing.T, s *Store, lines string) error {
	t.Helper()
	return s.Edit(func(e *config.Editor) error { return e.LoadSet(e.Tree.Root, "cli", []byte(lines)) })
}

func newStore(t *testing.T, apply ApplyFunc) (*Store, *clock.Fake, string) {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewFake(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	s, err := Open(dir, Options{Apply: apply, Clock: clk, Rand: rand.NewChaCha8([32]byte{})})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk, dir
}

func hostName(t *testing.T, s *Store) string {
	t.Helper()
	if st := s.Committed().Root.Lookup("system", "host-name"); st != nil {
		return st.Value()
	}
	return ""
}

func TestCommitRollbackAndCompare(t *testing.T) {
	var applied []string
	s, _, dir := newStore(t, func(c *schema.Config) error { applied = append(applied, c.HostName); return nil })
	for _, name := range []string{"one", "two", "three"} {
		if err := setLines(t, s, "set system host-name "+name); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(CommitOptions{User: "alice", Comment: "set " + name}); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(applied, ",") != "one,two,three" || hostName(t, s) != "three" {
		t.Fatalf("applied %v, committed %q", applied, hostName(t, s))
	}
	infos := s.Rollbacks()
	if len(infos) != 3 || infos[0].Comment != "set three" || infos[2].Comment != "set one" || infos[1].User != "alice" {
		t.Fatalf("rollbacks: %+v", infos)
	}
	if err := s.Rollback(2); err != nil {
		t.Fatal(err)
	}
	diff, err := s.Compare(0)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[edit system]\n-   host-name three;\n+   host-name one;\n"; diff != want {
		t.Fatalf("compare:\n%s\nwant:\n%s", diff, want)
	}
	if _, err := s.Commit(CommitOptions{}); err != nil || hostName(t, s) != "one" {
		t.Fatalf("commit of rollback 2: %v, %q", err, hostName(t, s))
	}
	// Reopening from disk gives the committed configuration back.
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if hostName(t, s2) != "one" || len(s2.Rollbacks()) != 4 {
		t.Fatalf("reopened: %q, %d rollbacks", hostName(t, s2), len(s2.Rollbacks()))
	}
	if err := s.Rollback(50); err == nil {
		t.Fatal("rollback 50 accepted")
	}
	if err := s.Rollback(9); err == nil || !strings.Contains(err.Error(), "no such configuration") {
		t.Fatalf("rollback 9: %v", err)
	}
}

func TestFailedCommitChangesNothing(t *testing.T) {
	applyErr := errors.New("device busy")
	fail := false
	s, _, dir := newStore(t, func(*schema.Config) error {
		if fail {
			return applyErr
		}
		return nil
	})
	setLines(t, s, "set system host-name good")
	if _, err := s.Commit(CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "rollback.0"))
	// Invalid: a dangling reference.
	if err := setLines(t, s, "set security ike gateway g ike-policy missing\nset security ike gateway g address 192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(); err == nil {
		t.Fatal("commit check passed a dangling reference")
	}
	if _, err := s.Commit(CommitOptions{}); err == nil || !strings.Contains(err.Error(), "IKE policy missing is not defined") {
		t.Fatalf("commit: %v", err)
	}
	// Valid, but the apply fails.
	s.Replace(config.New())
	setLines(t, s, "set system host-name other")
	fail = true
	if _, err := s.Commit(CommitOptions{}); !errors.Is(err, applyErr) {
		t.Fatalf("commit with failing apply: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "rollback.0"))
	if string(before) != string(after) || hostName(t, s) != "good" || len(s.Rollbacks()) != 1 {
		t.Fatal("a failed commit changed the committed configuration")
	}
	// A failed edit leaves the candidate as it was.
	if err := setLines(t, s, "set system host-name x\nset nonsense"); err == nil {
		t.Fatal("bad edit accepted")
	}
	if st := s.Candidate().Root.Lookup("system", "host-name"); st == nil || st.Value() != "other" {
		t.Fatal("a failed edit changed the candidate")
	}
}

func TestCommitConfirmed(t *testing.T) {
	s, clk, _ := newStore(t, nil)
	setLines(t, s, "set system host-name stable")
	s.Commit(CommitOptions{})
	setLines(t, s, "set system host-name risky")
	if _, err := s.Commit(CommitOptions{Confirm: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if when, ok := s.PendingConfirm(); !ok || !when.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("pending = %v %v", when, ok)
	}
	clk.Advance(59 * time.Second)
	if hostName(t, s) != "risky" {
		t.Fatal("rolled back early")
	}
	clk.Advance(2 * time.Second)
	if hostName(t, s) != "stable" {
		t.Fatalf("not rolled back after expiry: %q", hostName(t, s))
	}
	if _, ok := s.PendingConfirm(); ok {
		t.Fatal("still pending after expiry")
	}
	// Confirmed in time: stays.
	setLines(t, s, "set system host-name kept")
	s.Commit(CommitOptions{Confirm: time.Minute})
	if err := s.Confirm(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if hostName(t, s) != "kept" {
		t.Fatalf("confirmed commit rolled back: %q", hostName(t, s))
	}
	if err := s.Confirm(); err == nil {
		t.Fatal("confirm without a pending commit confirmed succeeded")
	}
}

// TestCancelConfirm: a pending commit confirmed is rolled back at once by
// CancelConfirm with its id; a stale id (a newer commit confirmed came
// since) cancels nothing; with nothing pending it is an error.
func TestCancelConfirm(t *testing.T) {
	s, clk, _ := newStore(t, nil)
	setLines(t, s, "set system host-name stable")
	s.Commit(CommitOptions{})
	setLines(t, s, "set system host-name first")
	s.Commit(CommitOptions{Confirm: time.Minute})
	first, ok := s.ConfirmID()
	if !ok || first == 0 {
		t.Fatalf("ConfirmID = %d %v", first, ok)
	}
	setLines(t, s, "set system host-name second")
	s.Commit(CommitOptions{Confirm: time.Minute})
	if err := s.CancelConfirm(first); !errors.Is(err, ErrNoConfirmPending) {
		t.Fatalf("cancel with the first id: %v, want ErrNoConfirmPending", err)
	}
	if hostName(t, s) != "second" {
		t.Fatalf("a stale cancel changed the configuration: %q", hostName(t, s))
	}
	second, _ := s.ConfirmID()
	if err := s.CancelConfirm(second); err != nil {
		t.Fatal(err)
	}
	if hostName(t, s) != "first" {
		t.Fatalf("after cancel: %q, want rollback 1 (first)", hostName(t, s))
	}
	if st := s.Candidate().Root.Lookup("system", "host-name"); st == nil || st.Value() != "first" {
		t.Fatal("the candidate is not the restored configuration")
	}
	if _, ok := s.PendingConfirm(); ok {
		t.Fatal("still pending after cancel")
	}
	clk.Advance(time.Hour)
	if hostName(t, s) != "first" {
		t.Fatalf("the cancelled commit's timer still fired: %q", hostName(t, s))
	}
	if err := s.CancelConfirm(0); !errors.Is(err, ErrNoConfirmPending) {
		t.Fatalf("cancel with nothing pending: %v", err)
	}
}

func TestKeepsAtMost49Rollbacks(t *testing.T) {
	s, _, dir := newStore(t, nil)
	for i := 0; i < 53; i++ {
		setLines(t, s, "set system host-name h"+string(rune('a'+i%26)))
		if _, err := s.Commit(CommitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.Rollbacks()); n != MaxRollback+1 {
		t.Fatalf("%d stored configurations, want %d", n, MaxRollback+1)
	}
	if _, err := os.Stat(filepath.Join(dir, "rollback.50")); !os.IsNotExist(err) {
		t.Fatal("rollback.50 exists")
	}
}
