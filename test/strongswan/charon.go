package strongswan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// Paths of Debian's strongSwan 5.9 (packages strongswan-charon,
// strongswan-swanctl, libcharon-extra-plugins, libstrongswan-standard-plugins).
const (
	charonPath = "/usr/lib/ipsec/charon"
	swanctlBin = "swanctl"
	pluginDir  = "/usr/lib/ipsec/plugins"
)

// Strongswan6Prefix is where ../shared/peers/strongswan6/install.sh puts
// strongSwan 6 (scripts/install-test-deps.sh runs it). Its pid file is
// fixed at run/charon.pid there, so each charon gets a private run
// directory bind-mounted over it, inside its own mount namespace.
const Strongswan6Prefix = "/opt/ipsecgw-peers/strongswan6"

var charon6Path = filepath.Join(Strongswan6Prefix, "libexec/ipsec/charon")

// Available6 reports whether strongSwan 6 is installed.
func Available6() error {
	if _, err := os.Stat(charon6Path); err != nil {
		return fmt.Errorf("%w: strongSwan 6: missing %s (scripts/install-test-deps.sh installs it from ../shared/peers/strongswan6)", ErrNotInstalled, charon6Path)
	}
	return nil
}

// Require6 is Require for strongSwan 6.
func Require6(t testing.TB) {
	t.Helper()
	Require(t)
	err := Available6()
	if err == nil {
		return
	}
	if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" {
		t.Fatalf("STRONGSWAN 6 TEST CANNOT RUN: %v", err)
	}
	t.Skipf("SKIPPED STRONGSWAN 6 TEST: %v", err)
}

// Bounds on waiting for charon.
const (
	startTimeout   = 10 * time.Second // until the vici socket answers
	stopTimeout    = 5 * time.Second  // SIGTERM to exit, before SIGKILL
	swanctlTimeout = 30 * time.Second // any one swanctl command
	// initiateTimeout is what swanctl waits for an initiation (it must cover
	// charon's first retransmissions: 4 s, 7.2 s, ...).
	initiateTimeout = 15 * time.Second
)

// ErrNotInstalled marks a missing strongSwan binary or plugin.
var ErrNotInstalled = errors.New("strongSwan is not installed")

// Available reports whether charon, swanctl and every plugin in Plugins are
// installed.
func Available() error {
	var missing []string
	if _, err := os.Stat(charonPath); err != nil {
		missing = append(missing, charonPath)
	}
	if _, err := exec.LookPath(swanctlBin); err != nil {
		missing = append(missing, swanctlBin)
	}
	for _, p := range strings.Fields(Plugins) {
		f := filepath.Join(pluginDir, "libstrongswan-"+p+".so")
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s (make deps installs strongswan-charon, strongswan-swanctl, libcharon-extra-plugins and libstrongswan-standard-plugins)",
			ErrNotInstalled, strings.Join(missing, ", "))
	}
	return nil
}

// Require skips a test that needs strongSwan when it is not installed, or
// fails it under IPSECGW_REQUIRE_ROOT=1, where `make test` has installed it
// and a skip would hide a test that never ran. It also requires root.
func Require(t testing.TB) {
	t.Helper()
	netns.RequireRoot(t)
	err := Available()
	if err == nil {
		return
	}
	if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" {
		t.Fatalf("STRONGSWAN TEST CANNOT RUN: %v", err)
	}
	t.Skipf("SKIPPED STRONGSWAN TEST: %v", err)
}

// Charon is one running charon daemon in a test namespace.
type Charon struct {
	t       testing.TB
	ns      string // short namespace name
	dir     string // strongswan.conf, swanctl.conf, credentials, logs
	sockDir string // holds only the vici socket
	socket  string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd.Wait returns
	waitErr error         // cmd.Wait's result; read only after exited is closed
	stop    sync.Once
}

