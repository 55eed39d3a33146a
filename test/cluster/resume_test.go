package cluster

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// resumeSeed is ikeSeed with a third node, dead peer detection on both
// sides (every probe moves a message ID the survivor must get right), and
// a LAN behind the nodes (eth2, 203.0.113.0/25) whose gateway is the
// group's second virtual IP; and a second group, preferred on node 2, with
// a tunnel strongSwan initiates (ipsecgw is its IKE SA's responder).
const resumeSeed = ikeSeed + `set groups node3 system host-name n3
set groups node3 interfaces eth1 unit 0 family inet address 198.51.100.13/24
set groups node1 interfaces eth2 unit 0 family inet address 203.0.113.11/25
set groups node2 interfaces eth2 unit 0 family inet address 203.0.113.12/25
set groups node3 interfaces eth2 unit 0 family inet address 203.0.113.13/25
set chassis high-availability node 3 address 198.51.100.13
set chassis high-availability services-redundancy-group 1 node 3 activeness-priority 50
set chassis high-availability services-redundancy-group 1 virtual-ip 2 ip 203.0.113.1/25
set chassis high-availability services-redundancy-group 1 virtual-ip 2 interface eth2
set security ike gateway ike_gw dead-peer-detection always-send
set security ike gateway ike_gw dead-peer-detection interval 2
set security ike gateway ike_gw dead-peer-detection threshold 3
set chassis high-availability services-redundancy-group 2 virtual-ip 1 ip 198.51.100.20/24
set chassis high-availability services-redundancy-group 2 virtual-ip 1 interface eth1
set chassis high-availability services-redundancy-group 2 managed-services ipsec
set chassis high-availability services-redundancy-group 2 node 1 activeness-priority 50
set chassis high-availability services-redundancy-group 2 node 2 activeness-priority 200
set chassis high-availability services-redundancy-group 2 node 3 activeness-priority 100
set chassis high-availability services-redundancy-group 2 preemption
set interfaces st0 unit 2 family inet address 198.18.4.1/24
set routing-options static route 198.18.3.0/24 next-hop st0.2
set security ike gateway ike_gw2 ike-policy ike_policy
set security ike gateway ike_gw2 address 198.51.100.101
set security ike gateway ike_gw2 local-address 198.51.100.20
set security ike gateway ike_gw2 version v2-only
set security ike gateway ike_gw2 dead-peer-detection always-send
set security ike gateway ike_gw2 dead-peer-detection interval 2
set security ike gateway ike_gw2 dead-peer-detection threshold 3
set security ipsec vpn ipsec_vpn2 bind-interface st0.2
set security ipsec vpn ipsec_vpn2 ike gateway ike_gw2
set security ipsec vpn ipsec_vpn2 ike ipsec-policy ipsec_policy
set security ipsec vpn ipsec_vpn2 establish-tunnels responder-only
`

