package seed001

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/test/netns"
)

// Seed 001's topology, in namespaces r1–r4 joined by veth pairs named
// after the seed's SONET interfaces:
//
//	r1 so-0/0/0 (r1-so0) — (r2-so0) so-0/0/0 r2 so-0/0/1 (r2-so1) — (r3-so1) so-0/0/1 r3 so-0/0/0 (r3-so0) — (r4-so0) so-0/0/0 r4
//
// The seed's addresses are remapped into the test ranges: 10.1.X.Y
// becomes 198.18.X.Y (the links 10.1.12.0/30, 10.1.15.0/30, 10.1.56.0/30)
// and the loopbacks 10.0.0.N become 198.19.0.N. The configurations are
// examples/seed001/rN.conf, remapped as text; the Junos interface names
// are mapped to the veths with --interface-map. Every router runs ipsecgw
// with its seed configuration; r1 and r4 have no IPsec, only interfaces
// and OSPF, which ipsecgw runs in FRR as it does on r2 and r3.

var seedLinks = []struct{ a, aIf, b, bIf string }{
	{"r1", "r1-so0", "r2", "r2-so0"},
	{"r2", "r2-so1", "r3", "r3-so1"},
	{"r3", "r3-so0", "r4", "r4-so0"},
}

var interfaceMaps = map[string]map[string]string{
	"r1": {"so-0/0/0": "r1-so0"},
	"r2": {"so-0/0/0": "r2-so0", "so-0/0/1": "r2-so1"},
	"r3": {"so-0/0/0": "r3-so0", "so-0/0/1": "r3-so1"},
	"r4": {"so-0/0/0": "r4-so0"},
}

// remap moves the seed's addresses into the test ranges.
func remap(text string) string {
	return strings.NewReplacer("10.1.", "198.18.", "10.0.0.", "198.19.0.").Replace(text)
}

// router is one of r1–r4.
type router struct {
	name     string
	file     string
	cfg      *schema.Config
	tree     *config.Tree
	stateDir string
	cmd      *exec.Cmd // ipsecgw
	frrDir   string    // its FRR's directory (--frr-dir)
}

