package cluster

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ipsecgw/bench/lab"
	"ipsecgw/test/etcd"
)

// options are the command-line settings.
type options struct {
	nodes    []int
	srgs     int
	group    string
	tunnels  int
	inFlight int
	engines  int
	timeout  time.Duration
	duration time.Duration // of each iperf3 flow
	saSync   bool
	dir      string
	binary   string
	etcd     string
}

// Main is `ipsecgw bench cluster`: it parses args, runs a step per number
// of nodes, and prints the table. Without root it says so loudly and
// returns 0, as the other benchmarks do.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	nodes := fs.String("nodes", "1,2,3", "cluster sizes to measure, in order (at most 3 nodes)")
	fs.IntVar(&o.srgs, "srgs", 6, "services redundancy groups, spread round-robin over the nodes by activeness-priority")
	fs.StringVar(&o.group, "group", "group19", "IKE key exchange group (group19: ECP-256, group31: Curve25519)")
	fs.IntVar(&o.tunnels, "n", 6000, "IKEv2 tunnels (IKE SA and one Child SA) to set up per step, round-robin over the groups")
	fs.IntVar(&o.inFlight, "inflight", 64, "tunnels being set up at once")
	fs.IntVar(&o.engines, "engines", runtime.NumCPU(), "initiator engines in the generator")
	fs.DurationVar(&o.timeout, "timeout", 40*time.Second, "a tunnel not up within this is a failure")
	fs.DurationVar(&o.duration, "t", 10*time.Second, "duration of the iperf3 flows (one per group, all at once), after a first second left out")
	fs.BoolVar(&o.saSync, "sa-sync", true, "give the nodes a cluster key, so that they keep their SA state in etcd (as a cluster whose tunnels survive a node does)")
	lab.WorkFlags(fs, &o.dir, &o.binary, "the nodes and the peer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	if o.nodes, err = parseNodes(*nodes); err != nil {
		fmt.Fprintf(stderr, "bench cluster: -nodes: %v\n", err)
		return 2
	}
	for _, n := range o.nodes {
		if err := (layout{nodes: n, srgs: o.srgs, group: o.group}).check(); err != nil {
			fmt.Fprintf(stderr, "bench cluster: %v\n", err)
			return 2
		}
	}
	if o.tunnels < 1 || o.inFlight < 1 || o.engines < 1 || o.duration < time.Second {
		fmt.Fprintln(stderr, "bench cluster: -n, -inflight and -engines must be at least 1, -t at least 1s")
		return 2
	}
	if lab.NotRoot(stderr, "ipsecgw bench cluster", "`make bench-cluster` or `ipsecgw bench cluster`") {
		return 0
	}
	if o.etcd, err = etcd.Binary(); err != nil {
		fmt.Fprintf(stderr, "bench cluster: %v\n", err)
		return 1
	}
	done, err := lab.Work("cluster", &o.dir, &o.binary)
	if err != nil {
		fmt.Fprintf(stderr, "bench cluster: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var results []stepResult
	for _, n := range o.nodes {
		r, err := runStep(ctx, o, layout{nodes: n, srgs: o.srgs, group: o.group}, stderr)
		if err != nil {
			if len(results) > 0 {
				printTable(stdout, o, results)
			}
			fmt.Fprintf(stderr, "bench cluster: %d node(s): %v\n(logs kept in %s)\n", n, err, o.dir)
			return 1
		}
		results = append(results, r)
	}
	printTable(stdout, o, results)
	done(true)
	return 0
}

// parseNodes reads -nodes: cluster sizes, comma-separated, each 1 to 3.
func parseNodes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxNodes {
			return nil, fmt.Errorf("%q: want cluster sizes from 1 to %d, comma-separated", f, maxNodes)
		}
		out = append(out, n)
	}
	return out, nil
}
