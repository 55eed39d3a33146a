package frr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Where Debian's frr and frr-pythontools put things.
const (
	DaemonDir  = "/usr/lib/frr"
	reloadTool = "/usr/lib/frr/frr-reload.py"
	vtyshPath  = "/usr/bin/vtysh"
)

// Instance is the FRR a gateway runs: either its own daemons, started on
// demand with a private directory (configuration, PID files, zebra's
// socket, the vty sockets, BFD's control socket), so several gateways run
// on one machine, or the host's FRR (System) that the operator runs.
//
// Every change is a reload: the new rendering is checked by vtysh's dry
// run first (a refusal changes nothing), the daemons it needs are started,
// frr-reload.py applies the difference from the running configuration,
// and if FRR refuses part of it the previous rendering is reloaded.
type Instance struct {
	Dir    string
	System bool
	Log    *slog.Logger
	// RemoveOnStop removes Dir when the daemons are stopped (a default
	// directory under /run; one the operator named is kept, with the
	// daemons' output).
	RemoveOnStop bool

	procs   map[string]*exec.Cmd // the daemons started, by name
	applied *Rendering           // in effect; nil when none
	running atomic.Bool          // applied != nil, for other goroutines
}

// ErrRefused wraps what FRR said when it refused a configuration.
var ErrRefused = errors.New("FRR refused the routing configuration")

// Available reports what of FRR is missing to run routing protocols:
// vtysh (frr) and frr-reload.py (frr-pythontools).
func Available() error {
	for _, f := range []struct{ path, pkg string }{{vtyshPath, "frr"}, {reloadTool, "frr-pythontools"}, {filepath.Join(DaemonDir, "zebra"), "frr"}} {
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("routing protocols run in FRR, and %s is missing: install Debian's %s (or remove protocols)", f.path, f.pkg)
		}
	}
	return nil
}

// Check runs vtysh's dry run over a rendering: FRR's grammar for every
// daemon, nothing applied.
func (in *Instance) Check(ctx context.Context, r *Rendering) error {
	if r == nil {
		return nil
	}
	if err := Available(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ipsecgw-frr-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "frr.conf")
	if err := os.WriteFile(file, []byte(r.Text), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "vtysh.conf"), nil, 0o600); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, vtyshPath, "--config_dir", dir, "-C", "-f", file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", ErrRefused, r.Redact(strings.TrimSpace(string(out))))
	}
	return nil
}

// Apply makes FRR run r; nil stops the daemons the instance started (a
// system FRR is given an empty configuration instead).
func (in *Instance) Apply(ctx context.Context, r *Rendering) error {
	if r == nil {
		if in.System {
			if in.applied == nil {
				return nil
			}
			r = &Rendering{Text: "frr defaults traditional\nservice integrated-vtysh-config\n!\nend\n"}
		} else {
			in.Stop()
			return nil
		}
	}
	if err := in.Check(ctx, r); err != nil {
		return err
	}
	if !in.System {
		if err := in.start(r.Daemons); err != nil {
			return err
		}
	}
	if err := in.reload(ctx, r); err != nil {
		if prev := in.applied; prev != nil {
			if perr := in.reload(ctx, prev); perr != nil {
				in.Log.Warn("FRR: restoring the previous routing configuration", "err", perr)
			}
		}
		return err
	}
	if !in.System {
		// Daemons the new configuration no longer needs.
		for name := range in.procs {
			if !contains(r.Daemons, name) {
				in.stopDaemon(name)
			}
		}
	}
	in.applied = r
	in.running.Store(true)
	return nil
}

// reload applies r with frr-reload.py: the lines to remove, then those to
// add, computed against the running configuration.
func (in *Instance) reload(ctx context.Context, r *Rendering) error {
	confDir, runDir := in.Dir, in.Dir
	if in.System {
		confDir, runDir = "/etc/frr", "/var/run/frr"
	}
	file := filepath.Join(in.Dir, "ipsecgw-frr.conf")
	if err := os.WriteFile(file, []byte(r.Text), 0o600); err != nil {
		return err
	}
	args := []string{reloadTool, "--reload", "--stdout", "--bindir", filepath.Dir(vtyshPath), "--confdir", confDir, "--rundir", runDir}
	if !in.System {
		args = append(args, "--vty_socket", in.Dir)
	}
	args = append(args, file)
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", ErrRefused, r.Redact(refusal(string(out))))
	}
	return nil
}

// refusal picks FRR's own words out of frr-reload.py's log: vtysh's "%"
// messages and the lines they refer to; the log's last lines when there
// are none.
func refusal(out string) string {
	var picked []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "%") || strings.HasPrefix(l, "line ") {
			picked = append(picked, l)
		}
		if len(picked) == 6 {
			picked = append(picked, "...")
			break
		}
	}
	if len(picked) == 0 {
		return tail(out, 5)
	}
	return strings.Join(picked, "; ")
}

// Vtysh runs operational commands against the instance's daemons and
// returns what they print.
func (in *Instance) Vtysh(ctx context.Context, commands ...string) (string, error) {
	args := []string{}
	if !in.System {
		args = append(args, "--vty_socket", in.Dir)
	}
	for _, c := range commands {
		args = append(args, "-c", c)
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, vtyshPath, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("vtysh: %v: %s", err, strings.TrimSpace(errb.String()+out.String()))
	}
	return out.String(), nil
}

// Running reports whether a rendering is in effect.
func (in *Instance) Running() bool { return in.running.Load() }