// TestSAsSurviveFailover: three ipsecgw nodes sharing a cluster key, one
// etcd, strongSwan 5.9.8 (userspace ESP in UDP 4500) on the segment with a
// tunnel to the virtual IP, and a host on the LAN behind the nodes. The
// owner is killed with SIGKILL under a continuous ping and a TCP transfer
// (iperf3) from strongSwan's side to the LAN host: node 2 takes the group
// over and carries on the same IKE SA (strongSwan's SPIs and unique ID do
// not change: no new IKE_SA_INIT), the ping resumes and the TCP transfer
// completes. Then a graceful manual failover moves it on to node 3, and
// cutting node 3's link moves it back to node 2, again on the same IKE SA. Each time the longest gap in replies and the packets
// lost are printed; the gap must stay below the lease TTL plus a second
// (plus the ping interval). Group 2 runs active/active beside it: node 1
// owns it first, preemption hands it over to node 2 when node 2 joins, and
// it keeps the same IKE SA through everything else.
func TestSAsSurviveFailover(t *testing.T) {
	strongswan.Require(t)
	n, dir, node := newCluster(t, resumeSeed)
	key := newClusterKey()
	for _, id := range []int{1, 2, 3} {
		writeClusterKey(t, dir, id, key)
	}
	n.Exec("client", "ip", "addr", "add", "198.18.3.1/32", "dev", "lo")
	n.Exec("client", "ip", "addr", "add", "198.51.100.101/24", "dev", "eth1")
	n.Exec("lan", "ip", "link", "add", "br1", "type", "bridge")
	n.Exec("lan", "ip", "link", "set", "br1", "up")
	for i, ns := range []string{"n1", "n2", "n3"} {
		n.Link(ns, "eth2", fmt.Sprintf("203.0.113.%d/25", 11+i), "lan", fmt.Sprintf("q%d", i+1), "")
		n.Exec("lan", "ip", "link", "set", fmt.Sprintf("q%d", i+1), "master", "br1")
		n.Exec(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	}
	n.Link("lanhost", "eth1", lanHost+"/25", "lan", "qh", "")
	n.Exec("lan", "ip", "link", "set", "qh", "master", "br1")
	n.Exec("lanhost", "ip", "route", "add", "default", "via", "203.0.113.1")
	iperf := start(t, n, "lanhost", dir, "iperf3", "-s", "-B", lanHost)
	// strongSwan narrows the route-based VPN's selectors to these.
	conn, conn2 := vipConnection("198.18.1.0/24", "203.0.113.0/25"), vip2Connection("198.51.100.20")
	conn.DPDDelay, conn2.DPDDelay = 2*time.Second, 2*time.Second
	charon := startClient(t, n, conn, conn2)
	n1 := node(1, true)
	tunnelUp := pingsThrough(n, "198.18.2.1", lanHost)
	waitFor(t, 30*time.Second, "the tunnel through the virtual IP carries traffic", tunnelUp, n1)
	tunnel2Up := pingsThrough(n, "198.18.3.1", "198.18.4.1")
	waitFor(t, 20*time.Second, "node 1 owns group 2 too", func() bool {
		out, _ := n.Try("n1", "ip", "-4", "-br", "addr", "show", "dev", "eth1")
		return strings.Contains(out, "198.51.100.20/24")
	}, n1)
	if err := charon.Initiate("net2"); err != nil {
		t.Fatalf("strongSwan's tunnel to group 2: %v\n%s", err, n1.logText())
	}
	waitFor(t, 20*time.Second, "the tunnel of group 2 carries traffic", tunnel2Up, n1)
	group2 := establishedSA(t, charon, "vip2")
	n2, n3 := node(2, false), node(3, false)
	waitFor(t, 20*time.Second, "nodes 2 and 3 are members", membersUp(dir, 2, 3), n1, n2, n3)
	// Preemption hands group 2 over to node 2, which resumes its SA.
	waitFor(t, 20*time.Second, "node 2 resumes group 2's IKE SA", func() bool {
		return strings.Contains(n2.logText(), "IKE SA resumed") && tunnel2Up()
	}, n1, n2)
	sameSA(t, "of group 2 after preemption", group2, establishedSA(t, charon, "vip2"), n1, n2)
	first := establishedSA(t, charon, "vip")
	time.Sleep(3 * time.Second) // DPD exchanges on both sides, recorded

	// The owner dies under a continuous ping and a TCP transfer.
	before := resumed(n2)
	tcp := tcpDuring(t, n, 14*time.Second)
	res := pingDuring(t, n, 16*time.Second, 3*time.Second, func() { n1.stop(t, syscall.SIGKILL) })
	t.Logf("SIGKILL of the owner: longest gap in replies %v, %d of %d packets lost (lease TTL %v)", res.gap, res.lost, res.sent, ttl)
	t.Logf("SIGKILL of the owner: TCP %s", tcp(iperf, n2))
	second := establishedSA(t, charon, "vip")
	sameSA(t, "after SIGKILL", first, second, n2, n3)
	if resumed(n2) <= before {
		t.Fatalf("node 2 did not resume group 1's IKE SA:\n%s", n2.logText())
	}
	checkGap(t, res, n2)

	// A graceful manual failover moves it on to node 3.
	time.Sleep(3 * time.Second)
	before = resumed(n3)
	tcp = tcpDuring(t, n, 10*time.Second)
	res = pingDuring(t, n, 12*time.Second, 2*time.Second, func() {
		if out := cli(t, n2, "request chassis high-availability failover services-redundancy-group 1"); !strings.Contains(out, "node 3 is active") {
			t.Errorf("failover:\n%s", out)
		}
	})
	t.Logf("manual failover: longest gap in replies %v, %d of %d packets lost", res.gap, res.lost, res.sent)
	t.Logf("manual failover: TCP %s", tcp(iperf, n3))
	third := establishedSA(t, charon, "vip")
	sameSA(t, "after the manual failover", first, third, n2, n3)
	if resumed(n3) <= before {
		t.Fatalf("node 3 did not resume the IKE SA:\n%s", n3.logText())
	}
	checkGap(t, res, n3)
	metrics := n.Exec("n3", "curl", "-s", "-m", "2", "http://127.0.0.1:9300/metrics")
	// Every resume in its log is counted, and none failed (group 2 may
	// have passed through node 3 too, as the placement sees the load).
	if want := fmt.Sprintf(`ipsecgw_cluster_sa_resumes_total{result="resumed"} %d`, resumed(n3)); !strings.Contains(metrics, want) ||
		!strings.Contains(metrics, `ipsecgw_cluster_sa_resumes_total{result="failed"} 0`) {
		t.Fatalf("node 3's metrics:\n%s", metrics)
	}

	// Node 3's link is cut: it loses etcd and the peer at once; node 2
	// (node 1 is still dead) takes the group back.
	time.Sleep(3 * time.Second)
	before = resumed(n2)
	tcp = tcpDuring(t, n, 14*time.Second)
	res = pingDuring(t, n, 16*time.Second, 3*time.Second, func() { n.Exec("lan", "ip", "link", "set", "p3", "down") })
	t.Logf("link of the owner cut: longest gap in replies %v, %d of %d packets lost", res.gap, res.lost, res.sent)
	t.Logf("link of the owner cut: TCP %s", tcp(iperf, n2))
	fourth := establishedSA(t, charon, "vip")
	sameSA(t, "after the link cut", first, fourth, n2, n3)
	if resumed(n2) <= before {
		t.Fatalf("node 2 did not resume group 1's IKE SA again:\n%s", n2.logText())
	}
	checkGap(t, res, n2)
	// Group 2 is still on its first IKE SA.
	sameSA(t, "of group 2 at the end", group2, establishedSA(t, charon, "vip2"), n2)
	if !tunnel2Up() {
		t.Fatal("group 2's tunnel carries no traffic at the end")
	}
	// strongSwan received one IKE_SA_INIT in all (group 1's first
	// negotiation) and initiated one (group 2's), and after each of the
	// four takeovers received a CREATE_CHILD_SA: the Child SA, without ESN,
	// rekeyed on the resumed IKE SA since its sequence numbers jumped.
	log := charon.Log()
	inits, rekeys := strings.Count(log, "parsed IKE_SA_INIT request"), strings.Count(log, "parsed CREATE_CHILD_SA request")
	t.Logf("strongSwan: %d IKE_SA_INIT, %d CREATE_CHILD_SA requests; %d retransmitted requests answered from its cache",
		inits, rekeys, strings.Count(log, "received retransmit of request"))
	if inits != 1 || rekeys < 4 || strings.Count(log, "initiating IKE_SA") != 1 {
		t.Fatalf("strongSwan's log:\n%s\n--- n2 ---\n%s\n--- n3 ---\n%s", log, n2.logText(), n3.logText())
	}
	for _, p := range []*proc{n1, n2, n3} {
		if strings.Contains(p.logText(), "DATA RACE") { // the binary is built with -race
			t.Fatalf("%s:\n%s", p.name, p.logText())
		}
	}
}

// resumed counts the IKE SAs a node resumed.
func resumed(p *proc) int { return strings.Count(p.logText(), "IKE SA resumed") }

func checkGap(t *testing.T, r pingResult, logs ...*proc) {
	t.Helper()
	checkGapWithin(t, r, ttl+time.Second, logs...)
}

// checkGapWithin is checkGap with another bound than the lease TTL + 1 s.
func checkGapWithin(t *testing.T, r pingResult, bound time.Duration, logs ...*proc) {
	t.Helper()
	if r.received == 0 || r.lastReply < r.sent-5 {
		t.Fatalf("traffic did not resume: %d replies, the last to packet %d of %d", r.received, r.lastReply, r.sent)
	}
	if limit := bound + 2*pingInterval; r.gap > limit {
		var b strings.Builder
		for _, p := range logs {
			fmt.Fprintf(&b, "--- %s ---\n%s\n", p.name, p.logText())
		}
		t.Fatalf("longest gap in replies %v, above %v (and two ping intervals)\n%s", r.gap, bound, b.String())
	}
}

// establishedSA is strongSwan's one established IKE SA of a connection.
func establishedSA(t *testing.T, c *strongswan.Charon, conn string) strongswan.IKESA {
	t.Helper()
	sas, err := c.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	var up []strongswan.IKESA
	for _, sa := range sas {
		if strings.EqualFold(sa.State, "ESTABLISHED") && sa.Name == conn {
			up = append(up, sa)
		}
	}
	if len(up) != 1 {
		t.Fatalf("strongSwan has %d established IKE SAs: %+v", len(up), sas)
	}
	return up[0]
}

func sameSA(t *testing.T, when string, a, b strongswan.IKESA, logs ...*proc) {
	t.Helper()
	t.Logf("strongSwan's IKE SA %s: #%d %016x_i %016x_r (was #%d %016x_i %016x_r), %d Child SA(s)",
		when, b.UniqueID, b.InitiatorSPI, b.ResponderSPI, a.UniqueID, a.InitiatorSPI, a.ResponderSPI, len(b.Children))
	if a.UniqueID != b.UniqueID || a.InitiatorSPI != b.InitiatorSPI || a.ResponderSPI != b.ResponderSPI {
		var sb strings.Builder
		for _, p := range logs {
			fmt.Fprintf(&sb, "--- %s ---\n%s\n", p.name, p.logText())
		}
		t.Fatalf("%s: a new IKE SA, not the same one\n%s", when, sb.String())
	}
}

// lanHost is the host on the LAN behind the nodes.
const lanHost = "203.0.113.10"

// tcpDuring starts an iperf3 TCP transfer of d from strongSwan's side to
// the LAN host, at a modest rate (the machine is shared); the function it
// returns waits for it and fails the test unless it completed.
func tcpDuring(t *testing.T, n *netns.Net, d time.Duration) func(logs ...*proc) string {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", n.Name("client"), "iperf3", "-c", lanHost, "-B", "198.18.2.1",
		"-t", strconv.Itoa(int(d/time.Second)), "-b", "20M", "-J")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func(logs ...*proc) string {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(d + 30*time.Second):
			cmd.Process.Kill()
			err = <-done
		}
		var r struct {
			Error string
			End   struct {
				SumReceived struct {
					Bytes   int64   `json:"bytes"`
					Seconds float64 `json:"seconds"`
				} `json:"sum_received"`
				SumSent struct {
					Retransmits int `json:"retransmits"`
				} `json:"sum_sent"`
			} `json:"end"`
		}
		jerr := json.Unmarshal([]byte(out.String()), &r)
		if err != nil || jerr != nil || r.Error != "" || r.End.SumReceived.Bytes == 0 {
			var b strings.Builder
			for _, p := range logs {
				fmt.Fprintf(&b, "--- %s ---\n%s\n", p.name, p.logText())
			}
			t.Fatalf("the TCP transfer did not complete: %v %v %q\n%s\n%s", err, jerr, r.Error, out.String(), b.String())
		}
		return fmt.Sprintf("transfer completed: %d bytes in %.1f s, %d retransmissions",
			r.End.SumReceived.Bytes, r.End.SumReceived.Seconds, r.End.SumSent.Retransmits)
	}
}

