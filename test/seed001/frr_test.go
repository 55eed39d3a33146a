package seed001

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/test/netns"
)

// FRR (Debian's frr package, scripts/install-test-deps.sh) plays the
// routers' OSPF: zebra and ospfd per namespace, each router with a private
// directory for its configuration, PID files, zserv and vty sockets, owned
// by the frr user the daemons run as (they refuse root without the frrvty
// group). They are stopped by PID.

const frrDir = "/usr/lib/frr"

// requireFRR skips the test when FRR is not installed, or fails it under
// IPSECGW_REQUIRE_ROOT=1 (make test as root installs it first).
func requireFRR(t *testing.T) {
	t.Helper()
	_, errD := os.Stat(filepath.Join(frrDir, "ospfd"))
	_, errU := user.Lookup("frr")
	if errD == nil && errU == nil {
		return
	}
	msg := "FRR is not installed (zebra, ospfd, user frr): run scripts/install-test-deps.sh as root"
	if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
}

// frr is one router's zebra and ospfd.
type frr struct {
	t     *testing.T
	name  string
	dir   string
	procs []*exec.Cmd // zebra, ospfd
}

// ospfConfig writes ospfd's configuration from the router's `protocols
// ospf` stanza: each area interface becomes the networks of its Linux
// interface's addresses (as they are in the namespace, so an unnumbered
// inside interface speaks from the loopback address it borrows), and every
// interface but the loopback is point-to-point (SONET links, the IPsec
// tunnel) with 1 s hellos so the test converges in seconds.
func ospfConfig(t *testing.T, n *netns.Net, router string, cfg *schema.Config, tree *config.Tree, logFile string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "hostname %s\nlog file %s\n!\n", router, logFile)
	var networks []string
	seen := map[string]bool{}
	ospf := tree.Root.Child("protocols").Child("ospf")
	if ospf == nil {
		t.Fatalf("%s: no protocols ospf", router)
	}
	for _, area := range ospf.Entries("area") {
		for _, ifs := range area.Entries("interface") {
			dev := linuxName(t, cfg, ifs.Key)
			for _, p := range addresses(t, n, router, dev) {
				// An unnumbered interface shares its network with lo.
				if nw := fmt.Sprintf(" network %s area %s\n", p.Masked(), area.Key); !seen[nw] {
					seen[nw] = true
					networks = append(networks, nw)
				}
			}
			if dev != "lo" {
				fmt.Fprintf(&b, "interface %s\n ip ospf network point-to-point\n ip ospf hello-interval 1\n ip ospf dead-interval 4\n!\n", dev)
			}
		}
	}
	fmt.Fprintf(&b, "router ospf\n ospf router-id %s\n%s!\n", cfg.RouterID, strings.Join(networks, ""))
	return b.String()
}

// linuxName is the Linux interface of a configured unit (so-0/0/0.0).
func linuxName(t *testing.T, cfg *schema.Config, unit string) string {
	t.Helper()
	for _, ifc := range cfg.Interfaces {
		for _, u := range ifc.Units {
			if u.Name() != unit {
				continue
			}
			switch ifc.Kind {
			case schema.Service, schema.Tunnel:
				return daemon.TunnelName(u)
			}
			return ifc.HostName
		}
	}
	t.Fatalf("unit %s is not configured", unit)
	return ""
}

// addresses lists an interface's IPv4 addresses in the namespace, less
// 127/8.
func addresses(t *testing.T, n *netns.Net, ns, dev string) []netip.Prefix {
	t.Helper()
	out := n.Exec(ns, "ip", "-4", "-o", "addr", "show", "dev", dev)
	var ps []netip.Prefix
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] != "inet" {
				continue
			}
			if p, err := netip.ParsePrefix(f[i+1]); err == nil && !p.Addr().IsLoopback() {
				ps = append(ps, p)
			}
		}
	}
	if len(ps) == 0 {
		t.Fatalf("%s: %s has no IPv4 address for OSPF:\n%s", ns, dev, out)
	}
	return ps
}

// startFRR runs zebra, then ospfd, in the router's namespace.
func startFRR(t *testing.T, n *netns.Net, router string, cfg *schema.Config, tree *config.Tree) *frr {
	t.Helper()
	dir, err := os.MkdirTemp("", "seed001-frr-"+router+"-")
	if err != nil {
		t.Fatal(err)
	}
	f := &frr{t: t, name: router, dir: dir}
	t.Cleanup(f.stop)
	u, err := user.Lookup("frr")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	files := map[string]string{
		"zebra.conf": fmt.Sprintf("hostname %s\nlog file %s\n", router, filepath.Join(dir, "zebra.log")),
		"ospfd.conf": ospfConfig(t, n, router, cfg, tree, filepath.Join(dir, "ospfd.log")),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{dir, filepath.Join(dir, "zebra.conf"), filepath.Join(dir, "ospfd.conf")} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(dir, 0o755)
	zserv := filepath.Join(dir, "zserv.api")
	for _, d := range []string{"zebra", "ospfd"} {
		out, err := os.Create(filepath.Join(dir, d+".out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", "netns", "exec", n.Name(router), filepath.Join(frrDir, d),
			"-f", filepath.Join(dir, d+".conf"), "-i", filepath.Join(dir, d+".pid"), "-z", zserv,
			"--vty_socket", dir, "-P", "0")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out.Close()
		f.procs = append(f.procs, cmd)
		if d == "zebra" {
			// ospfd connects to zebra's socket once, at start.
			if !poll(10*time.Second, func() bool { _, err := os.Stat(zserv); return err == nil }) {
				t.Fatalf("%s: zebra did not open %s:\n%s", router, zserv, f.logs())
			}
		}
	}
	return f
}

// vtysh runs one command against the router's FRR daemons.
func (f *frr) vtysh(command string) string {
	out, _ := netns.Command("vtysh", "--vty_socket", f.dir, "-c", command)
	return out
}

// logs is the daemons' output and logs, for a failure message.
func (f *frr) logs() string {
	var b strings.Builder
	for _, name := range []string{"ospfd.conf", "zebra.out", "ospfd.out", "ospfd.log"} {
		text, _ := os.ReadFile(filepath.Join(f.dir, name))
		fmt.Fprintf(&b, "--- %s %s\n%s", f.name, name, text)
	}
	return b.String()
}

// stop ends ospfd, then zebra, by PID: SIGTERM, then SIGKILL after 5 s.
func (f *frr) stop() {
	for i := len(f.procs) - 1; i >= 0; i-- {
		stopProcess(f.procs[i], 5*time.Second)
	}
	os.RemoveAll(f.dir)
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
