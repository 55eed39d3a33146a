package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/etcd"
	"ipsecgw/test/netns"
)

const (
	vip = "198.51.100.10"
	ttl = 2 * time.Second
)

// seed is the cluster's first configuration, given to node 1 only; node 2
// starts without one and takes the cluster's.
const seed = `set groups node1 system host-name n1
set groups node1 interfaces eth1 unit 0 family inet address 198.51.100.11/24
set groups node2 system host-name n2
set groups node2 interfaces eth1 unit 0 family inet address 198.51.100.12/24
set apply-groups "${node}"
set chassis high-availability node 1 address 198.51.100.11
set chassis high-availability node 2 address 198.51.100.12
set chassis high-availability services-redundancy-group 1 virtual-ip 1 ip 198.51.100.10/24
set chassis high-availability services-redundancy-group 1 virtual-ip 1 interface eth1
set chassis high-availability services-redundancy-group 1 managed-services ipsec
set chassis high-availability services-redundancy-group 1 node 1 activeness-priority 200
set chassis high-availability services-redundancy-group 1 node 2 activeness-priority 100
set chassis high-availability services-redundancy-group 1 preemption
`

// proc is a daemon the test started, stopped by its PID.
type proc struct {
	name string
	dir  string
	cmd  *exec.Cmd
	log  *os.File
}

func start(t *testing.T, n *netns.Net, ns, dir string, args ...string) *proc {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(dir, ns+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name(ns)}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: ns, dir: dir, cmd: cmd, log: logf}
	t.Cleanup(func() { p.stop(t, syscall.SIGTERM) })
	return p
}

