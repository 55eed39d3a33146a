package routing

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/frr"
	"ipsecgw/test/netns"
)

// gateway is one ipsecgw daemon in a namespace, with its state directory,
// API socket and FRR directory.
type gateway struct {
	t        *testing.T
	net      *netns.Net
	name     string // its namespace
	stateDir string
	frrDir   string
	cmd      *exec.Cmd
}

// requireFRR skips the test when FRR is not installed, or fails it under
// IPSECGW_REQUIRE_ROOT=1 (make test as root installs it first).
func requireFRR(t *testing.T) {
	t.Helper()
	var missing []string
	for _, d := range []string{"zebra", "bgpd", "ospfd", "bfdd", "frr-reload.py"} {
		if _, err := os.Stat(filepath.Join(frr.DaemonDir, d)); err != nil {
			missing = append(missing, d)
		}
	}
	if _, err := user.Lookup("frr"); err != nil {
		missing = append(missing, "user frr")
	}
	if len(missing) == 0 {
		return
	}
	msg := "FRR is not installed (" + strings.Join(missing, ", ") + "): run scripts/install-test-deps.sh as root"
	if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
}

// startGateway runs ipsecgw in namespace name with configuration text.
func startGateway(t *testing.T, n *netns.Net, name, config string) *gateway {
	t.Helper()
	g := &gateway{t: t, net: n, name: name, stateDir: t.TempDir()}
	dir, err := os.MkdirTemp("", "routing-frr-"+name+"-") // reachable by the frr user
	if err != nil {
		t.Fatal(err)
	}
	g.frrDir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	file := filepath.Join(g.stateDir, "ipsecgw.conf")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(g.stateDir, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command("ip", "netns", "exec", n.Name(name), binary, "daemon", "--config", file,
		"--state-dir", g.stateDir, "--socket", filepath.Join(g.stateDir, "api.sock"), "--frr-dir", g.frrDir, "--debug",
		// In the gateway's own namespace: a fixed port collides with nothing.
		"--metrics-listen", "127.0.0.1:9100")
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	t.Cleanup(g.stop)
	if !poll(20*time.Second, func() bool { return strings.Contains(g.vtysh("show running-config"), "router bgp") }) {
		t.Fatalf("%s did not come up with its BGP in FRR:\n%s", name, g.logs())
	}
	return g
}

// stop ends ipsecgw by its PID and checks it stopped the FRR it started.
func (g *gateway) stop() {
	if g.cmd.Process == nil || g.cmd.ProcessState != nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			g.t.Errorf("%s: ipsecgw exited with %v:\n%s", g.name, err, g.logs())
		}
	case <-time.After(15 * time.Second):
		g.cmd.Process.Kill()
		<-done
		g.t.Errorf("%s: ipsecgw did not stop within 15 s of SIGTERM", g.name)
	}
	if running := g.frrRunning(); running != "" {
		g.t.Errorf("%s: FRR daemons still run after ipsecgw stopped: %s", g.name, running)
	}
}

// frrRunning lists the FRR daemons of the gateway's directory that run
// (their PID files name live processes of that directory).
func (g *gateway) frrRunning() string {
	var out []string
	files, _ := filepath.Glob(filepath.Join(g.frrDir, "*.pid"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var pid int
		fmt.Sscan(string(b), &pid)
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && pid > 1 && strings.Contains(string(cmdline), g.frrDir) {
			out = append(out, fmt.Sprintf("%s pid %d", strings.TrimSuffix(filepath.Base(f), ".pid"), pid))
		}
	}
	return strings.Join(out, ", ")
}

// vtysh runs one command against the gateway's FRR.
func (g *gateway) vtysh(command string) string {
	out, _ := netns.Command("vtysh", "--vty_socket", g.frrDir, "-c", command)
	return out
}

// cli runs operational commands through the CLI and the gateway's API.
func (g *gateway) cli(command string) (string, error) {
	return netns.Command(binary, "cli", "--socket", filepath.Join(g.stateDir, "api.sock"), "-c", command)
}

// metrics scrapes the gateway's Prometheus metrics.
func (g *gateway) metrics() string {
	out, _ := g.net.Try(g.name, "curl", "-s", "--max-time", "10", "http://127.0.0.1:9100/metrics")
	return out
}

// logs is the daemon's log and FRR's output, for a failure message.
func (g *gateway) logs() string {
	var b strings.Builder
	log, _ := os.ReadFile(filepath.Join(g.stateDir, "daemon.log"))
	fmt.Fprintf(&b, "--- %s ipsecgw\n%s", g.name, tail(string(log), 60))
	files, _ := filepath.Glob(filepath.Join(g.frrDir, "*.out"))
	for _, f := range files {
		text, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "--- %s %s\n%s", g.name, filepath.Base(f), tail(string(text), 20))
	}
	fmt.Fprintf(&b, "--- %s show bgp summary\n%s", g.name, g.vtysh("show bgp summary"))
	return b.String()
}

// poll checks cond every 100 ms until it holds (true) or the time is up.
func poll(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
