package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	benchike "ipsecgw/bench/ike"
	"ipsecgw/bench/lab"
	"ipsecgw/cluster"
	"ipsecgw/ike"
	"ipsecgw/test/etcd"
)

// Bounds on the waits of a step; generous, for a loaded machine.
const (
	etcdTimeout      = 30 * time.Second
	placementTimeout = 60 * time.Second
	tunnelTimeout    = 60 * time.Second
	statusTimeout    = 30 * time.Second
	idleWindow       = 2 * time.Second
)

// stepResult is what one step (one number of nodes) measured.
type stepResult struct {
	nodes   int
	owned   []int // groups each node owned (index node-1)
	load    benchike.LoadResult
	ikeSAs  []int         // IKE SAs up on each node after the load, by its own count
	nodeCPU time.Duration // all nodes' CPU time over the setup
	etcdCPU time.Duration // etcd's
	// idle is the nodes' CPU use, in cores, over idleWindow before the
	// load: what a node costs doing nothing but being a member.
	idle  float64
	flows []flow // one per group
}

// traffic is the flows' total, in bits per second.
func (r stepResult) traffic() float64 {
	var sum float64
	for _, f := range r.flows {
		sum += f.bitsPerSec
	}
	return sum
}

// node is one ipsecgw node of a step.
type node struct {
	state string // its state directory
	p     *lab.Process
}

// runStep lays out, starts and measures the cluster of l.nodes nodes, and
// stops and removes everything before it returns.
func runStep(ctx context.Context, o options, l layout, log io.Writer) (res stepResult, err error) {
	res.nodes = l.nodes
	dir := filepath.Join(o.dir, fmt.Sprintf("%d-nodes", l.nodes))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	t, err := newTopology(ctx, l, dir)
	if err != nil {
		return res, err
	}
	// A node slow to hand over thousands of SAs on SIGTERM is killed after
	// the grace period: destroy warns, and the measurement stands.
	defer t.destroy()

	member := etcd.Member{Name: "e1", Addr: etcdAddr}
	e, err := t.start("e1", "etcd", etcd.Args(o.etcd, member, []etcd.Member{member}, filepath.Join(dir, "etcd-data"))...)
	if err != nil {
		return res, err
	}
	t.etcd = e
	if err := e.WaitFor(etcdTimeout, "etcd healthy", func() bool {
		out, _ := t.Exec(ctx, "gen", "curl", "-s", "-m", "1", member.HealthURL())
		return etcd.Healthy(out)
	}); err != nil {
		return res, err
	}

	nodes, err := startNodes(ctx, t, o, l, etcd.Endpoints([]etcd.Member{member}))
	if err != nil {
		return res, err
	}
	if res.owned, err = waitPlaced(ctx, t, l, nodes); err != nil {
		return res, err
	}
	fmt.Fprintf(log, "bench cluster: %d node(s), groups per node %v; %d tunnels, %d in flight...\n", l.nodes, res.owned, o.tunnels, o.inFlight)

	if res.idle, err = idleCPU(ctx, nodes); err != nil {
		return res, err
	}
	if err := measureSetup(ctx, t, o, l, nodes, e, &res); err != nil {
		return res, err
	}
	fmt.Fprintf(log, "bench cluster: %d node(s): %d/%d up in %.2f s (IKE SAs per node %v); traffic, %v per flow...\n",
		l.nodes, res.load.Up, res.load.Tunnels, res.load.Elapsed.Seconds(), res.ikeSAs, o.duration)
	res.flows, err = measureTraffic(ctx, t, o, l)
	return res, err
}

