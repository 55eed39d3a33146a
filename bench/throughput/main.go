// Command throughput measures TCP throughput from h1 to h2 across two
// gateways, for several ways of joining the gateways, all in one run so
// that the figures are comparable on a noisy machine:
//
//	h1 ── gw1 ══ gw2 ── h2        (network namespaces joined by veth pairs)
//
//	setup         gw1 ══ gw2
//	plain         kernel routing over the veth, no tunnel (the ceiling)
//	ipsecgw-xdp     ipsecgw ↔ ipsecgw, manual AES-256-GCM SA, raw ESP on AF_XDP rings
//	ipsecgw-packet-ring  the same on AF_PACKET TPACKET_V3 rings
//	ipsecgw-socket  the same on raw sockets (data-plane socket)
//	ipsecgw-udp     the same SA, ESP in UDP (port 4500)
//	ipsecgw-udp-xdp the same SA, ESP in UDP on AF_XDP rings
//	ipsecgw-udp-packet-ring  the same SA, ESP in UDP on AF_PACKET rings
//	wireguard-go  wireguard-go ↔ wireguard-go (the userspace data plane to beat)
//	strongswan    strongSwan 5.9 ↔ strongSwan 5.9, userspace ESP (kernel-libipsec), ESP in UDP 4500
//
// Each setup runs iperf3 with one flow and with several parallel flows;
// the ipsecgw setups also carry a UDP packet generator's packets of a few
// sizes (pps.go).
// Every figure is checked against the gateways' own counters (ipsecgw's
// status file, wireguard-go's UAPI, the veth's statistics): the bytes
// iperf3 reports must have crossed the tunnel, so a misrouted run fails
// instead of reporting a number. The CPU time the gateway processes spend
// per gigabyte is reported beside the throughput (kernel forwarding has no
// process to charge, so plain shows none). With -ipsecgw-b, every ipsecgw
// setup also runs a second binary in each round, the two back to back in
// alternating order, and each round's ratios of the two are printed: an
// A/B of a change in one run (ab.go). With -profile, perf samples the
// whole machine during each iperf3 run and the report says where the CPU
// went, per GB, by category: crypto, the kernel's parts, the gateways' own
// code, the Go runtime, the TCP ends, idle (profile.go).
//
// Needs root (network namespaces); without it the program says so loudly
// and exits 0. Namespaces and processes are removed on every exit path,
// including Ctrl-C; a run killed outright leaves namespaces that the next
// run removes (see bench/lab).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line settings.
type options struct {
	duration  time.Duration // measured part of each iperf3 run
	omit      time.Duration // slow start, left out of the figure
	flows     []int
	setups    []string
	rounds    int
	jsonPath  string
	ipsecgw   string // binary; built when empty
	ipsecgwB  string // a second ipsecgw binary to measure beside it (ab.go)
	wireguard string // binary; built when empty
	deadline  time.Duration
	ppsSizes  []int // packet sizes of the packet-rate runs (ipsecgw setups)
	ppsTime   int   // seconds of each packet-rate run
	// congestion is iperf3's -C (TCP congestion control); empty: h1's
	// default, which is the machine's (net.ipv4.tcp_congestion_control).
	congestion string
	profile    bool // sample the machine with perf during each run (profile.go)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == generatorFlag {
		if err := runGenerator(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "generator:", err)
			os.Exit(1)
		}
		return
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "########################################################################")
		fmt.Fprintln(os.Stderr, "## SKIPPED: bench/throughput needs root (network namespaces, TUN).")
		fmt.Fprintln(os.Stderr, "## Run `make bench` or `go run ./bench/throughput` as root.")
		fmt.Fprintln(os.Stderr, "########################################################################")
		return
	}
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "throughput:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "throughput: interrupted; namespaces and processes removed")
		}
		fmt.Fprintln(os.Stderr, "throughput: FAILED:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("throughput", flag.ContinueOnError)
	o := options{}
	fs.DurationVar(&o.duration, "time", 5*time.Second, "measured time of each iperf3 run (whole seconds)")
	fs.DurationVar(&o.omit, "omit", time.Second, "time omitted at the start of each run (TCP slow start)")
	flows := fs.String("flows", "1,4", "comma-separated numbers of parallel TCP flows")
	setups := fs.String("setups", strings.Join(setupNames, ","), "comma-separated setups to measure, from: "+strings.Join(setupNames, ", "))
	fs.IntVar(&o.rounds, "rounds", 1, "rounds over all setups; the median of the rounds is reported")
	fs.StringVar(&o.jsonPath, "json", filepath.Join(os.TempDir(), "ipsecgw-throughput.json"), "where to write the results as JSON")
	fs.StringVar(&o.ipsecgw, "ipsecgw", "", "ipsecgw binary (default: build ./cmd/ipsecgw)")
	fs.StringVar(&o.ipsecgwB, "ipsecgw-b", "", "a second ipsecgw binary: every ipsecgw setup is also measured with it, in the same round, the order alternating (its rows are SETUP"+bSuffix+")")
	fs.StringVar(&o.wireguard, "wireguard-go", "", "wireguard-go binary (default: build golang.zx2c4.com/wireguard from the module cache)")
	fs.DurationVar(&o.deadline, "deadline", 6*time.Minute, "the whole run is stopped after this long")
	pps := fs.String("pps", "64,1400", "comma-separated packet sizes for the packet-rate runs through the ipsecgw setups (empty: none)")
	fs.IntVar(&o.ppsTime, "pps-time", 3, "seconds of each packet-rate run")
	fs.StringVar(&o.congestion, "congestion", "", "TCP congestion control for iperf3 (-C), e.g. cubic or bbr (default: the machine's)")
	fs.BoolVar(&o.profile, "profile", false, "sample all CPUs with perf during each iperf3 run and print where the CPU went, per GB (needs perf)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.duration < time.Second || o.duration%time.Second != 0 || o.omit < 0 || o.omit%time.Second != 0 {
		return o, fmt.Errorf("-time %v and -omit %v: want whole seconds, -time at least 1s", o.duration, o.omit)
	}
	if o.rounds < 1 || o.rounds > 10 {
		return o, fmt.Errorf("-rounds %d: want 1 to 10", o.rounds)
	}
	for _, f := range strings.Split(*flows, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 32 {
			return o, fmt.Errorf("-flows %q: %q is not a number of flows from 1 to 32", *flows, f)
		}
		o.flows = append(o.flows, n)
	}
	for _, f := range strings.Split(*pps, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 64 || n > 1500 {
			return o, fmt.Errorf("-pps %q: %q is not a packet size from 64 to 1500", *pps, f)
		}
		o.ppsSizes = append(o.ppsSizes, n)
	}
	if o.congestion != "" && !validCongestion(o.congestion) {
		return o, fmt.Errorf("-congestion %q: want a congestion control name such as cubic or bbr", o.congestion)
	}
	if o.ppsTime < 1 || o.ppsTime > 30 {
		return o, fmt.Errorf("-pps-time %d: want 1 to 30", o.ppsTime)
	}
	for _, s := range strings.Split(*setups, ",") {
		s = strings.TrimSpace(s)
		if !knownSetup(s) {
			return o, fmt.Errorf("-setups: unknown setup %q; known: %s", s, strings.Join(setupNames, ", "))
		}
		o.setups = append(o.setups, s)
	}
	return o, nil
}