const pingInterval = 50 * time.Millisecond

type pingResult struct {
	sent, received, lost, lastReply int
	gap                             time.Duration
}

var pingReply = regexp.MustCompile(`^\[(\d+)\.(\d+)\] \d+ bytes from .* icmp_seq=(\d+)`)

// pingDuring pings through the tunnel for d, one packet every
// pingInterval, and runs act after `after`; it returns the longest time
// between two replies and the packets lost.
func pingDuring(t *testing.T, n *netns.Net, d, after time.Duration, act func()) pingResult {
	t.Helper()
	return pingTo(t, n, lanHost, d, after, act)
}

// pingTo is pingDuring to dst.
func pingTo(t *testing.T, n *netns.Net, dst string, d, after time.Duration, act func()) pingResult {
	t.Helper()
	count := int(d / pingInterval)
	cmd := exec.Command("ip", "netns", "exec", n.Name("client"), "ping", "-D", "-n", "-i", fmt.Sprint(pingInterval.Seconds()),
		"-W", "1", "-c", strconv.Itoa(count), "-I", "198.18.2.1", dst)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// act runs on the timer's goroutine; pingTo returns only after it
	// ended (or never ran), so that what it did happens before the rest
	// of the test (the race detector saw a cleanup read a process state
	// the act had written).
	acted := make(chan struct{})
	timer := time.AfterFunc(after, func() { defer close(acted); act() })
	defer func() {
		if timer.Stop() {
			close(acted)
		}
		<-acted
	}()
	r := pingResult{sent: count}
	seen := map[int]bool{}
	var last time.Time
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		m := pingReply.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		usec, _ := strconv.ParseInt((m[2] + "000000")[:6], 10, 64)
		at := time.Unix(sec, usec*1000)
		seq, _ := strconv.Atoi(m[3])
		if seen[seq] {
			continue
		}
		seen[seq] = true
		r.received++
		r.lastReply = max(r.lastReply, seq)
		if !last.IsZero() && at.Sub(last) > r.gap {
			r.gap = at.Sub(last)
		}
		last = at
	}
	cmd.Wait() // exits 1 when packets were lost
	r.lost = r.sent - r.received
	return r
}

// newClusterKey is a random cluster key (32 octets).
func newClusterKey() []byte {
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

// writeClusterKey puts key in node id's state directory as cluster.key, as
// an operator does: nodes with the same key share SA state through etcd.
func writeClusterKey(t *testing.T, dir string, id int, key []byte) {
	t.Helper()
	state := filepath.Join(dir, fmt.Sprintf("n%d-state", id))
	os.MkdirAll(state, 0o700)
	if err := os.WriteFile(filepath.Join(state, "cluster.key"), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
