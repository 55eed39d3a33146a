package termtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/daemon"
	"ipsecgw/mgmt"
	"ipsecgw/netio"
)

// binary is the ipsecgw command TestMain builds.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ipsecgw-termtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	binary = filepath.Join(dir, "ipsecgw")
	build := exec.Command(goTool, "build", "-o", binary, "ipsecgw/cmd/ipsecgw")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ipsecgw/cmd/ipsecgw: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// baseConfig is what the daemon starts with: the interfaces, no VPN.
const baseConfig = `set interfaces eth1 unit 0 family inet address 192.0.2.1/24
set interfaces st0 unit 1 family inet address 198.51.100.1/32
`

// startDaemon runs a gateway in memory on a fake clock, with its API on a
// unix socket, and returns it and the socket.
func startDaemon(t *testing.T, clk clock.Clock) (*daemon.Daemon, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "ipsecgw.conf")
	if err := os.WriteFile(file, []byte(baseConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := daemon.NewMemHost(netio.NewMemNetwork(), []string{"eth1"}, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.Start(daemon.Options{ConfigFile: file, StateDir: dir, Host: h, Clock: clk,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "run", "api.sock")
	l, err := mgmt.Listen(sock)
	if err != nil {
		d.Stop()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- mgmt.NewServer(d, slog.New(slog.DiscardHandler), "test").ServeListener(ctx, l, sock) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Error("the API server did not stop")
		}
		d.Stop()
	})
	return d, sock
}

// session is the CLI as the user sees it: the prompt, and the banner that
// configuration mode prints before it ("\n[edit]\n"; empty in operational
// mode).
type session struct {
	*screen
	t      *testing.T
	host   string
	prompt string
	banner string
}

const wait = 10 * time.Second

func (c *session) operational() { c.prompt, c.banner = "root@"+c.host+"> ", "" }

// configuration sets the prompt and the banner of configuration mode at
// level ("[edit]", "[edit security ike]"), with the pending commit
// confirmed warning if any.
func (c *session) configuration(level, warning string) {
	c.prompt, c.banner = "root@"+c.host+"# ", "\n"+warning+level+"\n"
}

// do types line and Enter, and checks that the screen then shows exactly
// the echoed line, out, the banner and the next prompt.
func (c *session) do(line, out string) {
	c.t.Helper()
	c.send(line + "\r")
	got := c.expect(c.banner+c.prompt, wait)
	if want := line + "\n" + out + c.banner + c.prompt; got != want {
		c.t.Fatalf("after %q the screen shows\n%s\nwant\n%s\n%s", line, got, want, c.transcript())
	}
}

// show types line and Enter, and returns what it printed before the
// banner and the next prompt.
func (c *session) show(line string) string {
	c.t.Helper()
	c.send(line + "\r")
	got := c.expect(c.banner+c.prompt, wait)
	out, ok := strings.CutPrefix(got, line+"\n")
	if !ok {
		c.t.Fatalf("%q was not echoed as typed:\n%s", line, c.transcript())
	}
	return strings.TrimSuffix(out, c.banner+c.prompt)
}

func vpnNames(d *daemon.Daemon) []string {
	var names []string
	for _, v := range d.Config().IPsec.VPNs {
		names = append(names, v.Name)
	}
	return names
}

func committed(d *daemon.Daemon) string { return config.FormatSet(d.Store().Committed().Root) }
func candidate(d *daemon.Daemon) string { return config.FormatSet(d.Store().Candidate().Root) }

// helpLine is one line of "Possible completions:" for a statement with a
// body, its help text taken from the grammar.
func helpLine(t *testing.T, path ...string) string {
	t.Helper()
	n := config.Root
	for _, p := range path {
		if n = n.Child(p); n == nil {
			t.Fatalf("no %q in the grammar", path)
		}
	}
	return fmt.Sprintf("> %-20s %s\n", n.Name, n.Help)
}

// topIKE, editIKE and topIPsec add an IKEv2 VPN; editIKE is typed at
// [edit security ike], so its paths are relative to that level.
var (
	topIKE = []string{
		"set security ike proposal p authentication-method pre-shared-keys",
		"set security ike proposal p dh-group group19",
		"set security ike proposal p authentication-algorithm sha-256",
		"set security ike proposal p encryption-algorithm aes-256-cbc",
		"set security ike policy pol proposals p",
		`set security ike policy pol pre-shared-key ascii-text "secret123"`,
	}
	editIKE = []string{
		"set gateway gw ike-policy pol",
		"set gateway gw address 192.0.2.2",
		"set gateway gw external-interface eth1",
		"set gateway gw version v2-only",
	}
	topIPsec = []string{
		"set security ipsec proposal ip protocol esp",
		"set security ipsec proposal ip encryption-algorithm aes-256-gcm",
		"set security ipsec policy ipol proposals ip",
		"set security ipsec vpn v bind-interface st0.1",
		"set security ipsec vpn v ike gateway gw",
		"set security ipsec vpn v ike ipsec-policy ipol",
		"set security ipsec vpn v establish-tunnels responder-only",
	}
)

// TestConfigureCommitRollbackInATerminal is a user at a terminal: adds a
// VPN in configuration mode, compares, checks and commits it, uses Tab and
// "?", rolls back, and lets a commit confirmed expire.
func TestConfigureCommitRollbackInATerminal(t *testing.T) {
	fake := clock.NewFake(time.Now())
	d, sock := startDaemon(t, fake)
	base := committed(d)
	if len(vpnNames(d)) != 0 || !strings.Contains(base, "set interfaces eth1 unit 0 family inet address 192.0.2.1/24") {
		t.Fatalf("the daemon did not start from the base configuration:\n%s", base)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "ipsecgw" // what the cli falls back to
	}
	c := &session{screen: startCLI(t, binary, sock), t: t, host: host}
	c.operational()
	c.expect(c.prompt, wait)

	c.configuration("[edit]", "")
	c.do("configure", "Entering configuration mode\n")

	// The VPN, part of it relative to [edit security ike].
	for _, l := range topIKE {
		c.do(l, "")
	}
	c.configuration("[edit security ike]", "")
	c.do("edit security ike", "")
	for _, l := range editIKE {
		c.do(l, "")
	}
	c.configuration("[edit]", "")
	c.do("top", "")
	for _, l := range topIPsec {
		c.do(l, "")
	}
	if committed(d) != base || len(vpnNames(d)) != 0 {
		t.Fatalf("set changed the running configuration:\n%s", committed(d))
	}
	if !strings.Contains(candidate(d), "set security ike gateway gw address 192.0.2.2\n") {
		t.Fatalf("the relative set under [edit security ike] is not in the candidate:\n%s", candidate(d))
	}

	cmp := c.show("show | compare")
	for _, want := range []string{
		"[edit]\n+   security {\n+       ike {\n+           proposal p {\n+               authentication-method pre-shared-keys;\n",
		"+           gateway gw {\n+               ike-policy pol;\n+               address 192.0.2.2;\n+               external-interface eth1;\n+               version v2-only;\n+           }\n",
		"+           vpn v {\n+               bind-interface st0.1;\n",
		"+               establish-tunnels responder-only;\n",
	} {
		if !strings.Contains(cmp, want) {
			t.Errorf("show | compare lacks\n%s\nin\n%s", want, cmp)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(cmp, "\n"), "\n") {
		if !strings.HasPrefix(l, "[edit") && !strings.HasPrefix(l, "+") {
			t.Errorf("show | compare of additions only has line %q", l)
		}
	}
	if strings.Contains(cmp, "secret123") || !strings.Contains(cmp, "## SECRET-DATA") {
		t.Errorf("show | compare does not hide the pre-shared key:\n%s", cmp)
	}

	c.do("commit check", "configuration check succeeds\n")
	if committed(d) != base || len(vpnNames(d)) != 0 {
		t.Fatalf("commit check changed the running configuration:\n%s", committed(d))
	}
	c.do("commit", "commit complete\n")
	withVPN := committed(d)
	if v := d.Config().IPsec.VPNs; len(v) != 1 || v[0].Name != "v" || v[0].IKE == nil ||
		v[0].IKE.Gateway.Addresses[0] != "192.0.2.2" || v[0].IKE.Gateway.Version != 2 || v[0].EstablishTunnels != "responder-only" {
		t.Fatalf("the daemon does not run the committed VPN: %v\n%s", vpnNames(d), withVPN)
	}
	c.do("show | compare", "")

	// Tab completes "secu"; "?" then shows the line the editor holds.
	completions := "Possible completions:\n  <[Enter]>            Execute this command\n" +
		"+ apply-groups         Groups from which to inherit configuration data\n" +
		"+ apply-groups-except  Don't inherit configuration data from these groups\n" +
		helpLine(t, "security", "flow") + helpLine(t, "security", "ike") + helpLine(t, "security", "ipsec") +
		helpLine(t, "security", "key-manager") +
		helpLine(t, "security", "pki") + helpLine(t, "security", "policies") + helpLine(t, "security", "zones")
	if !strings.Contains(completions, "> ike                  IKE configuration\n> ipsec                IPsec configuration\n") {
		t.Fatalf("the grammar's help changed:\n%s", completions)
	}
	c.send("set secu\t")
	c.expect("set security ", wait)
	c.send("?")
	c.expect(c.prompt+"set security ?\n"+completions+c.prompt+"set security ", wait)
	c.send("\x15") // Ctrl-U: forget the line
	c.send("set security ?")
	c.expect(c.prompt+"set security ?\n"+completions+c.prompt+"set security ", wait)
	c.send("\x15")
	// Tab on an ambiguous word lists the candidates.
	c.send("set security i\t")
	c.expect(c.prompt+"set security i\nPossible completions:\n"+helpLine(t, "security", "ike")+helpLine(t, "security", "ipsec")+c.prompt+"set security i", wait)
	c.send("\x15\r")
	// The line is empty again: Enter runs nothing. (The screen still holds
	// the erased text, which only escape sequences blanked.)
	if got := c.expect(c.banner+c.prompt, wait); strings.Contains(got, "error") || strings.Contains(got, "Possible") {
		t.Fatalf("Ctrl-U did not clear the line:\n%s", c.transcript())
	}

	// A line wider than 80 columns stays on one line of the 200-column
	// terminal, and the caret points at the bad word.
	long := "set security ike proposal a-proposal-name-long-enough-to-pass-eighty-columns frobnicate"
	c.do(long, strings.Repeat(" ", len(c.prompt)+strings.Index(long, "frobnicate"))+"^\nsyntax error.\n")

	// rollback 1 is the base configuration again: everything shows as "-".
	c.do("rollback 1", "load complete\n")
	if candidate(d) != base || committed(d) != withVPN {
		t.Fatalf("rollback 1 did not load the base configuration into the candidate only:\n%s", candidate(d))
	}
	cmp = c.show("show | compare")
	if !strings.HasPrefix(cmp, "[edit]\n-   security {\n-       ike {\n") || !strings.Contains(cmp, "-               address 192.0.2.2;\n") ||
		!strings.Contains(cmp, "-           vpn v {\n") || strings.Contains(cmp, "\n+") {
		t.Errorf("show | compare after rollback 1:\n%s", cmp)
	}
	c.do("commit", "commit complete\n")
	if committed(d) != base || len(vpnNames(d)) != 0 {
		t.Fatalf("the rollback was not committed: %v\n%s", vpnNames(d), committed(d))
	}

	// commit confirmed 1 brings the VPN back (rollback 1 again) for one
	// minute of the daemon's clock.
	c.do("rollback 1", "load complete\n")
	c.configuration("[edit]", "# commit confirmed will be rolled back in 1 minutes\n")
	c.do("commit confirmed 1", "commit confirmed will be automatically rolled back in 1 minutes unless confirmed\ncommit complete\n")
	if committed(d) != withVPN || len(vpnNames(d)) != 1 {
		t.Fatalf("commit confirmed did not apply the VPN: %v\n%s", vpnNames(d), committed(d))
	}
	if _, pending := d.Store().PendingConfirm(); !pending {
		t.Fatal("no commit confirmed pending in the store")
	}
	c.do("status", "The candidate configuration is the committed configuration\ncommit confirmed will be rolled back in 1 minutes unless confirmed\n")
	if out := c.show("run show configuration security ipsec"); !strings.Contains(out, "vpn v {\n    bind-interface st0.1;\n") {
		t.Fatalf("run show configuration security ipsec before the deadline:\n%s", out)
	}

	fake.Advance(61 * time.Second)
	if committed(d) != base || candidate(d) != base || len(vpnNames(d)) != 0 {
		t.Fatalf("commit confirmed was not rolled back: %v\n%s", vpnNames(d), committed(d))
	}
	if _, pending := d.Store().PendingConfirm(); pending {
		t.Fatal("commit confirmed still pending after its deadline")
	}
	if r := d.Store().Rollbacks(); len(r) < 2 || r[0].Comment != "commit confirmed rollback" {
		t.Fatalf("rollbacks after the expiry: %+v", r)
	}
	// The warning was printed before the prompt now on the screen; the
	// next banner has none.
	c.configuration("[edit]", "")
	c.do("run show configuration security ipsec", "")
	c.do("status", "The candidate configuration is the committed configuration\n")
	c.do("show | compare", "")

	c.operational()
	c.do("exit", "Exiting configuration mode\n")
	c.send("exit\r")
	c.expect("exit\n", wait)
	if code := c.waitExit(wait); code != 0 {
		t.Fatalf("the cli exited with status %d\n%s", code, c.transcript())
	}
	if rest := c.text()[c.mark:]; strings.TrimSpace(rest) != "" {
		t.Errorf("the cli printed %q after exit", rest)
	}
}