// run builds the binaries, builds the topology and measures every setup.
func run(ctx context.Context, o options) error {
	ctx, cancel := context.WithTimeout(ctx, o.deadline)
	defer cancel()
	for _, tool := range []string{"ip", "iperf3", "ping"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (make deps installs the test tools): %w", tool, err)
		}
	}
	if o.profile {
		if err := checkPerf(ctx); err != nil {
			return err
		}
	}
	work, err := os.MkdirTemp("", "ipsecgw-throughput-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bins, err := buildBinaries(ctx, o, work)
	if err != nil {
		return err
	}
	topo, err := newTopology(ctx)
	if err != nil {
		return err
	}
	defer topo.Destroy()
	congestion, err := topo.congestion(ctx, o.congestion)
	if err != nil {
		return err
	}

	started := time.Now()
	var samples []sample
	var rates []ppsRow
	for round := 1; round <= o.rounds; round++ {
		for _, setupName := range o.setups {
			for _, name := range o.variants(setupName, round) {
				s := newSetup(name, work, bins)
				got, pps, err := measure(ctx, topo, s, o, work)
				for i := range got {
					got[i].Round = round
				}
				samples = append(samples, got...)
				rates = append(rates, pps...)
				if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return fmt.Errorf("the run took longer than -deadline %v: %w", o.deadline, err)
				}
				if err != nil {
					return fmt.Errorf("round %d, %s: %w", round, name, err)
				}
			}
		}
	}
	rep := newReport(o, samples, time.Since(started))
	rep.PPS = rates
	rep.Congestion = congestion
	rep.print(os.Stdout)
	if err := rep.write(o.jsonPath); err != nil {
		return err
	}
	fmt.Printf("\nresults written to %s\n", o.jsonPath)
	return nil
}

// binaries are the gateway programs under test.
type binaries struct {
	ipsecgw, wireguard string
	ipsecgwB           string // -ipsecgw-b, or empty
}