// Start writes the configuration, starts charon in namespace ns, waits for
// its vici socket and loads the connections and secrets with swanctl. The
// test fails if any step does; charon is stopped when the test ends.
func Start(t testing.TB, n *netns.Net, ns string, cfg Config) *Charon {
	t.Helper()
	Require(t)
	if cfg.Strongswan6 {
		Require6(t)
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("strongswan: invalid Config for %s:\n%v", ns, err)
	}
	full := n.Name(ns)
	c := &Charon{t: t, ns: ns, dir: t.TempDir(), exited: make(chan struct{})}
	var err error
	if c.sockDir, err = os.MkdirTemp("", "igw-vici-"); err != nil {
		t.Fatalf("strongswan: %v", err)
	}
	// Cleanups run last-in first-out: this one after charon has stopped.
	t.Cleanup(func() { os.RemoveAll(c.sockDir) })
	c.socket = filepath.Join(c.sockDir, "charon.vici")
	if len(c.socket) > 100 {
		t.Fatalf("strongswan: vici socket path %s is too long for a Unix socket (set TMPDIR shorter)", c.socket)
	}
	// swanctl looks for credentials in these directories beside swanctl.conf.
	for _, d := range []string{"x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12"} {
		if err := os.Mkdir(filepath.Join(c.dir, d), 0o700); err != nil {
			t.Fatalf("strongswan: %v", err)
		}
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(c.dir, name), []byte(text), 0o600); err != nil {
			t.Fatalf("strongswan: %v", err)
		}
	}
	write("strongswan.conf", cfg.strongswanConf(c.socket, c.logPath()))
	write("swanctl.conf", cfg.swanctlConf())
	for name, data := range cfg.Files {
		if filepath.IsAbs(name) || strings.Contains(name, "..") {
			t.Fatalf("strongswan: Files path %q must be relative, inside the configuration directory", name)
		}
		write(name, string(data))
	}

	out, err := os.Create(filepath.Join(c.dir, "charon.out"))
	if err != nil {
		t.Fatalf("strongswan: %v", err)
	}
	defer out.Close()
	// Every step execs, so the process started is charon itself; the tmpfs
	// gives it a /run (and so a /var/run/charon.pid) of its own.
	script := `mount -t tmpfs -o mode=0755,size=4m tmpfs /run && { [ -L /var/run ] || mount -t tmpfs -o mode=0755,size=4m tmpfs /var/run; } && exec "$0"`
	args := []string{"netns", "exec", full, "unshare", "--mount", "--propagation", "private", "sh", "-c"}
	if cfg.Strongswan6 {
		run := filepath.Join(c.dir, "run")
		if err := os.Mkdir(run, 0o755); err != nil {
			t.Fatalf("strongswan: %v", err)
		}
		// $1 is the private run directory.
		script = `mount --bind "$1" ` + filepath.Join(Strongswan6Prefix, "run") + ` && ` + script
		args = append(args, script, charon6Path, run)
	} else {
		args = append(args, script, charonPath)
	}
	c.cmd = exec.Command("ip", args...)
	c.cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+c.confPath())
	c.cmd.Stdout, c.cmd.Stderr = out, out
	c.cmd.Dir = c.dir
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("strongswan: starting charon in %s: %v", ns, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(c.cleanup)

	if err := c.waitForSocket(); err != nil {
		t.Fatalf("strongswan: charon in %s: %v", ns, err) // cleanup logs charon's output
	}
	got, err := c.Swanctl("--load-all", "--noprompt", "--file", filepath.Join(c.dir, "swanctl.conf"))
	if err == nil {
		err = loadFailure(got)
	}
	if err != nil {
		t.Fatalf("strongswan: loading %s into charon in %s: %v\n%s", filepath.Join(c.dir, "swanctl.conf"), ns, err, got)
	}
	return c
}

// loadFailure finds what swanctl --load-all reports but does not signal in
// its exit status, such as a secret it ignored.
func loadFailure(out string) error {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "failed") || strings.Contains(l, "ignored") {
			return fmt.Errorf("swanctl: %s", strings.TrimSpace(l))
		}
	}
	return nil
}

func (c *Charon) confPath() string { return filepath.Join(c.dir, "strongswan.conf") }
func (c *Charon) logPath() string  { return filepath.Join(c.dir, "charon.log") }

// Dir is the directory of this charon's configuration; swanctl loads
// certificates and keys from its x509/, x509ca/, private/, ... directories.
func (c *Charon) Dir() string { return c.dir }

// PID is charon's process id.
func (c *Charon) PID() int { return c.cmd.Process.Pid }

// waitForSocket waits until charon accepts connections on its vici socket,
// or exits, or startTimeout passes.
func (c *Charon) waitForSocket() error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("charon exited before its vici socket appeared: %v", c.waitErr)
		default:
		}
		if conn, err := net.DialTimeout("unix", c.socket, time.Second); err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no vici socket at %s after %v", c.socket, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Swanctl runs swanctl against this charon with the given command and
