package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// With -profile, each iperf3 run is also sampled by perf across the whole
// machine (perf record -a -g on the software clock, which works in virtual
// machines that have no hardware counters), and every sample is put in
// one category by its call stack. The gateways' own CPU time misses what
// decides throughput on two shared cores: the kernel forwarding and the
// receiving host's TCP that a TUN write runs, the TCP ends themselves, and
// how much of the machine sat idle. The categories answer "what would
// have to get cheaper", in CPU seconds per GB moved, beside wireguard-go's
// in the same run.

// profileHz is the sampling rate per CPU: each sample stands for 1/profileHz
// seconds of one CPU.
const profileHz = 999

// The categories, in the order they are printed. A sample goes to the
// first whose rule its stack meets (classify).
const (
	catCrypto    = "crypto (AEAD)"
	catSoftirq   = "kernel: receive, forward, TCP (softirq)"
	catTUNWrite  = "kernel: TUN write"
	catTUNRead   = "kernel: TUN read"
	catOuterSend = "kernel: outer send"
	catOuterRecv = "kernel: outer receive"
	catRuntime   = "gateway: Go runtime (scheduler, GC)"
	catGwKernel  = "gateway: other kernel (syscalls, poll)"
	catGwUser    = "gateway: own code"
	catEnds      = "iperf3 (the TCP ends)"
	catOther     = "other processes"
	catIdle      = "idle"
)

var categories = []string{catCrypto, catSoftirq, catTUNWrite, catTUNRead, catOuterSend, catOuterRecv,
	catRuntime, catGwKernel, catGwUser, catEnds, catOther, catIdle}

// Frames that mark a category, matched as substrings of the symbol.
var (
	// Go's AES-GCM (crypto/...), x/crypto's ChaCha20-Poly1305
	// (wireguard-go), strongSwan's and OpenSSL's AES-GCM.
	cryptoFrames = []string{"crypto/", "chacha", "poly1305", "aesni", "gcm_", "_gcm", "ghash"}
	// The kernel's receive path, whoever runs it: a TUN write or a veth
	// send runs the next hop's receive, forwarding and TCP in the
	// writer's own context; idle CPUs run it from interrupts.
	softirqFrames  = []string{"net_rx_action", "process_backlog", "__netif_receive_skb", "netif_receive_skb_list", "ip_forward", "tcp_v4_rcv", "tcp_v6_rcv", "handle_softirqs"}
	tunWriteFrames = []string{"tun_get_user", "tun_chr_write_iter"}
	tunReadFrames  = []string{"tun_do_read", "tun_chr_read_iter"}
	sendFrames     = []string{"udp_sendmsg", "udpv6_sendmsg", "raw_sendmsg", "rawv6_sendmsg", "packet_sendmsg", "tpacket_snd", "xsk_sendmsg", "xsk_generic_xmit", "__sys_sendmmsg", "__sys_sendto"}
	recvFrames     = []string{"udp_recvmsg", "udpv6_recvmsg", "raw_recvmsg", "rawv6_recvmsg", "packet_recvmsg", "xsk_recvmsg", "__sys_recvmmsg", "__sys_recvmsg", "__sys_recvfrom"}
	runtimeFrames  = []string{"runtime.schedule", "runtime.findRunnable", "runtime.sysmon", "runtime.mcall", "runtime.park_m", "runtime.netpoll", "runtime.futex", "runtime.notesleep", "runtime.stopm", "runtime.gcBgMarkWorker", "runtime.gcDrain", "runtime.bgsweep", "runtime.bgscavenge", "runtime.mallocgc", "runtime.usleep", "runtime.osyield", "epoll_pwait", "sys_futex", "sys_nanosleep", "sys_sched_yield"}
)

// profile is one run's samples by category and by gateway process.
type profile struct {
	Samples map[string]int `json:"samples"` // by category
	Total   int            `json:"total"`
	// Gateways are each gateway process's samples, in the order of the
	// PIDs given (gw1, gw2): one near Total/CPUs was a whole CPU.
	Gateways []int `json:"gateway_samples"`
	Hz       int   `json:"hz"`
}

