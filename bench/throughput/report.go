package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// sample is one iperf3 run.
type sample struct {
	Setup             string   `json:"setup"`
	Flows             int      `json:"flows"`
	Gbps              float64  `json:"gbit_per_s"`
	Bytes             uint64   `json:"bytes"` // received, omitted start left out
	Retransmits       int      `json:"retransmits"`
	TunnelSent        uint64   `json:"path_bytes_sent"`     // counted by gw1's side of the path
	TunnelReceived    uint64   `json:"path_bytes_received"` // counted by gw2's side of the path
	GatewayCPUSeconds float64  `json:"gateway_cpu_s,omitempty"`
	CPUSecondsPerGB   float64  `json:"gateway_cpu_s_per_gb,omitempty"` // both gateways, per GB of TCP payload
	IdlePercent       float64  `json:"machine_idle_percent"`           // of all CPUs, during the run
	Round             int      `json:"round"`
	Profile           *profile `json:"profile,omitempty"` // with -profile (profile.go)
}

// row is one setup and number of flows: the median of its rounds, and
// ratios to the plain and wireguard-go rows with the same flows (0: that
// setup was not measured).
type row struct {
	Setup           string   `json:"setup"`
	Flows           int      `json:"flows"`
	Gbps            float64  `json:"gbit_per_s"`
	VsPlain         float64  `json:"ratio_to_plain,omitempty"`
	VsWireguard     float64  `json:"ratio_to_wireguard_go,omitempty"`
	CPUSecondsPerGB float64  `json:"gateway_cpu_s_per_gb,omitempty"`
	Retransmits     int      `json:"retransmits"`
	IdlePercent     float64  `json:"machine_idle_percent"`
	Samples         []sample `json:"samples"`
}

// report is the whole run, as printed and as written to JSON.
type report struct {
	Date        time.Time `json:"date"`
	Kernel      string    `json:"kernel"`
	CPU         string    `json:"cpu"`
	CPUs        int       `json:"cpus"`
	GoVersion   string    `json:"go_version"`
	TimeSeconds int       `json:"iperf3_time_s"`
	OmitSeconds int       `json:"iperf3_omit_s"`
	Rounds      int       `json:"rounds"`
	Congestion  string    `json:"tcp_congestion_control"`
	Elapsed     float64   `json:"elapsed_s"`
	Rows        []row     `json:"results"`
	PPS         []ppsRow  `json:"packets_per_second,omitempty"`
	Pairs       []pair    `json:"b_over_a,omitempty"` // with -ipsecgw-b (ab.go)
}

func newReport(o options, samples []sample, elapsed time.Duration) *report {
	r := &report{Date: time.Now().UTC(), Kernel: firstLine("/proc/sys/kernel/osrelease", ""),
		CPU: firstLine("/proc/cpuinfo", "model name"), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		TimeSeconds: int(o.duration.Seconds()), OmitSeconds: int(o.omit.Seconds()), Rounds: o.rounds, Elapsed: elapsed.Seconds()}
	type key struct {
		setup string
		flows int
	}
	groups := map[key][]sample{}
	for _, s := range samples {
		k := key{s.Setup, s.Flows}
		groups[k] = append(groups[k], s)
	}
	medians := map[key]float64{}
	for _, name := range o.rowNames() {
		for _, flows := range o.flows {
			g := groups[key{name, flows}]
			if len(g) == 0 {
				continue
			}
			rw := row{Setup: name, Flows: flows, Samples: g}
			rw.Gbps = median(g, func(s sample) float64 { return s.Gbps })
			rw.CPUSecondsPerGB = median(g, func(s sample) float64 { return s.CPUSecondsPerGB })
			rw.Retransmits = int(median(g, func(s sample) float64 { return float64(s.Retransmits) }))
			rw.IdlePercent = median(g, func(s sample) float64 { return s.IdlePercent })
			medians[key{name, flows}] = rw.Gbps
			r.Rows = append(r.Rows, rw)
		}
	}
	for i := range r.Rows {
		rw := &r.Rows[i]
		if base := medians[key{"plain", rw.Flows}]; base > 0 {
			rw.VsPlain = rw.Gbps / base
		}
		if base := medians[key{"wireguard-go", rw.Flows}]; base > 0 {
			rw.VsWireguard = rw.Gbps / base
		}
	}
	r.Pairs = pairs(samples)
	return r
}

func median(g []sample, f func(sample) float64) float64 {
	v := make([]float64, len(g))
	for i, s := range g {
		v[i] = f(s)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\niperf3 TCP h1 → h2 (congestion control %s), -t %d -O %d, %d round(s), %d CPUs (%s), Linux %s\n\n",
		r.Congestion, r.TimeSeconds, r.OmitSeconds, r.Rounds, r.CPUs, r.CPU, r.Kernel)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "setup\tflows\tGbit/s\t× plain\t× wireguard-go\tretransmits\tgateway CPU s/GB\tmachine idle %\t")
	ratio := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", v)
	}
	for _, rw := range r.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\t%d\t%s\t%.0f\t\n", rw.Setup, rw.Flows, rw.Gbps,
			ratio(rw.VsPlain), ratio(rw.VsWireguard), rw.Retransmits, ratio(rw.CPUSecondsPerGB), rw.IdlePercent)
	}
	tw.Flush()
	printPairs(w, r.Pairs)
	printProfiles(w, r.Rows, r.CPUs)
	printPPS(w, r.PPS)
}

func (r *report) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// firstLine returns the first line of file starting with prefix (all of
// it, or the value after "prefix :" when prefix is set).
func firstLine(file, prefix string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		if prefix == "" {
			return strings.TrimSpace(line)
		}
		if _, v, ok := strings.Cut(line, ":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
