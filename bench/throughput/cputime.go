package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"ipsecgw/bench/lab"
)

// cpuTime is the user plus system CPU time the processes have used so far,
// all threads included.
func cpuTime(ps []*lab.Process) (time.Duration, error) {
	var total time.Duration
	for _, p := range ps {
		d, err := p.CPU()
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

// machineCPU is the first line of /proc/stat: all CPUs' time so far, in
// clock ticks.
type machineCPU struct {
	idle, total uint64 // idle includes iowait
}

// readMachineCPU reads the machine's CPU times. The share of idle time
// during a run says whether the run was CPU-bound: a data plane that
// leaves the cores idle while TCP waits is limited by its latency, not by
// its cost per byte.
func readMachineCPU() (machineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	return parseMachineCPU(string(b))
}

func parseMachineCPU(stat string) (machineCPU, error) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return machineCPU{}, fmt.Errorf("/proc/stat: first line %q is not the cpu line", line)
	}
	var m machineCPU
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("/proc/stat: cpu field %d %q: %w", i+1, f, err)
		}
		// Fields: user nice system idle iowait irq softirq steal guest
		// guest_nice; guest time is already counted in user.
		if i >= 8 {
			break
		}
		m.total += v
		if i == 3 || i == 4 {
			m.idle += v
		}
	}
	return m, nil
}

// idlePercentSince is the idle share of all CPUs between before and m.
func (m machineCPU) idlePercentSince(before machineCPU) float64 {
	total := m.total - before.total
	if total == 0 || m.total < before.total {
		return 0
	}
	return 100 * float64(m.idle-before.idle) / float64(total)
}
