package cli

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/mgmt/mgmtpb"
)

func TestConfigureEditUpTopBanners(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if out := h.mustRun(t, "configure"); out != "Entering configuration mode\n" {
		t.Fatalf("configure printed %q", out)
	}
	steps := []struct{ line, banner, prompt string }{
		{"", "\n[edit]\n", "root@gw1# "},
		{"edit sec ike gateway gw1", "\n[edit security ike gateway gw1]\n", "root@gw1# "},
		{"up", "\n[edit security ike]\n", "root@gw1# "},
		{"edit gateway \"gw 2\" dead-peer", "\n[edit security ike gateway \"gw 2\" dead-peer-detection]\n", "root@gw1# "},
		{"up 2", "\n[edit security ike]\n", "root@gw1# "},
		{"exit", "\n[edit security]\n", "root@gw1# "},
		{"top", "\n[edit]\n", "root@gw1# "},
		{"edit interfaces st0 unit 1", "\n[edit interfaces st0 unit 1]\n", "root@gw1# "},
		{"top", "\n[edit]\n", "root@gw1# "},
		{"edit interfaces st0.1", "\n[edit interfaces st0 unit 1]\n", "root@gw1# "},
		{"up", "\n[edit interfaces st0]\n", "root@gw1# "},
		{"exit", "\n[edit interfaces]\n", "root@gw1# "},
		{"top", "\n[edit]\n", "root@gw1# "},
	}
	for _, st := range steps {
		h.mustRun(t, st.line)
		if b := h.s.Banner(ctx); b != st.banner {
			t.Errorf("after %q banner %q, want %q", st.line, b, st.banner)
		}
		if p := h.s.Prompt(); p != st.prompt {
			t.Errorf("after %q prompt %q, want %q", st.line, p, st.prompt)
		}
	}
}

