package ike

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a responder has to exit after SIGTERM before it is
// killed (thousands of SAs take a moment to tear down).
const stopGrace = 10 * time.Second

// process is a responder inside a namespace, stopped by its PID.
type process struct {
	name string
	pid  int
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, valid after done
}

// startProcess starts args in namespace ns with output to logPath. The
// process gets its own process group, so a Ctrl-C reaches only this
// program, which stops it. No Pdeathsig: it fires when the forking OS
// thread exits, and listenUDP ends threads on purpose (a responder died
// that way in the middle of a run).
func startProcess(t *topology, ns, name, logPath string, env []string, args ...string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := t.command(ns, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s in %s: %w", name, ns, err)
	}
	p := &process{name: name, pid: cmd.Process.Pid, log: logPath, done: make(chan struct{})}
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

// stop sends SIGTERM, waits up to stopGrace, then SIGKILL.
func (p *process) stop() error {
	if p.exited() {
		return fmt.Errorf("%s (PID %d) exited before it was stopped: %v\n%s", p.name, p.pid, p.err, p.logTail())
	}
	syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.done:
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
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(bytes.TrimSpace(b))
}

// rss is the process's resident set size in bytes (VmRSS in
// /proc/PID/status).
func (p *process) rss() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, fmt.Errorf("memory of %s: %w", p.name, err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("memory of %s: VmRSS line %q, want \"VmRSS: N kB\"", p.name, s.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("memory of %s: VmRSS: %w", p.name, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("memory of %s: no VmRSS in /proc/%d/status", p.name, p.pid)
}

// waitFor polls cond every 50 ms until it holds, the process exits, or
// limit passes.
func (p *process) waitFor(limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if p.exited() {
			return fmt.Errorf("%s exited while waiting for %s: %v\n%s", p.name, what, p.err, p.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s: not within %v\n%s", p.name, what, limit, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat;
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpu is the user plus system CPU time the process has used, all threads.
func (p *process) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, fmt.Errorf("CPU time of %s: %w", p.name, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields 14 and 15 (utime, stime) count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat has no ')'", p.name, p.pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat has %d fields after the name, want at least 13", p.name, p.pid, len(fields))
	}
	var total time.Duration
	for _, f := range fields[11:13] {
		ticks, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat: %w", p.name, p.pid, err)
		}
		total += time.Duration(ticks) * time.Second / clockTicks
	}
	return total, nil
}

// selfCPU is this process's CPU time (the generator's, during a run).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