// stop signals the process and waits (bounded); SIGKILL is a crash.
func (p *proc) stop(t *testing.T, sig syscall.Signal) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
		t.Errorf("%s did not stop within 10 s", p.name)
	}
	p.log.Close()
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, p.name+".log"))
	return string(b)
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool, logs ...*proc) time.Duration {
	t.Helper()
	begin := time.Now()
	for !ok() {
		if time.Since(begin) > d {
			var b strings.Builder
			for _, p := range logs {
				fmt.Fprintf(&b, "--- %s ---\n%s\n", p.name, p.logText())
			}
			t.Fatalf("after %v: %s\n%s", d, what, b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(begin)
}

func hasVIP(n *netns.Net, ns string) bool {
	out, _ := n.Try(ns, "ip", "-4", "-br", "addr", "show", "dev", "eth1")
	return strings.Contains(out, vip+"/24")
}

func mac(n *netns.Net, ns string) string {
	out := n.Exec(ns, "cat", "/sys/class/net/eth1/address")
	return strings.TrimSpace(out)
}

var lladdr = regexp.MustCompile(`lladdr ([0-9a-f:]{17})`)

// neighbour is the client's neighbour entry for the virtual IP's MAC.
func neighbour(n *netns.Net) string {
	out, _ := n.Try("client", "ip", "neigh", "show", vip, "dev", "eth1")
	if m := lladdr.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return ""
}

func cli(t *testing.T, node *proc, cmd string) string {
	t.Helper()
	out, err := exec.Command(binary, "cli", "--socket", filepath.Join(node.dir, node.name+".sock"), "-c", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", node.name, cmd, err, out)
	}
	return string(out)
}

// newCluster builds the namespaces (etcd, n1, n2 and a client on one
// bridge), starts etcd, and returns a function that starts node id (with
// the seed configuration, or with none).
func newCluster(t *testing.T, seedConfig string) (*netns.Net, string, func(id int, withSeed bool) *proc) {
	t.Helper()
	n, dir, node, _ := newClusterEtcd(t, seedConfig, 1)
	return n, dir, node
}

// etcdMembers are the etcd members of a test cluster.
type etcdMembers struct {
	procs   map[int]*proc     // member i's current process
	start   func(i int) *proc // (re)starts member i
	members []etcd.Member
	n       *netns.Net
}

// leader returns the member (1, 2, ...) that leads the etcd cluster now,
// as the members themselves say (etcd's gRPC gateway, maintenance/status).
func (em *etcdMembers) leader(t *testing.T) int {
	t.Helper()
	i, err := em.currentLeader()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// currentLeader is leader without a test: it fails while no live member
// names a live leader (during an election).
func (em *etcdMembers) currentLeader() (int, error) {
	ids := map[string]int{}
	var leader string
	for i, m := range em.members {
		out, err := em.n.Try("client", "curl", "-s", "-m", "2", "-X", "POST", m.ClientURL()+"/v3/maintenance/status", "-d", "{}")
		if err != nil {
			continue
		}
		var st struct {
			Header struct {
				MemberID string `json:"member_id"`
			} `json:"header"`
			Leader string `json:"leader"`
		}
		if json.Unmarshal([]byte(out), &st) != nil || st.Header.MemberID == "" {
			continue
		}
		ids[st.Header.MemberID] = i + 1
		if st.Leader != "" && st.Leader != "0" {
			leader = st.Leader
		}
	}
	if i, ok := ids[leader]; ok {
		return i, nil
	}
	return 0, fmt.Errorf("no etcd member says which member leads (members %v, leader %q)", ids, leader)
}

// newClusterEtcd is newCluster with members etcd members (e1, e2, ... at
// 198.51.100.2, .3, ...); the last result restarts a member.
func newClusterEtcd(t *testing.T, seedConfig string, members int) (*netns.Net, string, func(id int, withSeed bool) *proc, *etcdMembers) {
	t.Helper()
	etcdBin, err := etcd.Binary()
	if err != nil {
		netns.RequireRoot(t)
		t.Fatal(err)
	}
	names := []string{"lan", "n1", "n2", "n3", "client", "lanhost"}
	ends := []struct{ ns, port, addr string }{
		{"n1", "p1", "198.51.100.11/24"}, {"n2", "p2", "198.51.100.12/24"}, {"n3", "p3", "198.51.100.13/24"},
		{"client", "pc", "198.51.100.100/24"},
	}
	var ems []etcd.Member
	for i := 1; i <= members; i++ {
		ns, addr := fmt.Sprintf("e%d", i), fmt.Sprintf("198.51.100.%d", i+1)
		names = append(names, ns)
		ends = append(ends, struct{ ns, port, addr string }{ns, "pe" + fmt.Sprint(i), addr + "/24"})
		ems = append(ems, etcd.Member{Name: ns, Addr: addr})
	}
	n := netns.New(t, names...)
	n.Exec("lan", "ip", "link", "add", "br0", "type", "bridge")
	n.Exec("lan", "ip", "link", "set", "br0", "up")
	for _, end := range ends {
		n.Link(end.ns, "eth1", end.addr, "lan", end.port, "")
		n.Exec("lan", "ip", "link", "set", end.port, "master", "br0")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	em := &etcdMembers{procs: map[int]*proc{}, members: ems, n: n}
	em.start = func(i int) *proc {
		m := ems[i-1]
		em.procs[i] = start(t, n, m.Name, dir, etcd.Args(etcdBin, m, ems, filepath.Join(dir, m.Name+"-data"))...)
		return em.procs[i]
	}
	var etcds []*proc
	for i := 1; i <= members; i++ {
		etcds = append(etcds, em.start(i))
	}
	waitFor(t, 30*time.Second, "etcd healthy", func() bool {
		for _, m := range ems {
			out, _ := n.Try("client", "curl", "-s", "-m", "1", m.HealthURL())
			if !etcd.Healthy(out) {
				return false
			}
		}
		return true
	}, etcds...)
	endpoint := etcd.Endpoints(ems)
	seedFile := filepath.Join(dir, "seed.conf")
	os.WriteFile(seedFile, []byte(seedConfig), 0o600)
	return n, dir, func(id int, withSeed bool) *proc {
		name := fmt.Sprintf("n%d", id)
		state := filepath.Join(dir, name+"-state")
		args := []string{binary, "daemon", "--state-dir", state, "--socket", filepath.Join(dir, name+".sock"),
			"--cluster-etcd", endpoint, "--node-id", fmt.Sprint(id), "--debug",
			"--metrics-listen", "127.0.0.1:9300"} // inside the node's namespace
		if withSeed {
			args = append(args, "--config", seedFile)
		}
		return start(t, n, name, dir, args...)
	}, em
}

// TestVirtualIPFollowsOwner: two ipsecgw nodes and one etcd member
// (Debian's etcd-server) in namespaces on one bridge, with a client. The
// preferred node owns the virtual IP and answers on it; SIGKILL moves it
// to the survivor within a few lease TTLs, and the client's neighbour table
// follows the gratuitous ARP; a commit on the survivor is in effect on the
// first node when it returns, and preemption gives the group back to it.
func TestVirtualIPFollowsOwner(t *testing.T) {
	n, dir, node := newCluster(t, seed)
	n1 := node(1, true)
	waitFor(t, 20*time.Second, "node 1 owns the virtual IP", func() bool { return hasVIP(n, "n1") }, n1)
	n2 := node(2, false)
	waitFor(t, 20*time.Second, "node 2 is a member", membersUp(dir, 2), n1, n2)
	if hasVIP(n, "n2") {
		t.Fatal("both nodes hold the virtual IP")
	}
	info := cli(t, n2, "show chassis high-availability information")
	t.Logf("node 2:\n%s", info)
	if !strings.Contains(info, "Services Redundancy Group: 1\n        Status: BACKUP\n        Active Node: 1") {
		t.Fatalf("node 2's view:\n%s", info)
	}
	if js := cli(t, n2, "show chassis high-availability information | display json"); !strings.Contains(js, `"srg-status"`) {
		t.Fatalf("json:\n%s", js)
	}
	// Node 2 started without a configuration: it runs the cluster's, with
	// its own group.
	if out := cli(t, n2, "show configuration system | display inheritance"); !strings.Contains(out, "## 'n2' was inherited from group 'node2'") {
		t.Fatalf("node 2's inherited configuration:\n%s", out)
	}

	// The virtual IP answers, from node 1's MAC.
	n.Exec("client", "ping", "-c", "1", "-W", "2", vip)
	if got, want := neighbour(n), mac(n, "n1"); got != want {
		t.Fatalf("client's neighbour for %s: %q, want node 1's %q", vip, got, want)
	}

	// Kill the owner.
	killed := time.Now()
	n1.stop(t, syscall.SIGKILL)
	took := waitFor(t, 3*ttl+2*time.Second, "the virtual IP moves to node 2", func() bool { return hasVIP(n, "n2") }, n2)
	want2 := mac(n, "n2")
	waitFor(t, 2*time.Second, "the client's neighbour table follows the gratuitous ARP", func() bool { return neighbour(n) == want2 }, n2)
	t.Logf("virtual IP on node 2 %v after SIGKILL of node 1 (lease TTL %v); neighbour updated %v after the kill",
		took.Round(time.Millisecond), ttl, time.Since(killed).Round(time.Millisecond))
	n.Exec("client", "ping", "-c", "1", "-W", "2", vip)
	metrics := n.Exec("n2", "curl", "-s", "-m", "2", "http://127.0.0.1:9300/metrics")
	if !strings.Contains(metrics, `ipsecgw_cluster_srg_active{srg="1"} 1`) || !strings.Contains(metrics, `ipsecgw_cluster_srg_changes_total{change="active"} 1`) {
		t.Fatalf("node 2's metrics:\n%s", metrics)
	}

	// A commit on node 2, while node 1 is down.
	out := cli(t, n2, "configure; set groups node1 system host-name n1-renamed; commit")
	if !strings.Contains(out, "commit complete") {
		t.Fatalf("commit on node 2:\n%s", out)
	}
	// Node 1 returns with its old state directory and no --config: it
	// catches up, and preemption gives it the group back.
	n1 = node(1, false)
	waitFor(t, 20*time.Second, "node 1 has the commit made while it was down", func() bool {
		out, err := exec.Command(binary, "cli", "--socket", filepath.Join(dir, "n1.sock"), "-c", "show version").CombinedOutput()
		return err == nil && strings.Contains(string(out), "Hostname: n1-renamed")
	}, n1)
	waitFor(t, 3*ttl+10*time.Second, "preemption moves the virtual IP back to node 1", func() bool { return hasVIP(n, "n1") && !hasVIP(n, "n2") }, n1, n2)
	want1 := mac(n, "n1")
	waitFor(t, 2*time.Second, "the client's neighbour table follows", func() bool { return neighbour(n) == want1 }, n1)
	n.Exec("client", "ping", "-c", "1", "-W", "2", vip)

	// A manual failover, asked on node 1, moves the group to node 2, and
	// preemption does not take it back while node 2 lives.
	if out := cli(t, n1, "request chassis high-availability failover services-redundancy-group 1"); !strings.Contains(out, "node 2 is active") {
		t.Fatalf("failover:\n%s", out)
	}
	waitFor(t, 3*time.Second, "the virtual IP moves to node 2 by hand", func() bool { return hasVIP(n, "n2") && !hasVIP(n, "n1") }, n1, n2)
	waitFor(t, 2*time.Second, "the client's neighbour table follows", func() bool { return neighbour(n) == want2 }, n2)
	time.Sleep(2 * ttl)
	if !hasVIP(n, "n2") || hasVIP(n, "n1") {
		t.Fatal("preemption undid the manual failover")
	}
	n.Exec("client", "ping", "-c", "1", "-W", "2", vip)
}