func TestRelativeSetBecomesAbsoluteEdit(t *testing.T) {
	h := newHarness(t)
	for _, l := range []string{
		"configure",
		"edit security ike",
		"set gateway gw1 version v2",
		"set prop p1 description \"IKE Proposal\"",
		"set policy pol1 proposals [ p1 p2 ]",
		"set policy pol1 pre-shared-key ascii-text \"abc\"",
		"del gateway gw1 version",
		"deactivate gateway gw1",
		"activate gateway gw1",
		"top",
		"set interfaces st0 unit 1 family inet",
		"set interfaces st0.2 family inet address 169.254.0.1/30",
		"set security ipsec vpn-monitor-options interval 10 thr 3",
	} {
		h.mustRun(t, l)
	}
	want := []string{
		"set security ike gateway gw1 version v2-only",
		`set security ike proposal p1 description "IKE Proposal"`,
		"set security ike policy pol1 proposals [ p1 p2 ]",
		`set security ike policy pol1 pre-shared-key ascii-text "abc"`,
		"delete security ike gateway gw1 version",
		"deactivate security ike gateway gw1",
		"activate security ike gateway gw1",
		"set interfaces st0 unit 1 family inet",
		"set interfaces st0 unit 2 family inet address 169.254.0.1/30",
		"set security ipsec vpn-monitor-options interval 10 threshold 3",
	}
	if got := strings.Join(h.cfg.edits, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("edits:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestConfigSyntaxErrorsStayLocal(t *testing.T) {
	cases := []struct{ line, want string }{
		{"set foo", "set foo\n    ^\nsyntax error."},
		{"set security ike gateway", "set security ike gateway\n                         ^\nmissing argument."},
		{"set security ike gateway g version", "set security ike gateway g version\n                                   ^\nmissing argument."},
		{"set security ike gateway g no-nat-traversal x", "set security ike gateway g no-nat-traversal x\n                                            ^\nsyntax error."},
		{"set security ike gateway g no-nat-traversal version", "set security ike gateway g no-nat-traversal version\n                                                    ^\nmissing argument."},
		{"frob", "frob\n^\nunknown command."},
		{"set s", "set s\n    ^\n's' is ambiguous.\nPossible completions:\n> security             Security\n> services             Services\n> system               System"},
		{"show | c", "show | c\n       ^\n'c' is ambiguous.\nPossible completions:\n  compare              Compare configuration changes with prior version\n  count                Count occurrences"},
		{"commit c", "commit c\n       ^\n'c' is ambiguous.\nPossible completions:\n  check                Check correctness of syntax; do not apply changes\n  comment              Message to write to commit log\n  confirmed            Automatically rollback if not confirmed"},
		{"edit security ike proposal", "edit security ike proposal\n                           ^\nmissing argument."},
	}
	for _, c := range cases {
		h := newHarness(t)
		h.mustRun(t, "configure")
		_, errText := h.run(t, c.line)
		if errText != c.want {
			t.Errorf("%q:\ngot\n%s\nwant\n%s", c.line, errText, c.want)
		}
		if len(h.cfg.edits) != 0 {
			t.Errorf("%q reached the server: %q", c.line, h.cfg.edits)
		}
	}
}

func TestCommitVariants(t *testing.T) {
	cases := []struct {
		line string
		want *mgmtpb.CommitRequest
		out  string
	}{
		{"commit", &mgmtpb.CommitRequest{}, "commit complete\n"},
		{"commit check", &mgmtpb.CommitRequest{Check: true}, "configuration check succeeds\n"},
		{"commit confirmed", &mgmtpb.CommitRequest{ConfirmMinutes: 10},
			"commit confirmed will be automatically rolled back in 10 minutes unless confirmed\ncommit complete\n"},
		{"com conf 5", &mgmtpb.CommitRequest{ConfirmMinutes: 5},
			"commit confirmed will be automatically rolled back in 5 minutes unless confirmed\ncommit complete\n"},
		{`commit comment "new peer"`, &mgmtpb.CommitRequest{Comment: "new peer"}, "commit complete\n"},
		{"commit and-quit", &mgmtpb.CommitRequest{}, "commit complete\nExiting configuration mode\n"},
	}
	for _, c := range cases {
		h := newHarness(t)
		h.mustRun(t, "configure")
		if out := h.mustRun(t, c.line); out != c.out {
			t.Errorf("%q printed %q, want %q", c.line, out, c.out)
		}
		if len(h.cfg.commits) != 1 {
			t.Fatalf("%q: %d commits", c.line, len(h.cfg.commits))
		}
		assertProto(t, c.line, h.cfg.commits[0], c.want)
		if wantMode := !strings.Contains(c.line, "and-quit"); h.s.ConfigMode() != wantMode {
			t.Errorf("%q: config mode %v", c.line, h.s.ConfigMode())
		}
	}
}

func TestCommitFailureBlockIsPrintedAsSent(t *testing.T) {
	h := newHarness(t)
	block := "[edit security ike gateway gw1]\n  'ike-policy'\n    IKE policy none is not defined\nerror: configuration check-out failed"
	h.cfg.commitErr = status.Error(codes.FailedPrecondition, block)
	h.mustRun(t, "configure")
	if _, errText := h.run(t, "commit"); errText != block {
		t.Fatalf("got %q", errText)
	}
}

func TestPendingConfirmShowsInBanner(t *testing.T) {
	h := newHarness(t)
	h.mustRun(t, "configure")
	h.cfg.confirmLeft = 9*60 + 30
	want := "\n# commit confirmed will be rolled back in 10 minutes\n[edit]\n"
	if b := h.s.Banner(context.Background()); b != want {
		t.Fatalf("banner %q, want %q", b, want)
	}
}

func TestExitWithUncommittedChangesAsks(t *testing.T) {
	for _, c := range []struct {
		answer  string
		stayed  bool
		printed string
	}{
		{"no", true, "The configuration has been changed but not committed\n"},
		{"", false, "The configuration has been changed but not committed\nExiting configuration mode\n"},
		{"yes", false, "The configuration has been changed but not committed\nExiting configuration mode\n"},
	} {
		h := newHarness(t)
		var asked []string
		h.s.Ask = func(q string) (string, error) { asked = append(asked, q); return c.answer, nil }
		h.mustRun(t, "configure")
		h.mustRun(t, "set system host-name gw2")
		out := h.mustRun(t, "exit")
		if out != c.printed {
			t.Errorf("answer %q: printed %q, want %q", c.answer, out, c.printed)
		}
		if len(asked) != 1 || asked[0] != "Exit with uncommitted changes? [yes,no] (yes) " {
			t.Errorf("answer %q: asked %q", c.answer, asked)
		}
		if h.s.ConfigMode() != c.stayed {
			t.Errorf("answer %q: config mode %v", c.answer, h.s.ConfigMode())
		}
	}
}

func TestExitWithoutChangesDoesNotAsk(t *testing.T) {
	h := newHarness(t)
	h.s.Ask = func(q string) (string, error) { t.Fatalf("asked %q", q); return "", nil }
	h.mustRun(t, "configure")
	if out := h.mustRun(t, "quit"); out != "Exiting configuration mode\n" {
		t.Fatalf("printed %q", out)
	}
	if h.s.ConfigMode() || h.s.Prompt() != "root@gw1> " {
		t.Fatalf("still in configuration mode, prompt %q", h.s.Prompt())
	}
}

func TestConfigShowCompareRollbackRun(t *testing.T) {
	h := newHarness(t)
	h.mustRun(t, "configure")
	h.mustRun(t, "edit security ike")
	if out := h.mustRun(t, "show"); out != "proposal p1;\n" {
		t.Errorf("show printed %q", out)
	}
	h.mustRun(t, "show gateway gw1 | display set")
	h.mustRun(t, "show | compare")
	h.mustRun(t, "show | compare rollback 3")
	assertProto(t, "show", h.cfg.shows[0], &mgmtpb.ShowConfigRequest{Path: []string{"security", "ike"}})
	assertProto(t, "show | display set", h.cfg.shows[1], &mgmtpb.ShowConfigRequest{
		Path: []string{"security", "ike", "gateway", "gw1"}, Format: mgmtpb.ConfigFormat_SET})
	assertProto(t, "compare", h.cfg.compares[0], &mgmtpb.CompareRequest{Path: []string{"security", "ike"}})
	assertProto(t, "compare rollback 3", h.cfg.compares[1], &mgmtpb.CompareRequest{Rollback: 3, Path: []string{"security", "ike"}})

	if out := h.mustRun(t, "rollback 2"); out != "load complete\n" {
		t.Errorf("rollback printed %q", out)
	}
	h.mustRun(t, "rollback")
	if got := h.cfg.rollbacks; len(got) != 2 || got[0] != 2 || got[1] != 0 {
		t.Errorf("rollbacks %v", got)
	}

	if out := h.mustRun(t, "run sh sec ike sa | match DOWN"); out != "4 DOWN\n" {
		t.Errorf("run printed %q", out)
	}
	assertProto(t, "run", h.op.shows[0], ikeSA(0, 0, "", false))
}

func TestRunCommandsStopsAtFirstError(t *testing.T) {
	h := newHarness(t)
	var out strings.Builder
	err := h.s.RunCommands(context.Background(), `configure; set system host-name "a;b"; commit; set foo; commit`, &out)
	if err == nil || !strings.Contains(err.Error(), "syntax error.") {
		t.Fatalf("error %v", err)
	}
	if len(h.cfg.commits) != 1 || len(h.cfg.edits) != 1 || h.cfg.edits[0] != `set system host-name "a;b"` {
		t.Fatalf("commits %d edits %q", len(h.cfg.commits), h.cfg.edits)
	}
	if want := "Entering configuration mode\ncommit complete\n"; out.String() != want {
		t.Fatalf("printed %q", out.String())
	}
}
