package cluster

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// printTable writes one line per step and the ratios of each step to the
// first (normally 1 node).
func printTable(w io.Writer, o options, rs []stepResult) {
	sync := "SA state in etcd (cluster key)"
	if !o.saSync {
		sync = "no SA state in etcd (no cluster key)"
	}
	fmt.Fprintf(w, "\nScale-out: %d SRGs spread over the nodes by activeness-priority, one etcd; %s; IKEv2 %s PSK AES-256-GCM, %d in flight; one iperf3 TCP flow per SRG for %v\n",
		o.srgs, sync, o.group, o.inFlight, o.duration)
	fmt.Fprintf(w, "%s, %s: every node, etcd, the generator, the peer and iperf3 share these CPUs, so the ratios, not the figures, are the result\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine())
	fmt.Fprintf(w, "%-5s %-9s %11s %8s %6s %7s %7s %23s %11s %6s  %s\n",
		"nodes", "SRGs/node", "tunnels", "setup/s", "ratio", "p50", "p99", "CPU/tunnel nodes+etcd+gen", "traffic", "ratio", "IKE SAs per node")
	base := rs[0]
	for _, r := range rs {
		cpu := "-"
		if up := time.Duration(r.load.Up); up > 0 {
			cpu = fmt.Sprintf("%d+%d+%dµs", (r.nodeCPU / up).Microseconds(), (r.etcdCPU / up).Microseconds(), (r.load.GeneratorCPU / up).Microseconds())
		}
		fmt.Fprintf(w, "%-5d %-9s %11s %8.0f %6s %7s %7s %23s %11s %6s  %s\n",
			r.nodes, ints(r.owned, "/"), fmt.Sprintf("%d/%d", r.load.Up, r.load.Tunnels), r.load.Rate(), ratio(r.load.Rate(), base.load.Rate()),
			ms(r.load.P50), ms(r.load.P99), cpu, gbps(r.traffic()), ratio(r.traffic(), base.traffic()), ints(r.ikeSAs, "/"))
	}
	fmt.Fprintln(w)
	for _, r := range rs[1:] {
		fmt.Fprintf(w, "%d nodes / %d: setup rate %s, traffic %s\n", r.nodes, base.nodes,
			ratio(r.load.Rate(), base.load.Rate()), ratio(r.traffic(), base.traffic()))
	}
	for _, r := range rs {
		fmt.Fprintf(w, "%d node(s): idle before the load, the nodes together used %.0f%% of a CPU\n", r.nodes, 100*r.idle)
	}
	for _, r := range rs {
		var flows []string
		for _, f := range r.flows {
			flows = append(flows, fmt.Sprintf("%d: %s (%d retransmits)", f.srg, gbps(f.bitsPerSec), f.retransmits))
		}
		fmt.Fprintf(w, "%d node(s): flows by SRG %s\n", r.nodes, strings.Join(flows, ", "))
		var reasons []string
		for k, v := range r.load.Reasons {
			reasons = append(reasons, fmt.Sprintf("  %d× %s", v, k))
		}
		sort.Strings(reasons)
		if len(reasons) > 0 {
			fmt.Fprintln(w, strings.Join(reasons, "\n"))
		}
	}
}

// ratio is a / b as "1.23x", or "-" when b is unknown.
func ratio(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func ints(v []int, sep string) string {
	var s []string
	for _, n := range v {
		s = append(s, fmt.Sprint(n))
	}
	return strings.Join(s, sep)
}

func gbps(bps float64) string { return fmt.Sprintf("%.0f Mbit/s", bps/1e6) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// machine names the host, its CPUs and kernel, for the report.
func machine() string {
	host, _ := os.Hostname()
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "Linux"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel += " " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d × %s, %s", host, runtime.NumCPU(), model, kernel)
}