// options (e.g. "--rekey", "--child", "net") and returns its combined output.
func (c *Charon) Swanctl(args ...string) (string, error) {
	return c.swanctl(swanctlTimeout, args...)
}

func (c *Charon) swanctl(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, swanctlBin, append(args, "--uri", "unix://"+c.socket)...)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+c.confPath())
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("swanctl %s: no answer within %v", strings.Join(args, " "), timeout)
	} else if err != nil {
		err = fmt.Errorf("swanctl %s: %w", strings.Join(args, " "), err)
	}
	return string(out), err
}

// Initiate starts the named CHILD SA (and its IKE SA, when there is none)
// and waits, bounded, until it is established or has failed.
func (c *Charon) Initiate(child string) error {
	secs := fmt.Sprint(int(initiateTimeout / time.Second))
	out, err := c.swanctl(initiateTimeout+5*time.Second, "--initiate", "--child", child, "--timeout", secs)
	if err == nil && !strings.Contains(out, "initiate completed successfully") {
		err = fmt.Errorf("swanctl --initiate --child %s: not completed", child)
	}
	if err != nil {
		return fmt.Errorf("strongswan: %w\n%s", err, out)
	}
	return nil
}

// Terminate deletes the named IKE SA (and its CHILD SAs) and waits, bounded,
// for the peer's answer.
func (c *Charon) Terminate(ike string) error {
	secs := fmt.Sprint(int(initiateTimeout / time.Second))
	out, err := c.swanctl(initiateTimeout+5*time.Second, "--terminate", "--ike", ike, "--timeout", secs)
	if err == nil && !strings.Contains(out, "terminate completed successfully") {
		err = fmt.Errorf("swanctl --terminate --ike %s: not completed", ike)
	}
	if err != nil {
		return fmt.Errorf("strongswan: %w\n%s", err, out)
	}
	return nil
}

// ListSAs returns charon's IKE SAs and their CHILD SAs. It waits for an
// IKE SA that is busy in an exchange (a MOBIKE address update after a link
// change, a rekey) rather than passing --noblock: with --noblock, charon
// leaves a busy SA out of the list, and an established tunnel looked gone.
func (c *Charon) ListSAs() ([]IKESA, error) {
	out, err := c.Swanctl("--list-sas", "--pretty")
	if err != nil {
		return nil, fmt.Errorf("strongswan: %w\n%s", err, out)
	}
	sas, err := parseSAs(out)
	if err != nil {
		return nil, fmt.Errorf("strongswan: parsing swanctl --list-sas --pretty: %w\n%s", err, out)
	}
	return sas, nil
}

// Log returns charon's log so far.
func (c *Charon) Log() string {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return fmt.Sprintf("(no charon log: %v)", err)
	}
	return string(b)
}

// Stop stops charon: SIGTERM, up to stopTimeout for it to exit, then
// SIGKILL. It is safe to call more than once; the test's cleanup calls it.
func (c *Charon) Stop() {
	c.stop.Do(func() {
		select {
		case <-c.exited:
			return
		default:
		}
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
			return
		case <-time.After(stopTimeout):
		}
		c.t.Logf("strongswan: charon in %s ignored SIGTERM for %v; killing it", c.ns, stopTimeout)
		_ = c.cmd.Process.Kill()
		select {
		case <-c.exited:
		case <-time.After(stopTimeout):
			c.t.Errorf("strongswan: charon (pid %d) in %s survived SIGKILL for %v", c.cmd.Process.Pid, c.ns, stopTimeout)
		}
	})
}

func (c *Charon) cleanup() {
	c.Stop()
	if c.t.Failed() {
		c.t.Logf("strongswan: charon in %s:\n%s", c.ns, c.failureReport())
	}
}

// failureReport is the end of charon's output and log, for a failed test.
func (c *Charon) failureReport() string {
	const keep = 150
	var b strings.Builder
	if out, err := os.ReadFile(filepath.Join(c.dir, "charon.out")); err == nil && len(out) > 0 {
		fmt.Fprintf(&b, "--- charon stdout/stderr ---\n%s", tail(string(out), keep))
	}
	fmt.Fprintf(&b, "--- charon log (last %d lines) ---\n%s", keep, tail(c.Log(), keep))
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