func buildBinaries(ctx context.Context, o options, dir string) (binaries, error) {
	b := binaries{ipsecgw: o.ipsecgw, wireguard: o.wireguard, ipsecgwB: o.ipsecgwB}
	if b.ipsecgwB != "" {
		if _, err := os.Stat(b.ipsecgwB); err != nil {
			return b, fmt.Errorf("-ipsecgw-b: %w", err)
		}
	}
	for _, want := range []struct {
		path *string
		pkg  string
		out  string
	}{
		{&b.ipsecgw, "ipsecgw/cmd/ipsecgw", "ipsecgw"},
		{&b.wireguard, "golang.zx2c4.com/wireguard", "wireguard-go"},
	} {
		if *want.path != "" {
			continue
		}
		*want.path = filepath.Join(dir, want.out)
		bctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		out, err := exec.CommandContext(bctx, "go", "build", "-o", *want.path, want.pkg).CombinedOutput()
		cancel()
		if err != nil {
			return b, fmt.Errorf("go build %s (run from inside the ipsecgw module, as make bench does, or pass the binary): %w\n%s", want.pkg, err, out)
		}
	}
	return b, nil
}

// measure brings one setup up, runs iperf3 for every number of flows and
// takes the setup down again, whatever happened.
func measure(ctx context.Context, topo *topology, s setup, o options, logDir string) (samples []sample, pps []ppsRow, err error) {
	fmt.Fprintf(os.Stderr, "== %s: up\n", s.name())
	if err := s.up(ctx, topo); err != nil {
		return nil, nil, errors.Join(err, s.down())
	}
	defer func() { err = errors.Join(err, s.down()) }()
	if err := topo.ping(ctx, "h1", h2Addr); err != nil {
		return nil, nil, err
	}
	for _, flows := range o.flows {
		fmt.Fprintf(os.Stderr, "== %s: iperf3 -P %d -t %d -O %d\n", s.name(), flows, int(o.duration.Seconds()), int(o.omit.Seconds()))
		got, err := measureOnce(ctx, topo, s, o, logDir, flows)
		if err != nil {
			return samples, nil, fmt.Errorf("%d flows: %w", flows, err)
		}
		samples = append(samples, got)
	}
	if g, ok := s.(*ipsecgw); ok && len(o.ppsSizes) > 0 {
		pps, err = measurePPS(ctx, topo, g, o.ppsSizes, o.ppsTime)
	}
	return samples, pps, err
}

// measureOnce is one iperf3 run, bracketed by the gateways' counters and
// CPU times.
func measureOnce(ctx context.Context, topo *topology, s setup, o options, logDir string, flows int) (sample, error) {
	before, err := s.carried(ctx)
	if err != nil {
		return sample{}, err
	}
	cpuBefore, err := cpuTime(s.processes())
	if err != nil {
		return sample{}, err
	}
	idleBefore, err := readMachineCPU()
	if err != nil {
		return sample{}, err
	}
	var prof *profiler
	if o.profile {
		prof = startProfile(ctx, profilePath(logDir, s.name(), flows), o.omit, o.duration)
	}
	res, err := runIperf(ctx, topo, logDir, flows, o.duration, o.omit, o.congestion)
	var profiled *profile
	if prof != nil {
		var pids []int
		for _, p := range s.processes() {
			pids = append(pids, p.PID)
		}
		var perr error
		if profiled, perr = prof.result(ctx, pids); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return sample{}, err
	}
	cpuAfter, err := cpuTime(s.processes())
	if err != nil {
		return sample{}, err
	}
	idleAfter, err := readMachineCPU()
	if err != nil {
		return sample{}, err
	}
	after, err := s.carried(ctx)
	if err != nil {
		return sample{}, err
	}
	sent, received := after.sent-before.sent, after.received-before.received
	if sent < res.received || received < res.received {
		return sample{}, fmt.Errorf("iperf3 says %d bytes arrived, but gw1 sent only %d and gw2 received only %d through the %s path: the traffic took another way",
			res.received, sent, received, s.name())
	}
	smp := sample{Setup: s.name(), Flows: flows, Gbps: res.bitsPerSecond / 1e9, Bytes: res.received,
		Retransmits: res.retransmits, TunnelSent: sent, TunnelReceived: received,
		IdlePercent: idleAfter.idlePercentSince(idleBefore), Profile: profiled}
	if len(s.processes()) > 0 && res.sent > 0 {
		cpu := (cpuAfter - cpuBefore).Seconds()
		smp.GatewayCPUSeconds = cpu
		smp.CPUSecondsPerGB = cpu / (float64(res.sent) / 1e9)
	}
	return smp, nil
}