// TestSeed001 brings seed 001 up from the seed's configurations alone:
// each router's ipsecgw runs its OSPF in FRR, which forms an adjacency
// across the IPsec tunnel between r2 and r3 (over the service set's inside
// interfaces), `show ospf neighbor` lists it through the CLI,
// r1 reaches r4's far address, the traceroute goes through the tunnel
// (r2 answers from its loopback, the address its unnumbered inside
// interface borrows), and the services show commands print the live
// tunnel.
func TestSeed001(t *testing.T) {
	netns.RequireRoot(t)
	requireFRR(t)
	n := netns.New(t, "r1", "r2", "r3", "r4")
	for _, l := range seedLinks {
		n.Link(l.a, l.aIf, "", l.b, l.bIf, "")
	}
	routers := map[string]*router{}
	for _, name := range []string{"r1", "r2", "r3", "r4"} {
		n.Exec(name, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		// OSPF hellos come in over the tunnel from the peer's loopback
		// address before any route to it exists.
		n.Exec(name, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0")
		n.Exec(name, "sysctl", "-q", "-w", "net.ipv4.conf.default.rp_filter=0")
		routers[name] = loadRouter(t, name)
	}
	for _, name := range []string{"r1", "r2", "r3", "r4"} {
		r := routers[name]
		for _, ifc := range r.cfg.Interfaces {
			for _, u := range ifc.Units {
				for _, a := range u.Addresses {
					if err := netns.CheckAddress(a); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		startIPsecgw(t, n, r)
	}
	r2, r3 := routers["r2"], routers["r3"]
	fail := func(format string, args ...any) {
		t.Helper()
		var b strings.Builder
		for _, name := range []string{"r1", "r2", "r3", "r4"} {
			r := routers[name]
			if r.stateDir != "" {
				log, _ := os.ReadFile(filepath.Join(r.stateDir, "daemon.log"))
				fmt.Fprintf(&b, "--- %s ipsecgw\n%s", name, tail(string(log), 60))
			}
			b.WriteString(r.frrLogs())
			fmt.Fprintf(&b, "--- %s show ip ospf interface\n%s", name, r.vtysh("show ip ospf interface"))
			for _, cmd := range [][]string{{"ip", "route"}, {"ip", "-s", "addr"}} {
				out, _ := n.Try(name, cmd...)
				fmt.Fprintf(&b, "--- %s %s\n%s", name, strings.Join(cmd, " "), out)
			}
		}
		t.Fatalf(format+"\n%s", append(args, b.String())...)
	}

	// The adjacency across the tunnel: r2 sees r3 (router ID 198.19.0.3)
	// Full on its inside interface, and the other way round.
	for _, c := range []struct {
		r        *router
		neighbor string
	}{{r2, "198.19.0.3"}, {r3, "198.19.0.2"}} {
		// Junos's default hellos (10 s) on both sides of the tunnel.
		if !poll(60*time.Second, func() bool {
			return fullOn(c.r.vtysh("show ip ospf neighbor"), c.neighbor, "sp-1-2-0.1")
		}) {
			fail("%s: no Full adjacency with %s on sp-1-2-0.1:\n%s", c.r.name, c.neighbor, c.r.vtysh("show ip ospf neighbor"))
		}
		// The same through the CLI, in the Junos layout and names.
		out := cli(t, c.r, "show ospf neighbor")
		row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(c.neighbor) + ` +sp-1/2/0\.1 +Full +` + regexp.QuoteMeta(c.neighbor) + ` +\d+ +\d+$`)
		if !strings.HasPrefix(out, "Address          Interface              State     ID               Pri  Dead\n") || !row.MatchString(out) {
			fail("%s> show ospf neighbor:\n%s", c.r.name, out)
		}
		t.Logf("%s> show ospf neighbor\n%s", c.r.name, out)
	}
	// r1 learns r4's link (and r4 r1's) through OSPF.
	for _, c := range []struct{ router, prefix string }{{"r1", "198.18.56.0/30"}, {"r4", "198.18.12.0/30"}} {
		if !poll(30*time.Second, func() bool {
			out, _ := n.Try(c.router, "ip", "route", "show", c.prefix)
			return strings.Contains(out, "proto ospf")
		}) {
			fail("%s has no OSPF route to %s", c.router, c.prefix)
		}
	}

	// Seed: "user@R1> ping 10.1.56.2" and "user@R4> ping 10.1.12.2".
	for _, c := range []struct{ from, to string }{{"r1", "198.18.56.2"}, {"r4", "198.18.12.2"}} {
		var out string
		if !poll(20*time.Second, func() bool {
			var err error
			out, err = n.Try(c.from, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-w", "5", c.to)
			return err == nil
		}) {
			fail("%s: ping %s fails:\n%s", c.from, c.to, out)
		}
	}

	// Seed: "user@R4> traceroute 10.1.12.2" — 1 10.1.15.2, 2 10.0.0.2,
	// 3 10.1.12.2: r3, then r2 answering from its loopback (the address
	// of the inside interface the packet came in on: it went through the
	// tunnel, not over the r2–r3 link, whose r2 address is 198.18.15.1),
	// then the destination. The seed's r3 answers from its so-0/0/1
	// address (10.1.15.2); Linux answers from the address it routes the
	// reply from, r3's address toward r4 (198.18.56.1).
	hops := traceroute(t, n, "r4", "198.18.12.2")
	want := []string{"198.18.56.1", "198.19.0.2", "198.18.12.2"}
	if strings.Join(hops, " ") != strings.Join(want, " ") {
		fail("traceroute from r4 to 198.18.12.2: hops %v, want %v", hops, want)
	}

	// The live tunnel in the services show commands, through the CLI.
	for _, r := range []*router{r2, r3} {
		me, peer := "198.18.15.1", "198.18.15.2"
		if r == r3 {
			me, peer = peer, me
		}
		detail := cli(t, r, "show services ipsec-vpn ipsec security-associations detail")
		for _, want := range []string{
			"Service set: service-set-dynamic-BiEspsha3des\n",
			"  Rule: rule-ike, Term: term-ike, Tunnel index: 1\n",
			"  Local gateway: " + me + ", Remote gateway: " + peer + "\n",
			"    Direction: inbound, SPI: ",
			"    Direction: outbound, SPI: ",
			"    Mode: tunnel, Type: dynamic, State: Installed\n",
			"    Protocol: ESP, Authentication: hmac-sha1-96, Encryption: 3des-cbc\n",
			"    Anti-replay service: Enabled, Replay window size: 64\n",
		} {
			if !strings.Contains(detail, want) {
				fail("%s: show services ipsec-vpn ipsec security-associations detail:\n%s\nwant %q", r.name, detail, want)
			}
		}
		t.Logf("%s> show services ipsec-vpn ipsec security-associations detail\n%s", r.name, detail)
		ike := cli(t, r, "show services ipsec-vpn ike security-associations")
		if !regexp.MustCompile(regexp.QuoteMeta(peer) + ` +Matured +[0-9a-f]{16}  [0-9a-f]{16}  Main\n`).MatchString(ike) {
			fail("%s: show services ipsec-vpn ike security-associations:\n%s", r.name, ike)
		}
		t.Logf("%s> show services ipsec-vpn ike security-associations\n%s", r.name, ike)
		stats := cli(t, r, "show services ipsec-vpn ipsec statistics")
		if !strings.HasPrefix(stats, "PIC: sp-1/2/0, Service set: service-set-dynamic-BiEspsha3des\n") ||
			regexp.MustCompile(`Encrypted packets: +0\n`).MatchString(stats) || regexp.MustCompile(`Decrypted packets: +0\n`).MatchString(stats) {
			fail("%s: show services ipsec-vpn ipsec statistics (want traffic both ways):\n%s", r.name, stats)
		}
		t.Logf("%s> show services ipsec-vpn ipsec statistics\n%s", r.name, stats)
	}
}

// loadRouter reads router name's seed configuration, remapped; the
// routers that run ipsecgw negotiate with IKEv1 Main Mode, as the seed.
func loadRouter(t *testing.T, name string) *router {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "seed001", name+".conf"))
	if err != nil {
		t.Fatal(err)
	}
	text := remap(string(src))
	dir := t.TempDir()
	file := filepath.Join(dir, name+".conf")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := daemon.Load(file, interfaceMaps[name])
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, text)
	}
	tree, err := config.Parse(file, []byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &router{name: name, file: file, cfg: cfg, tree: tree}
}

// startIPsecgw runs ipsecgw in the router's namespace with its own state
// directory and API socket, and waits for the inside interface.
func startIPsecgw(t *testing.T, n *netns.Net, r *router) {
	t.Helper()
	r.stateDir = t.TempDir()
	logf, err := os.Create(filepath.Join(r.stateDir, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for junos, linux := range interfaceMaps[r.name] {
		pairs = append(pairs, junos+"="+linux)
	}
	r.frrDir = frrDir(t, r.name)
	r.cmd = exec.Command("ip", "netns", "exec", n.Name(r.name), binary, "daemon", "--config", r.file,
		"--state-dir", r.stateDir, "--socket", filepath.Join(r.stateDir, "api.sock"),
		"--interface-map", strings.Join(pairs, ","), "--frr-dir", r.frrDir, "--debug")
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	t.Cleanup(func() {
		if err := stopProcess(r.cmd, 10*time.Second); err != nil {
			log, _ := os.ReadFile(filepath.Join(r.stateDir, "daemon.log"))
			t.Errorf("%s: ipsecgw: %v\n%s", r.name, err, tail(string(log), 40))
		}
		// ipsecgw stops the FRR it started.
		if err := frrStopped(r); err != nil {
			t.Error(err)
		}
	})
	// Up when its FRR runs the seed's OSPF (r2 and r3: and the inside
	// interface is there).
	if !poll(20*time.Second, func() bool {
		if !strings.Contains(r.vtysh("show running-config"), "router ospf") {
			return false
		}
		if r.name == "r1" || r.name == "r4" {
			return true
		}
		out, err := n.Try(r.name, "ip", "-4", "addr", "show", "dev", "sp-1-2-0.1")
		return err == nil && strings.Contains(out, "inet ")
	}) {
		log, _ := os.ReadFile(filepath.Join(r.stateDir, "daemon.log"))
		t.Fatalf("%s: ipsecgw did not come up with its OSPF in FRR:\n%s\n%s", r.name, log, r.frrLogs())
	}
}

// cli runs one operational command through the CLI and the router's API.
func cli(t *testing.T, r *router, command string) string {
	t.Helper()
	out, err := netns.Command(binary, "cli", "--socket", filepath.Join(r.stateDir, "api.sock"), "-c", command)
	if err != nil {
		t.Fatalf("%s> %s: %v\n%s", r.name, command, err, out)
	}
	return out
}

// fullOn reports whether `show ip ospf neighbor` lists the neighbor in
// state Full on the interface.
func fullOn(out, neighbor, dev string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, neighbor+" ") && strings.Contains(line, "Full/") && strings.Contains(line, dev) {
			return true
		}
	}
	return false
}

// traceroute returns the address answering at each hop (-n, one probe
// per hop, ICMP echo so the hops answer like the seed's routers).
func traceroute(t *testing.T, n *netns.Net, from, to string) []string {
	t.Helper()
	out, err := n.Try(from, "traceroute", "-n", "-I", "-q", "1", "-w", "2", "-m", "8", to)
	if err != nil {
		t.Fatalf("traceroute: %v\n%s", err, out)
	}
	t.Logf("%s> traceroute -n %s\n%s", from, to, out)
	var hops []string
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) >= 2 {
			hops = append(hops, f[1])
		}
	}
	return hops
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
