package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a process has to exit after SIGTERM before it is
// killed.
const stopGrace = 10 * time.Second

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat;
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// process is a long-running program inside a namespace (a gateway or an
// iperf3 server), stopped by its PID.
type process struct {
	name string
	pid  int
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, valid after done
}

// startProcess starts args in namespace ns, output to logPath. The process
// gets its own process group, so a Ctrl-C reaches only this program, which
// stops it in order; should this program die, the kernel sends it SIGTERM.
func startProcess(t *topology, ns, name, logPath string, args ...string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := t.command(ns, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s in %s: %w", name, ns, err)
	}
	p := &process{name: name, pid: cmd.Process.Pid, log: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process, unless it has already exited.
func (p *process) signal(sig syscall.Signal) error {
	if p.exited() {
		return fmt.Errorf("%s (PID %d) has exited: %v\n%s", p.name, p.pid, p.err, p.logTail())
	}
	return syscall.Kill(p.pid, sig)
}

// stop sends SIGTERM, waits up to stopGrace, then SIGKILL. An exit other
// than a clean one after SIGTERM is reported.
func (p *process) stop() error {
	defer p.log.Close()
	if p.exited() {
		return fmt.Errorf("%s (PID %d) exited before it was stopped: %v\n%s", p.name, p.pid, p.err, p.logTail())
	}
	syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s (PID %d) stopped with %v\n%s", p.name, p.pid, p.err, p.logTail())
		}
		return nil
	case <-time.After(stopGrace):
	}
	syscall.Kill(p.pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		return fmt.Errorf("%s (PID %d) survives SIGKILL", p.name, p.pid)
	}
	return fmt.Errorf("%s (PID %d) ignored SIGTERM for %v and was killed", p.name, p.pid, stopGrace)
}

// logTail is the end of the process's output, for error messages.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.log.Name())
	if err != nil {
		return ""
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(bytes.TrimSpace(b))
}

// cpuTime is the user plus system CPU time the processes have used so far,
// all threads included.
func cpuTime(ps []*process) (time.Duration, error) {
	var total time.Duration
	for _, p := range ps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
		if err != nil {
			return 0, fmt.Errorf("CPU time of %s: %w", p.name, err)
		}
		// The command name (field 2) is in parentheses and may hold
		// spaces; fields 14 and 15 (utime, stime) count from after it.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat has no ')'", p.name, p.pid)
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 13 {
			return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat has %d fields after the name, want at least 13", p.name, p.pid, len(fields))
		}
		for _, f := range fields[11:13] {
			ticks, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat: %w", p.name, p.pid, err)
			}
			total += time.Duration(ticks) * time.Second / clockTicks
		}
	}
	return total, nil
}
