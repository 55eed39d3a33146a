package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/test/netns"
)

// topology is h1 — gw1 — gw2 — h2: two hosts, each behind a gateway, the
// gateways joined by an outer link. Addresses (test ranges only):
//
//	h1 198.18.1.2/24 2001:db8:1::2/64   gw1 198.18.1.1 2001:db8:1::1
//	gw1 outer 192.0.2.1/24 2001:db8:ff::1/64 ↔ gw2 outer 192.0.2.2 2001:db8:ff::2
//	h2 198.18.2.2/24 2001:db8:2::2/64   gw2 198.18.2.1 2001:db8:2::1
type topology struct {
	t   *testing.T
	net *netns.Net
	gws [2]*gateway
	// negotiated: the SAs come from IKE, so the tunnel exists before its
	// SAs do.
	negotiated bool
	// daemonArgs are added to each daemon's command line.
	daemonArgs []string
}

type gateway struct {
	name     string
	stateDir string
	cmd      *exec.Cmd
	log      *os.File
}

func newTopology(t *testing.T) *topology {
	t.Helper()
	n := netns.New(t, "h1", "gw1", "gw2", "h2")
	n.Link("h1", "h1-gw1", "198.18.1.2/24", "gw1", "gw1-h1", "")
	n.Link("gw1", "gw1-gw2", "", "gw2", "gw2-gw1", "")
	n.Link("gw2", "gw2-h2", "", "h2", "h2-gw2", "198.18.2.2/24")
	n.Exec("h1", "ip", "-6", "addr", "add", "2001:db8:1::2/64", "dev", "h1-gw1", "nodad")
	n.Exec("h2", "ip", "-6", "addr", "add", "2001:db8:2::2/64", "dev", "h2-gw2", "nodad")
	n.Exec("h1", "ip", "route", "add", "default", "via", "198.18.1.1")
	n.Exec("h2", "ip", "route", "add", "default", "via", "198.18.2.1")
	n.Exec("h1", "ip", "-6", "route", "add", "default", "via", "2001:db8:1::1")
	n.Exec("h2", "ip", "-6", "route", "add", "default", "via", "2001:db8:2::1")
	for _, gw := range []string{"gw1", "gw2"} {
		n.Exec(gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		n.Exec(gw, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
	}
	return &topology{t: t, net: n}
}

// vpn describes the manual SA both gateways use.
type vpn struct {
	encryption, encKey string // algorithm, hexadecimal key
	auth, authKey      string // "" for AEAD
	outer6             bool   // outer IPv6 instead of IPv4
	udpPort            int    // 0: raw ESP
	tunnelMTU          int
	dataPlane          string // security ipsec data-plane; "" for the default
	// ringVersion forces the packet rings' TPACKET version ("v2", "v3";
	// IPSECGW_PACKET_RING_VERSION in the daemons' environment).
	ringVersion string
}

// config returns gateway i's (0 or 1) configuration in set format.
func (v vpn) config(i int) string {
	me, peer := i+1, 2-i
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set system host-name gw%d", me)
	w("set interfaces gw%d-h%d unit 0 family inet address 198.18.%d.1/24", me, me, me)
	w("set interfaces gw%d-h%d unit 0 family inet6 address 2001:db8:%d::1/64", me, me, me)
	outer := fmt.Sprintf("gw%d-gw%d", me, peer)
	w("set interfaces %s unit 0 family inet address 192.0.2.%d/24", outer, me)
	w("set interfaces %s unit 0 family inet6 address 2001:db8:ff::%d/64", outer, me)
	w("set interfaces st0 unit 1 family inet")
	w("set interfaces st0 unit 1 family inet6")
	w("set routing-options static route 198.18.%d.0/24 next-hop st0.1", peer)
	w("set routing-options static route 2001:db8:%d::/64 next-hop st0.1", peer)
	gwAddr := fmt.Sprintf("192.0.2.%d", peer)
	if v.outer6 {
		gwAddr = fmt.Sprintf("2001:db8:ff::%d", peer)
	}
	p := "set security ipsec vpn manual-vpn "
	w(p + "bind-interface st0.1")
	w(p+"manual gateway %s", gwAddr)
	w(p+"manual external-interface %s", outer)
	w(p + "manual protocol esp")
	w(p + "manual spi 4660")
	w(p+"manual encryption algorithm %s", v.encryption)
	w(p+"manual encryption key hexadecimal %s", v.encKey)
	if v.auth != "" {
		w(p+"manual authentication algorithm %s", v.auth)
		w(p+"manual authentication key hexadecimal %s", v.authKey)
	}
	if v.udpPort != 0 {
		w(p+"udp-encapsulate dest-port %d", v.udpPort)
	}
	if v.tunnelMTU != 0 {
		w(p+"tunnel-mtu %d", v.tunnelMTU)
	}
	if v.dataPlane != "" {
		w("set security ipsec data-plane %s", v.dataPlane)
	}
	return b.String()
}

// start runs both daemons with the VPN and waits for their st0.1.
func (tp *topology) start(v vpn) {
	tp.t.Helper()
	tp.startConfigs([2]string{v.config(0), v.config(1)})
}

// startConfigs runs the daemons with the given configurations (gw1's,
// gw2's) and waits for their st0.1.
func (tp *topology) startConfigs(configs [2]string) {
	tp.t.Helper()
	tp.startGateways(configs[:], []int{0, 1})
}

// startOne runs only gateway i's daemon (the other side is another
// implementation).
func (tp *topology) startOne(i int, config string) {
	tp.t.Helper()
	cfgs := make([]string, 2)
	cfgs[i] = config
	tp.startGateways(cfgs, []int{i})
}

func (tp *topology) startGateways(configs []string, which []int) {
	t := tp.t
	t.Helper()
	for _, i := range which {
		name := fmt.Sprintf("gw%d", i+1)
		dir := t.TempDir()
		cfg := filepath.Join(dir, "ipsecgw.conf")
		if err := os.WriteFile(cfg, []byte(configs[i]), 0o600); err != nil {
			t.Fatal(err)
		}
		logf, err := os.Create(filepath.Join(dir, "daemon.log"))
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"netns", "exec", tp.net.Name(name), binary, "daemon", "--config", cfg, "--state-dir", dir,
			"--socket", filepath.Join(dir, "api.sock"), "--debug"}, tp.daemonArgs...)
		cmd := exec.Command("ip", args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		g := &gateway{name: name, stateDir: dir, cmd: cmd, log: logf}
		tp.gws[i] = g
		t.Cleanup(func() { tp.stop(g) })
	}
	for _, i := range which {
		g := tp.gws[i]
		deadline := time.Now().Add(10 * time.Second)
		for {
			// The daemon is up once it says it runs: its IKE sockets,
			// tunnel interfaces, routes and API are up. Not st0.1 or its
			// route: a VPN without its Child SA yet holds st0.1 down
			// (daemon/st0follow.go).
			if strings.Contains(tp.logOf(g), `msg="ipsecgw running"`) {
				break
			}
			if time.Now().After(deadline) {
				g.cmd.Process.Kill()
				g.cmd.Wait()
				cfg, _ := os.ReadFile(filepath.Join(g.stateDir, "ipsecgw.conf"))
				t.Fatalf("%s did not come up:\n%s\nconfiguration:\n%s", g.name, tp.logOf(g), cfg)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func (tp *topology) logOf(g *gateway) string {
	if g == nil {
		return "(not an ipsecgw gateway)"
	}
	b, _ := os.ReadFile(filepath.Join(g.stateDir, "daemon.log"))
	return string(b)
}

// stop sends SIGTERM to the daemon (by PID), waits a bounded time and
// kills it if needed.
func (tp *topology) stop(g *gateway) {
	if g.cmd.Process == nil || g.cmd.ProcessState != nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tp.t.Errorf("%s exited with %v:\n%s", g.name, err, tp.logOf(g))
		}
	case <-time.After(10 * time.Second):
		g.cmd.Process.Kill()
		<-done
		tp.t.Errorf("%s did not stop within 10 s of SIGTERM", g.name)
	}
	g.log.Close()
}

// status asks a daemon for its counters (SIGUSR1) and reads them.
func (tp *topology) status(g *gateway) daemon.Status {
	t := tp.t
	t.Helper()
	path := filepath.Join(g.stateDir, "status.json")
	os.Remove(path)
	g.cmd.Process.Signal(syscall.SIGUSR1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			var s daemon.Status
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatalf("%s status: %v", g.name, err)
			}
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s wrote no status:\n%s", g.name, tp.logOf(g))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func findSA(s daemon.Status, dir string) daemon.SAStatus {
	for _, sa := range s.SAs {
		if sa.Direction == dir {
			return sa
		}
	}
	return daemon.SAStatus{}
}