// start starts the daemons of names that are not running, zebra first
// (the others connect to its socket once, when they start).
func (in *Instance) start(names []string) error {
	if in.procs == nil {
		in.procs = map[string]*exec.Cmd{}
	}
	if len(in.procs) == 0 {
		if err := in.prepareDir(); err != nil {
			return err
		}
	}
	for _, name := range names {
		if in.procs[name] != nil {
			continue
		}
		if err := in.startDaemon(name); err != nil {
			return err
		}
	}
	return nil
}

// prepareDir makes the private directory, owned by the frr user the
// daemons run as, and ends daemons a previous run left (by their PID
// files, only processes that are that daemon in this directory).
func (in *Instance) prepareDir() error {
	u, err := user.Lookup("frr")
	if err != nil {
		return fmt.Errorf("FRR: no user frr (is FRR installed?): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The directories above are made searchable: the daemons run as frr.
	if err := os.MkdirAll(filepath.Dir(in.Dir), 0o755); err != nil {
		return fmt.Errorf("FRR directory: %w", err)
	}
	if err := os.Mkdir(in.Dir, 0o750); err != nil && !os.IsExist(err) {
		return fmt.Errorf("FRR directory: %w", err)
	}
	for _, name := range allDaemons {
		in.killStale(name)
	}
	if err := os.Chown(in.Dir, uid, gid); err != nil {
		return fmt.Errorf("FRR directory: %w", err)
	}
	if err := reachable(in.Dir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(in.Dir, "vtysh.conf"), []byte("service integrated-vtysh-config\n"), 0o640); err != nil {
		return err
	}
	for _, name := range allDaemons {
		f := filepath.Join(in.Dir, name+".conf")
		if err := os.WriteFile(f, nil, 0o640); err != nil {
			return err
		}
		os.Chown(f, uid, gid)
	}
	return nil
}

// reachable checks that the frr user can reach dir: every directory above
// it must be searchable by others.
func reachable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("FRR directory %s: the frr user cannot reach it (%s is mode %o); choose another --frr-dir", dir, p, st.Mode().Perm())
		}
		if p == "/" {
			return nil
		}
	}
}

var allDaemons = []string{"zebra", "bfdd", "ospfd", "ospf6d", "bgpd"}

func (in *Instance) startDaemon(name string) error {
	dir := in.Dir
	args := []string{
		"-f", filepath.Join(dir, name+".conf"),
		"-i", filepath.Join(dir, name+".pid"),
		"-z", filepath.Join(dir, "zserv.api"),
		"--vty_socket", dir,
		"-P", "0",
	}
	if name == "bfdd" {
		args = append(args, "--bfdctl", filepath.Join(dir, "bfdd.sock"))
	}
	out, err := os.OpenFile(filepath.Join(dir, name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(filepath.Join(DaemonDir, name), args...)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: a terminal's ^C goes to ipsecgw, which
	// stops FRR in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("FRR: starting %s: %w", name, err)
	}
	in.procs[name] = cmd
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// Ready when its vty socket is there (zebra: and its zserv socket).
	ready := []string{filepath.Join(dir, name+".vty")}
	if name == "zebra" {
		ready = append(ready, filepath.Join(dir, "zserv.api"))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok := true
		for _, f := range ready {
			if _, err := os.Stat(f); err != nil {
				ok = false
			}
		}
		if ok {
			break
		}
		select {
		case <-exited:
			delete(in.procs, name)
			text, _ := os.ReadFile(filepath.Join(dir, name+".out"))
			return fmt.Errorf("FRR: %s exited at start: %s", name, strings.TrimSpace(tail(string(text), 5)))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			in.stopDaemon(name)
			return fmt.Errorf("FRR: %s did not open its sockets in %s", name, dir)
		}
	}
	in.Log.Info("FRR daemon started", "daemon", name, "pid", cmd.Process.Pid, "dir", dir)
	return nil
}

// stopDaemon ends a daemon the instance started: SIGTERM, SIGKILL after
// 5 s.
func (in *Instance) stopDaemon(name string) {
	cmd := in.procs[name]
	delete(in.procs, name)
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for processAlive(cmd.Process.Pid) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.Log.Info("FRR daemon stopped", "daemon", name, "pid", cmd.Process.Pid)
}

// processAlive reports whether pid still runs (a zombie does not: Wait
// reaps it in its goroutine).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// killStale ends a daemon named by a PID file of this directory that a
// previous run left behind, if that PID is still that daemon here.
func (in *Instance) killStale(name string) {
	b, err := os.ReadFile(filepath.Join(in.Dir, name+".pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.HasPrefix(cmdline, []byte(filepath.Join(DaemonDir, name)+"\x00")) ||
		!bytes.Contains(cmdline, []byte("\x00"+in.Dir+"\x00")) {
		return
	}
	in.Log.Warn("FRR: ending a daemon a previous run left", "daemon", name, "pid", pid)
	syscall.Kill(pid, syscall.SIGKILL)
}

// Stop ends the daemons the instance started, in the reverse order of
// their dependencies (zebra last), and removes its directory's runtime
// files. A system FRR is left running as it is.
func (in *Instance) Stop() {
	in.applied = nil
	in.running.Store(false)
	if in.System {
		return
	}
	started := len(in.procs) > 0
	for i := len(allDaemons) - 1; i >= 0; i-- {
		if in.procs[allDaemons[i]] != nil {
			in.stopDaemon(allDaemons[i])
		}
	}
	if started && in.RemoveOnStop {
		os.RemoveAll(in.Dir)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
