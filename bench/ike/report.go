package ike

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// results collects the outcome of every tunnel of one run.
type results struct {
	slots chan struct{} // one held per tunnel in flight
	all   chan struct{} // closed when every tunnel is decided
	total int

	cookies atomic.Int64 // tunnels the responder asked for a cookie
	dropped atomic.Int64 // datagrams a full shard queue dropped

	mu        sync.Mutex // guards the fields below
	decided   int
	latencies []time.Duration // of the tunnels that came up
	reasons   map[string]int  // failures by reason
	resends   int             // requests sent again (cookie or retransmission)
	last      time.Time       // when the last tunnel was decided
}

func newResults(total, inFlight int) *results {
	return &results{slots: make(chan struct{}, inFlight), all: make(chan struct{}), total: total,
		latencies: make([]time.Duration, 0, total), reasons: map[string]int{}}
}

// done decides one tunnel (up when reason is empty) and frees its slot.
func (r *results) done(latency time.Duration, reason string, t *tunnel) {
	r.mu.Lock()
	if reason == "" {
		r.latencies = append(r.latencies, latency)
	} else {
		r.reasons[reason]++
	}
	if t != nil {
		r.resends += max(t.initsSent-1, 0) + max(t.authsSent-1, 0)
	}
	r.decided++
	r.last = time.Now()
	if r.decided == r.total {
		close(r.all)
	}
	r.mu.Unlock()
	<-r.slots
}

// row is one line of the report: a responder's run.
type row struct {
	Responder string
	Group     string
	Tunnels   int // attempted
	Up        int
	Failed    int
	Elapsed   time.Duration // first Initiate to last tunnel decided
	P50, P99  time.Duration
	Max       time.Duration
	Cookies   int64
	Resends   int
	Dropped   int64
	// Responder memory: resident set growth over the run per tunnel up
	// (from /proc/PID/status), and Go heap per tunnel when known.
	RSSBefore, RSSAfter int64 // bytes
	HeapPerTunnel       int64 // bytes; -1 when the responder is not in-process
	// CPU time over the run: the responder process's, and this process's
	// (the generator's).
	ResponderCPU, GeneratorCPU time.Duration
	Verified                   string
	Reasons                    map[string]int
}

func (r row) rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Up) / r.Elapsed.Seconds()
}

func (r row) cpuPerTunnel() time.Duration {
	if r.Up == 0 {
		return 0
	}
	return r.ResponderCPU / time.Duration(r.Up)
}

func (r row) memPerTunnel() float64 {
	if r.Up == 0 {
		return 0
	}
	return float64(r.RSSAfter-r.RSSBefore) / float64(r.Up)
}

// summarize turns a finished run's results into its row.
func (r *results) summarize(responder, group string, start time.Time) row {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	out := row{Responder: responder, Group: group, Tunnels: r.total, Up: len(lat), Failed: r.decided - len(lat),
		Elapsed: r.last.Sub(start), P50: percentile(lat, 50), P99: percentile(lat, 99),
		Cookies: r.cookies.Load(), Resends: r.resends, Dropped: r.dropped.Load(), HeapPerTunnel: -1,
		Reasons: map[string]int{}}
	if len(lat) > 0 {
		out.Max = lat[len(lat)-1]
	}
	for k, v := range r.reasons {
		out.Reasons[k] = v
	}
	return out
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// printTable writes the comparison: each ipsecgw row is compared with the
// strongSwan row of the same group.
func printTable(w io.Writer, rows []row, inFlight, shards int) {
	swan := map[string]float64{}
	for _, r := range rows {
		if r.Responder == responderStrongSwan {
			swan[r.Group] = r.rate()
		}
	}
	fmt.Fprintf(w, "\nIKEv2 tunnel setup: PSK (a group with +ecdsa: ECDSA P-256 certificates), AES-256-GCM (IKE and ESP), one Child SA per IKE SA; %d in flight, %d initiator engines\n\n", inFlight, shards)
	fmt.Fprintf(w, "%-10s %-13s %11s %6s %8s %6s %8s %8s %8s %10s %9s %7s %7s\n",
		"responder", "group", "tunnels", "failed", "setup/s", "ratio", "p50", "p99", "max", "mem/tunnel", "cpu/tunnel", "cookies", "resends")
	for _, r := range rows {
		ratio := "-"
		if r.Responder == responderIpsecgw && swan[r.Group] > 0 {
			ratio = fmt.Sprintf("%.2fx", r.rate()/swan[r.Group])
		}
		mem := fmt.Sprintf("%.1f KiB", r.memPerTunnel()/1024)
		// (heap per tunnel is only known for an in-process responder)
		if r.HeapPerTunnel >= 0 {
			mem += fmt.Sprintf(" (heap %.1f KiB)", float64(r.HeapPerTunnel)/1024)
		}
		fmt.Fprintf(w, "%-10s %-13s %11s %6d %8.0f %6s %8s %8s %8s %10s %9s %7d %7d\n",
			r.Responder, r.Group, fmt.Sprintf("%d/%d", r.Up, r.Tunnels), r.Failed, r.rate(), ratio,
			ms(r.P50), ms(r.P99), ms(r.Max), mem, fmt.Sprintf("%dµs", r.cpuPerTunnel().Microseconds()), r.Cookies, r.Resends)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "%s %s: responder RSS %.1f → %.1f MiB, CPU %.2f s (generator %.2f s) in %.2f s; %s\n", r.Responder, r.Group,
			float64(r.RSSBefore)/(1<<20), float64(r.RSSAfter)/(1<<20), r.ResponderCPU.Seconds(), r.GeneratorCPU.Seconds(), r.Elapsed.Seconds(), r.Verified)
		if r.Dropped > 0 {
			fmt.Fprintf(w, "  %d datagrams dropped by the generator's full queues\n", r.Dropped)
		}
		var reasons []string
		for k, v := range r.Reasons {
			reasons = append(reasons, fmt.Sprintf("  %d× %s", v, k))
		}
		sort.Strings(reasons)
		if len(reasons) > 8 {
			reasons = append(reasons[:8], fmt.Sprintf("  ... %d more reasons", len(reasons)-8))
		}
		if len(reasons) > 0 {
			fmt.Fprintln(w, strings.Join(reasons, "\n"))
		}
	}
	fmt.Fprintln(w, "\ngoals (the IKEv2 issue): setup rate at least 3x strongSwan's; under 16 KiB per tunnel.")
	for _, r := range rows {
		if r.Responder != responderIpsecgw {
			continue
		}
		s := swan[r.Group]
		rateOK := s > 0 && r.rate() >= 3*s
		memOK := r.Up > 0 && r.memPerTunnel() < 16*1024
		fmt.Fprintf(w, "ipsecgw %s: rate goal %s, memory goal %s\n", r.Group, verdict(rateOK, s > 0), verdict(memOK, r.Up > 0))
	}
}

func verdict(ok, known bool) string {
	switch {
	case !known:
		return "not measured"
	case ok:
		return "met"
	}
	return "NOT met"
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
