package uml

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kernel is the Debian user-mode-linux kernel, and ModuleBase the directory
// holding its modules, one subdirectory per release.
const (
	Kernel     = "/usr/bin/linux.uml"
	ModuleBase = "/usr/lib/uml/modules"
)

// DefaultModules are loaded before every script (Options.Modules nil): what
// namespaces joined by veth, TUN and kernel ESP in tunnel and UDP-encapsulated
// mode need, with the AEADs, ciphers and MACs ipsecgw negotiates. Loading them
// up front costs about 0.25 s; leaving them to on-demand loading costs about
// 0.1 s for each of the many names the crypto API asks for.
var DefaultModules = []string{
	"ipv6", "veth", "tun", "xfrm_user", "esp4", "esp6", "authencesn",
	"gcm", "ghash_generic", "ctr", "seqiv", "echainiv", "drbg",
	"cbc", "hmac", "sha512_generic", "des_generic", "xcbc", "cmac",
	"chacha20poly1305", "chacha_generic", "poly1305_generic",
}

// ErrNotInstalled is wrapped by Available's answer when the UML kernel, its
// modules or the Go toolchain (needed to build the guest's modprobe) is
// missing: an install step was skipped, not an environment that cannot
// run UML.
var ErrNotInstalled = errors.New("user-mode-linux is not installed")

// Options shape one boot. The zero value boots 512M with DefaultModules and a
// two-minute limit, and shares no directory.
type Options struct {
	// Memory is the guest's RAM, as UML's mem= takes it ("512M").
	Memory string
	// KernelArgs are added to the kernel command line (for example
	// "loglevel=7"). Arguments that would change how the harness boots
	// (root, init, consoles, mem) or give the guest a network device
	// (eth<N>=, vec<N>:, virtio_uml.device=) are refused: the guest must
	// never reach a real network.
	KernelArgs []string
	// ShareDir is a host directory the script may read and write. It
	// appears inside the guest at the same path (also when it lies under
	// the host's /tmp, which the guest replaces with a tmpfs), the script
	// starts in it, and $UML_SHARE names it.
	ShareDir string
	// Timeout bounds the whole boot, script and power-off.
	Timeout time.Duration
	// Modules are loaded, with their dependencies, before the script
	// starts. nil means DefaultModules; an empty non-nil slice loads
	// nothing up front.
	Modules []string
}

// Result is what a script left behind.
type Result struct {
	Output   string        // the script's stdout and stderr, interleaved
	ExitCode int           // the script's exit status
	Duration time.Duration // host wall clock from starting UML to its exit
	Boot     time.Duration // guest uptime when the script started
	Console  string        // the kernel console and the init wrapper's notes (the last 256 KiB)
}