// seconds is the CPU time category c took.
func (p *profile) seconds(c string) float64 { return float64(p.Samples[c]) / float64(p.Hz) }

// classify puts one sample, its stack leaf first, in a category. gateway
// says the sample's process is one of the setup's gateways, pid is its
// process ID (0 for the kernel's idle task), comm its command name.
func classify(pid int, comm string, gateway bool, stack []frame) string {
	if gateway && anyFrame(stack, cryptoFrames) {
		return catCrypto
	}
	if anyFrame(stack, softirqFrames) {
		return catSoftirq
	}
	switch {
	case pid == 0:
		return catIdle
	case comm == "iperf3":
		return catEnds
	case !gateway:
		return catOther
	case anyFrame(stack, tunWriteFrames):
		return catTUNWrite
	case anyFrame(stack, tunReadFrames):
		return catTUNRead
	case anyFrame(stack, sendFrames):
		return catOuterSend
	case anyFrame(stack, recvFrames):
		return catOuterRecv
	case anyFrame(stack, runtimeFrames):
		return catRuntime
	case len(stack) > 0 && stack[0].kernel:
		return catGwKernel
	}
	return catGwUser
}

// frame is one entry of a sample's call stack.
type frame struct {
	sym    string
	kernel bool // the address is the kernel's
}

func anyFrame(stack []frame, marks []string) bool {
	for _, f := range stack {
		for _, m := range marks {
			if strings.Contains(f.sym, m) {
				return true
			}
		}
	}
	return false
}

// profiler is perf recording the whole machine.
type profiler struct {
	cmd  *exec.Cmd
	path string
	done chan error
}

// checkPerf says whether perf can sample the machine here.
func checkPerf(ctx context.Context) error {
	if _, err := exec.LookPath("perf"); err != nil {
		return fmt.Errorf("-profile needs perf (Debian: apt-get install linux-perf): %w", err)
	}
	out, err := exec.CommandContext(ctx, "perf", "record", "-e", "cpu-clock", "-a", "-o", "/dev/null", "--", "true").CombinedOutput()
	if err != nil {
		return fmt.Errorf("-profile: perf record -a does not work here: %v\n%s", err, out)
	}
	return nil
}

// startProfile has perf sample all CPUs for d, starting after delay (the
// part iperf3 omits).
func startProfile(ctx context.Context, path string, delay, d time.Duration) *profiler {
	p := &profiler{path: path, done: make(chan error, 1)}
	go func() {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			p.done <- ctx.Err()
			return
		}
		cmd := exec.CommandContext(ctx, "perf", "record", "-e", "cpu-clock", "-F", strconv.Itoa(profileHz), "-a", "-g", "-q",
			"-o", path, "--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("perf record: %v\n%s", err, out)
		}
		p.done <- err
	}()
	return p
}

// result waits for the recording and reads it, the gateway processes
// being those with the given PIDs.
func (p *profiler) result(ctx context.Context, gateways []int) (*profile, error) {
	if err := <-p.done; err != nil {
		return nil, err
	}
	defer os.Remove(p.path)
	cmd := exec.CommandContext(ctx, "perf", "script", "-i", p.path, "-F", "comm,pid,tid,ip,sym")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf script: %w", err)
	}
	prof, perr := readProfile(out, gateways)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("perf script: %v\n%s", err, stderr.String())
	}
	return prof, perr
}