// startNodes starts node 1 with the configuration, waits until it owns
// every group, then starts the others without one: they take the
// cluster's from etcd.
func startNodes(ctx context.Context, t *topology, o options, l layout, endpoints string) ([]*node, error) {
	seed := filepath.Join(t.dir, "cluster.conf")
	if err := os.WriteFile(seed, []byte(l.clusterConfig()), 0o600); err != nil {
		return nil, err
	}
	var key []byte
	if o.saSync {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	var nodes []*node
	for i := 1; i <= l.nodes; i++ {
		n := &node{state: filepath.Join(t.dir, nodeNS(i))}
		if err := os.MkdirAll(n.state, 0o700); err != nil {
			return nil, err
		}
		if key != nil {
			// The same key on every node: SA state in etcd, as a
			// cluster whose tunnels survive a node runs.
			if err := os.WriteFile(filepath.Join(n.state, cluster.ClusterKeyFile), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
				return nil, err
			}
		}
		args := []string{o.binary, "daemon", "--state-dir", n.state, "--socket", filepath.Join(n.state, "api.sock"),
			"--cluster-etcd", endpoints, "--node-id", fmt.Sprint(i)}
		if i == 1 {
			args = append(args, "--config", seed)
		}
		p, err := t.start(nodeNS(i), fmt.Sprintf("ipsecgw node %d", i), args...)
		if err != nil {
			return nil, err
		}
		n.p = p
		nodes = append(nodes, n)
		if i == 1 {
			if err := p.WaitFor(placementTimeout, "node 1 owns every group", func() bool {
				at, _ := vipsOn(ctx, t, 1, l.srgs)
				return len(at) == l.srgs
			}); err != nil {
				return nil, err
			}
		}
	}
	return nodes, nil
}

// vipsOn lists the groups whose virtual IP is on node i's eth1.
func vipsOn(ctx context.Context, t *topology, i, srgs int) ([]int, error) {
	out, err := t.Exec(ctx, nodeNS(i), "ip", "-4", "-o", "addr", "show", "dev", "eth1")
	if err != nil {
		return nil, err
	}
	var at []int
	for k := 1; k <= srgs; k++ {
		if strings.Contains(out, " "+vip(k).String()+"/24 ") {
			at = append(at, k)
		}
	}
	return at, nil
}

// waitPlaced waits until each group's virtual IP is on the node its
// priorities prefer and on no other, and returns how many each node owns.
func waitPlaced(ctx context.Context, t *topology, l layout, nodes []*node) ([]int, error) {
	owned := make([]int, l.nodes)
	var last string
	err := nodes[0].p.WaitFor(placementTimeout, "every group on its preferred node", func() bool {
		for i := range owned {
			owned[i] = 0
		}
		var wrong []string
		for i := 1; i <= l.nodes; i++ {
			at, err := vipsOn(ctx, t, i, l.srgs)
			if err != nil {
				wrong = append(wrong, err.Error())
				continue
			}
			for _, k := range at {
				owned[i-1]++
				if l.preferred(k) != i {
					wrong = append(wrong, fmt.Sprintf("SRG %d on node %d", k, i))
				}
			}
		}
		total := 0
		for _, n := range owned {
			total += n
		}
		last = fmt.Sprintf("groups per node %v, %s", owned, strings.Join(wrong, ", "))
		return len(wrong) == 0 && total == l.srgs
	})
	if err != nil {
		return nil, fmt.Errorf("%w (last: %s)", err, last)
	}
	for _, n := range nodes {
		if n.p.Exited() {
			return nil, fmt.Errorf("%s exited: %v\n%s", n.p.Name, n.p.Err(), n.p.LogTail())
		}
	}
	return owned, nil
}

// idleCPU is the nodes' CPU use, in cores, over idleWindow: a
// measurement window, not a wait for something.
func idleCPU(ctx context.Context, nodes []*node) (float64, error) {
	total := func() (time.Duration, error) {
		var sum time.Duration
		for _, n := range nodes {
			c, err := n.p.CPU()
			if err != nil {
				return 0, err
			}
			sum += c
		}
		return sum, nil
	}
	before, err := total()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	select {
	case <-time.After(idleWindow):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	after, err := total()
	if err != nil {
		return 0, err
	}
	return (after - before).Seconds() / time.Since(start).Seconds(), nil
}

// measureSetup opens the tunnels over every group's gateway at once and
// reads each node's own count of IKE SAs.
func measureSetup(ctx context.Context, t *topology, o options, l layout, nodes []*node, etcd *lab.Process, res *stepResult) error {
	var peers []*ike.Peer
	for k := 1; k <= l.srgs; k++ {
		p, err := benchike.GeneratorPeer(genAddr(k), vip(k), genNet(k), clusterNet(k), l.group)
		if err != nil {
			return err
		}
		peers = append(peers, p)
	}
	etcdBefore, err := etcd.CPU()
	if err != nil {
		return err
	}
	var before time.Duration
	for _, n := range nodes {
		c, err := n.p.CPU()
		if err != nil {
			return err
		}
		before += c
	}
	load := benchike.Load{
		Listen:  func(ap netip.AddrPort) (*net.UDPConn, error) { return t.ListenUDP("gen", ap) },
		Peers:   peers,
		Tunnels: o.tunnels, InFlight: o.inFlight, Engines: o.engines, Timeout: o.timeout,
	}
	var after time.Duration
	whileUp := func() error {
		c, err := etcd.CPU()
		if err != nil {
			return err
		}
		res.etcdCPU = c - etcdBefore
		for _, n := range nodes {
			c, err := n.p.CPU()
			if err != nil {
				return err
			}
			after += c
		}
		// Each node's own count, while the generator still holds
		// every tunnel: where the tunnels landed.
		for _, n := range nodes {
			s, err := n.p.Status(n.state, statusTimeout)
			if err != nil {
				return err
			}
			up, _ := lab.Established(s)
			res.ikeSAs = append(res.ikeSAs, up)
		}
		return nil
	}
	if res.load, err = load.Run(ctx, whileUp); err != nil {
		return err
	}
	res.nodeCPU = after - before
	return nil
}

// measureTraffic starts the traffic peer, waits until each group's tunnel
// carries a ping, and runs one iperf3 flow through every group's tunnel at
// once, each to an iperf3 server on the group's owner.
func measureTraffic(ctx context.Context, t *topology, o options, l layout) ([]flow, error) {
	state := filepath.Join(t.dir, "peer")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(state, "peer.conf")
	if err := os.WriteFile(cfg, []byte(l.peerConfig()), 0o600); err != nil {
		return nil, err
	}
	peer, err := t.start("peer", "ipsecgw traffic peer", o.binary, "daemon", "--config", cfg, "--state-dir", state,
		"--socket", filepath.Join(state, "api.sock"))
	if err != nil {
		return nil, err
	}
	for k := 1; k <= l.srgs; k++ {
		from, to := innerAddr(k, 2).String(), innerAddr(k, 1).String()
		if err := peer.WaitFor(tunnelTimeout, fmt.Sprintf("a ping through group %d's tunnel", k), func() bool {
			_, err := t.Exec(ctx, "peer", "ping", "-c", "1", "-W", "1", "-I", from, to)
			return err == nil
		}); err != nil {
			return nil, err
		}
	}
	for k := 1; k <= l.srgs; k++ {
		ns, addr := nodeNS(l.preferred(k)), innerAddr(k, 1).String()
		srv, err := t.start(ns, fmt.Sprintf("iperf3 server %d", k), "iperf3", "-s", "-1", "-B", addr, "-p", iperfPort)
		if err != nil {
			return nil, err
		}
		if err := srv.WaitFor(10*time.Second, "iperf3 listening on "+addr, func() bool {
			out, _ := t.Exec(ctx, ns, "ss", "-Hltn", "src", addr+":"+iperfPort)
			return strings.Contains(out, addr+":"+iperfPort)
		}); err != nil {
			return nil, err
		}
	}
	flows := make([]flow, l.srgs)
	errs := make([]error, l.srgs)
	var wg sync.WaitGroup
	for k := 1; k <= l.srgs; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bps, retr, err := t.iperfClient(ctx, innerAddr(k, 2), innerAddr(k, 1), o.duration)
			flows[k-1], errs[k-1] = flow{srg: k, bitsPerSec: bps, retransmits: retr}, err
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			return flows, fmt.Errorf("group %d: %w", k+1, err)
		}
	}
	return flows, nil
}
