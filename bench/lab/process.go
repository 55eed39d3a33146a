package lab

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

// stopGrace is how long a process has to exit after SIGTERM before it is
// killed (thousands of SAs take a moment to tear down).
const stopGrace = 10 * time.Second

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat;
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// Process is a long-running program inside a namespace (a gateway, a
// responder, an iperf3 server), stopped by its PID.
type Process struct {
	Name string
	PID  int
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, valid after done
}

// Options are the less common ways to start a process.
type Options struct {
	// Env is added to this program's environment.
	Env []string
	// StopWithParent asks the kernel to send SIGTERM should this program
	// die. Pdeathsig fires when the forking OS thread exits, so it is only
	// safe where no goroutine ends a locked thread (setns does).
	StopWithParent bool
}

// Start starts args in namespace ns with output to logPath. The process
// gets its own process group, so a Ctrl-C reaches only this program, which
// stops it in order.
func Start(n *Namespaces, ns, name, logPath string, o Options, args ...string) (*Process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := n.Command(ns, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if o.StopWithParent {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s in %s: %w", name, ns, err)
	}
	p := &Process{Name: name, PID: cmd.Process.Pid, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// LogPath is the file holding the process's output.
func (p *Process) LogPath() string { return p.log }

// Err is the exit status; valid once Exited.
func (p *Process) Err() error { return p.err }

// Signal sends sig to the process, unless it has already exited.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return fmt.Errorf("%s (PID %d) has exited: %v\n%s", p.Name, p.PID, p.err, p.LogTail())
	}
	return syscall.Kill(p.PID, sig)
}

// Stop sends SIGTERM, waits up to stopGrace, then SIGKILL. An exit other
// than a clean one after SIGTERM is reported.
func (p *Process) Stop() error {
	if p.Exited() {
		return fmt.Errorf("%s (PID %d) exited before it was stopped: %v\n%s", p.Name, p.PID, p.err, p.LogTail())
	}
	syscall.Kill(p.PID, syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s (PID %d) stopped with %v\n%s", p.Name, p.PID, p.err, p.LogTail())
		}
		return nil
	case <-time.After(stopGrace):
	}
	syscall.Kill(p.PID, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		return fmt.Errorf("%s (PID %d) survives SIGKILL", p.Name, p.PID)
	}
	return fmt.Errorf("%s (PID %d) ignored SIGTERM for %v and was killed", p.Name, p.PID, stopGrace)
}

// LogTail is the end of the process's output, for error messages.
func (p *Process) LogTail() string {
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

// WaitFor polls cond every 50 ms until it holds, the process exits, or
// limit passes.
func (p *Process) WaitFor(limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if p.Exited() {
			return fmt.Errorf("%s exited while waiting for %s: %v\n%s", p.Name, what, p.err, p.LogTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s: not within %v\n%s", p.Name, what, limit, p.LogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// RSS is the process's resident set size in bytes (VmRSS in
// /proc/PID/status).
func (p *Process) RSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		return 0, fmt.Errorf("memory of %s: %w", p.Name, err)
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
			return 0, fmt.Errorf("memory of %s: VmRSS line %q, want \"VmRSS: N kB\"", p.Name, s.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("memory of %s: VmRSS: %w", p.Name, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("memory of %s: no VmRSS in /proc/%d/status", p.Name, p.PID)
}

// CPU is the user plus system CPU time the process has used, all threads.
func (p *Process) CPU() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	if err != nil {
		return 0, fmt.Errorf("CPU time of %s: %w", p.Name, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields 14 and 15 (utime, stime) count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat has no ')'", p.Name, p.PID)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat has %d fields after the name, want at least 13", p.Name, p.PID, len(fields))
	}
	var total time.Duration
	for _, f := range fields[11:13] {
		ticks, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time of %s: /proc/%d/stat: %w", p.Name, p.PID, err)
		}
		total += time.Duration(ticks) * time.Second / clockTicks
	}
	return total, nil
}