// KernelRelease returns the UML kernel's release ("6.1.176") by asking the
// binary; it does not boot.
func KernelRelease() (string, error) {
	if _, err := os.Stat(Kernel); err != nil {
		return "", fmt.Errorf("uml: %w: %v (apt-get install user-mode-linux)", ErrNotInstalled, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, Kernel, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("uml: %s --version: %w", Kernel, err)
	}
	rel := strings.TrimSpace(string(out))
	if rel == "" || strings.ContainsAny(rel, " /\n") {
		return "", fmt.Errorf("uml: %s --version printed %q, want a release like 6.1.176", Kernel, out)
	}
	return rel, nil
}

// Available says whether Run can work here, with cheap checks only: the
// kernel, its modules and the go command are present and the kernel answers
// --version. Nothing boots. It needs no root: UML runs as any user.
func Available() error {
	_, err := available()
	return err
}

// available is Available that also returns the kernel release.
func available() (release string, err error) {
	rel, err := KernelRelease()
	if err != nil {
		return "", err
	}
	dep := filepath.Join(ModuleBase, rel, "modules.dep")
	if _, err := os.Stat(dep); err != nil {
		return "", fmt.Errorf("uml: %w: kernel %s has no module index: %v", ErrNotInstalled, rel, err)
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "", fmt.Errorf("uml: %w: the go command builds the guest's modprobe: %v", ErrNotInstalled, err)
	}
	return rel, nil
}

var memoryRE = regexp.MustCompile(`^[1-9][0-9]*[kKmMgG]?$`)

// reservedArg matches kernel arguments the harness owns or forbids.
var reservedArg = regexp.MustCompile(`^(root|rootfstype|rootflags|init|umid|uml_dir|mem|con[0-9]*|ssl[0-9]*)=|^(eth[0-9]+=|vec[0-9]+:|virtio_uml\.)|^(rw|ro|noreboot)$`)

func (o Options) withDefaults() (Options, error) {
	if o.Memory == "" {
		o.Memory = "512M"
	}
	if !memoryRE.MatchString(o.Memory) {
		return o, fmt.Errorf("uml: memory %q: want a size like 512M", o.Memory)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Modules == nil {
		o.Modules = DefaultModules
	}
	for _, m := range o.Modules {
		if m == "" || strings.ContainsAny(m, " \t\n'\"\\$`") || m[0] == '-' {
			return o, fmt.Errorf("uml: module name %q: want a plain module name or alias", m)
		}
	}
	for _, a := range o.KernelArgs {
		if reservedArg.MatchString(a) {
			return o, fmt.Errorf("uml: kernel argument %q is refused: the harness sets root, init, consoles and memory itself, and the guest gets no network device", a)
		}
		if a == "" || strings.ContainsAny(a, " \t\n") {
			return o, fmt.Errorf("uml: kernel argument %q: want one word", a)
		}
	}
	if o.ShareDir != "" {
		abs, err := filepath.Abs(o.ShareDir)
		if err != nil {
			return o, fmt.Errorf("uml: share dir: %w", err)
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return o, fmt.Errorf("uml: share dir %s: want an existing directory (%v)", abs, err)
		}
		o.ShareDir = abs
	}
	return o, nil
}

// Run boots UML with the host's file system as its root, runs script as root
// (PID 1's child) and powers off. A script that exits non-zero is not an
// error: its status is in Result.ExitCode. An error means the script's status
// never came back (UML failed to start, the init wrapper failed, or the
// timeout or ctx ended the boot); Result then holds whatever was captured.
//
// Boots are serialised across the whole machine (a lock file in the
// temporary directory): each takes a core and hundreds of megabytes.
func Run(ctx context.Context, script string, opts Options) (Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	rel, err := available()
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	unlock, err := lockMachine(ctx)
	if err != nil {
		return Result{}, err
	}
	defer unlock()

	run, err := os.MkdirTemp("", "ipsecgw-uml-")
	if err != nil {
		return Result{}, fmt.Errorf("uml: run directory: %w", err)
	}
	defer os.RemoveAll(run)
	g := guest{run: run, share: opts.ShareDir, modules: opts.Modules, release: rel}
	if err := g.prepare(ctx, script); err != nil {
		return Result{}, err
	}
	return g.boot(ctx, opts)
}

// boot starts the kernel, waits for it to power off (or kills it), and reads
// back what the init wrapper wrote.
func (g *guest) boot(ctx context.Context, opts Options) (Result, error) {
	args := []string{
		"mem=" + opts.Memory,
		// The host's / through hostfs, read-write: the guest runs host
		// binaries and writes results where the host reads them.
		"root=/dev/root", "rootfstype=hostfs", "rootflags=/", "rw",
		"init=" + g.path(initFile),
		"umid=" + filepath.Base(g.run), "uml_dir=" + g.run,
		// Console 0 writes to our pipe and reads nothing; no other
		// console or serial line may open (Debian's default for them is
		// an xterm).
		"con=null", "con0=null,fd:1", "ssl=null",
		"noreboot", "quiet",
	}
	args = append(args, opts.KernelArgs...)

	console := &tailBuffer{max: 256 << 10}
	cmd := exec.CommandContext(ctx, Kernel, args...)
	// UML reads ./root_fs as its first disk when it exists; start it
	// where nothing else lives.
	cmd.Dir = g.run
	cmd.Stdout = console
	cmd.Stderr = console
	// UML runs every guest process as a host process of its own; one
	// process group lets a single kill take them all.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("uml: starting %s: %w", Kernel, err)
	}
	waitErr := cmd.Wait()
	// Whatever is left of the group (helpers that outlived the kernel
	// process) goes too; ESRCH, the usual answer, means nothing was.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	res := Result{Duration: time.Since(start), Console: console.String()}

	out, _ := os.ReadFile(g.path(outputFile))
	res.Output = string(out)
	if b, err := os.ReadFile(g.path(bootFile)); err == nil {
		if s, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil {
			res.Boot = time.Duration(math.Round(s*1000)) * time.Millisecond
		}
	}
	if b, err := os.ReadFile(g.path(initErrorFile)); err == nil {
		return res, fmt.Errorf("uml: init wrapper failed: %s\nconsole:\n%s", strings.TrimSpace(string(b)), res.Console)
	}
	status, err := os.ReadFile(g.path(statusFile))
	if err != nil {
		why := "the script did not finish"
		switch {
		case ctx.Err() != nil:
			why = fmt.Sprintf("the script did not finish within %v (%v)", opts.Timeout, context.Cause(ctx))
		case waitErr != nil:
			why = fmt.Sprintf("UML exited early: %v", waitErr)
		}
		return res, fmt.Errorf("uml: %s; output:\n%s\nconsole:\n%s", why, res.Output, res.Console)
	}
	res.ExitCode, err = strconv.Atoi(strings.TrimSpace(string(status)))
	if err != nil {
		return res, fmt.Errorf("uml: exit status file holds %q, want a number", status)
	}
	return res, nil
}

// lockMachine takes an exclusive lock that every Run on this machine shares
// (an flock on a file in the temporary directory), polling so ctx can end
// the wait. Lock files are never removed: removing one races its next user.
func lockMachine(ctx context.Context) (unlock func(), err error) {
	name := filepath.Join(os.TempDir(), "ipsecgw-uml.lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("uml: lock %s: %w", name, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("uml: lock %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("uml: waiting for another UML boot to finish (%s): %w", name, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tailBuffer keeps the last max bytes written to it; UML's console can be
// long when a test turns the log level up, and its end says why a boot died.
type tailBuffer struct {
	mu      sync.Mutex // guards the fields below
	max     int
	buf     []byte
	dropped bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.dropped = true
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped {
		return "[… earlier console output dropped …]\n" + string(b.buf)
	}
	return string(b.buf)
}