// readProfile reads perf script's output (-F comm,pid,tid,ip,sym): a line
// "COMM PID/TID" for each sample, then its stack leaf first, one frame a
// line: a tab, the address in hex, the symbol.
func readProfile(r io.Reader, gateways []int) (*profile, error) {
	gateway := map[int]int{} // PID → index in gateways, plus one
	for i, pid := range gateways {
		gateway[pid] = i + 1
	}
	prof := &profile{Samples: map[string]int{}, Gateways: make([]int, len(gateways)), Hz: profileHz}
	var (
		have  bool
		pid   int
		comm  string
		stack []frame
	)
	finish := func() {
		if !have {
			return
		}
		g := gateway[pid]
		prof.Samples[classify(pid, comm, g > 0, stack)]++
		prof.Total++
		if g > 0 {
			prof.Gateways[g-1]++
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		if strings.HasPrefix(text, "\t") {
			addr, sym, _ := strings.Cut(strings.TrimSpace(text), " ")
			a, err := strconv.ParseUint(addr, 16, 64)
			if err != nil {
				return nil, fmt.Errorf("perf script line %d: frame %q: address %q is not hex", line, text, addr)
			}
			stack = append(stack, frame{sym: strings.TrimSpace(sym), kernel: a >= 0xffff800000000000})
			continue
		}
		finish()
		fields := strings.Fields(text)
		if len(fields) < 2 {
			return nil, fmt.Errorf("perf script line %d: %q is neither a sample's first line (COMM PID/TID) nor a frame", line, text)
		}
		p, t, ok := strings.Cut(fields[len(fields)-1], "/")
		var err1, err2 error
		pid, err1 = strconv.Atoi(p)
		_, err2 = strconv.Atoi(t)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("perf script line %d: %q does not end in PID/TID", line, text)
		}
		comm = strings.Join(fields[:len(fields)-1], " ")
		stack, have = stack[:0], true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("perf script: %w", err)
	}
	finish()
	if prof.Total == 0 {
		return nil, fmt.Errorf("perf recorded no samples")
	}
	return prof, nil
}

// profilePath is where a run's recording is kept until it is read.
func profilePath(dir, setup string, flows int) string {
	return filepath.Join(dir, fmt.Sprintf("perf-%s-%d.data", setup, flows))
}

// printProfiles prints, for each row that was profiled, the CPU seconds
// each category took per GB that arrived (the median of the rounds), the
// machine's idle share, and how busy each gateway process was.
func printProfiles(w io.Writer, rows []row, cpus int) {
	var cols []row
	for _, rw := range rows {
		if len(rw.Samples) > 0 && rw.Samples[0].Profile != nil {
			cols = append(cols, rw)
		}
	}
	if len(cols) == 0 {
		return
	}
	fmt.Fprintf(w, "\nwhere the machine's CPU went (perf, all CPUs, %d Hz), CPU seconds per GB that arrived, median of the rounds:\n", profileHz)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, c := range cols {
		fmt.Fprintf(tw, "%s/%d\t", c.Setup, c.Flows)
	}
	fmt.Fprintln(tw)
	line := func(label string, f func(s sample) float64, format string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, c := range cols {
			fmt.Fprintf(tw, format+"\t", median(c.Samples, f))
		}
		fmt.Fprintln(tw)
	}
	perGB := func(s sample, seconds float64) float64 {
		if s.Bytes == 0 {
			return 0
		}
		return seconds / (float64(s.Bytes) / 1e9)
	}
	for _, cat := range categories {
		if cat == catIdle {
			continue
		}
		line(cat, func(s sample) float64 { return perGB(s, s.Profile.seconds(cat)) }, "%.2f")
	}
	line("all but idle", func(s sample) float64 {
		return perGB(s, float64(s.Profile.Total-s.Profile.Samples[catIdle])/float64(s.Profile.Hz))
	}, "%.2f")
	line("idle, % of the machine", func(s sample) float64 {
		return 100 * float64(s.Profile.Samples[catIdle]) / float64(s.Profile.Total)
	}, "%.0f")
	for i := range 2 {
		line(fmt.Sprintf("gw%d, %% of a CPU", i+1), func(s sample) float64 {
			if i >= len(s.Profile.Gateways) {
				return 0
			}
			return 100 * float64(s.Profile.Gateways[i]) * float64(cpus) / float64(s.Profile.Total)
		}, "%.0f")
	}
	tw.Flush()
	// A run that shared the machine with other work measured less than
	// the setup can do, and the ratios of its round are off by as much.
	for _, c := range cols {
		for _, s := range c.Samples {
			if share := 100 * float64(s.Profile.Samples[catOther]) / float64(s.Profile.Total); share >= disturbedPercent {
				fmt.Fprintf(w, "WARNING: %s/%d round %d: other processes took %.0f %% of the machine; that round's figures are not comparable\n",
					c.Setup, c.Flows, s.Round, share)
			}
		}
	}
}

// disturbedPercent is the share of the machine other processes may take
// during a run before the report warns.
const disturbedPercent = 5
