package seed001

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"testing"

	"ipsecgw/frr"
	"ipsecgw/test/netns"
)

// FRR (Debian's frr and frr-pythontools, scripts/install-test-deps.sh)
// runs the routers' OSPF, started and configured by each router's ipsecgw
// from its own `protocols ospf`: nothing here writes an FRR file. Each
// ipsecgw gets a private FRR directory (--frr-dir) that the test reads the
// daemons' output from when it fails.

// requireFRR skips the test when FRR is not installed, or fails it under
// IPSECGW_REQUIRE_ROOT=1 (make test as root installs it first).
func requireFRR(t *testing.T) {
	t.Helper()
	_, errD := os.Stat(filepath.Join(frr.DaemonDir, "ospfd"))
	_, errR := os.Stat(filepath.Join(frr.DaemonDir, "frr-reload.py"))
	_, errU := user.Lookup("frr")
	if errD == nil && errR == nil && errU == nil {
		return
	}
	msg := "FRR is not installed (zebra, ospfd, frr-reload.py, user frr): run scripts/install-test-deps.sh as root"
	if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
}

// frrDir makes a router's FRR directory: under /tmp, which the frr user
// the daemons run as can reach.
func frrDir(t *testing.T, router string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "seed001-frr-"+router+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// vtysh runs one command against a router's FRR daemons.
func (r *router) vtysh(command string) string {
	out, _ := netns.Command("vtysh", "--vty_socket", r.frrDir, "-c", command)
	return out
}

// frrLogs is the FRR daemons' output, for a failure message.
func (r *router) frrLogs() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(r.frrDir, "*.out"))
	for _, f := range files {
		text, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "--- %s %s\n%s", r.name, filepath.Base(f), tail(string(text), 20))
	}
	fmt.Fprintf(&b, "--- %s show running-config\n%s", r.name, r.vtysh("show running-config"))
	return b.String()
}

// stopProcess ends a process this test started and waits for it.
func stopProcess(cmd *exec.Cmd, grace time.Duration) error {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("pid %d did not stop in %v; killed", cmd.Process.Pid, grace)
	}
}

// frrStopped reports an FRR daemon still running from a router's
// directory (its PID file names a live process) after ipsecgw stopped.
func frrStopped(r *router) error {
	files, _ := filepath.Glob(filepath.Join(r.frrDir, "*.pid"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var pid int
		fmt.Sscan(string(b), &pid)
		if pid > 1 && syscall.Kill(pid, 0) == nil {
			if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(stat), r.frrDir) {
				return fmt.Errorf("%s: %s (pid %d) still runs after ipsecgw stopped", r.name, filepath.Base(f), pid)
			}
		}
	}
	return nil
}
