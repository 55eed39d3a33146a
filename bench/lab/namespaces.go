package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"ipsecgw/test/netns"
)

// CmdTimeout bounds every short command (ip, sysctl, ping, swanctl).
const CmdTimeout = 30 * time.Second

// Namespaces is the set of network namespaces one benchmark run made,
// known by short names ("gw1", "swan", ...). Their full names are
// prefix-PID-name, so SweepStale can tell a dead run's namespaces from a
// live one's.
type Namespaces struct {
	who    string            // the benchmark, for messages on stderr
	spaces map[string]string // short name → namespace name
}

// New sweeps namespaces left by dead runs of the same prefix, then creates
// one namespace per name with its loopback up. On error it removes what it
// made. who names the benchmark in cleanup messages.
func New(ctx context.Context, who, prefix string, names ...string) (n *Namespaces, err error) {
	sweepStale(prefix)
	n = &Namespaces{who: who, spaces: map[string]string{}}
	defer func() {
		if err != nil {
			n.Destroy()
			n = nil
		}
	}()
	for _, name := range names {
		full := fmt.Sprintf("%s%d-%s", prefix, os.Getpid(), name)
		if _, err := Run(ctx, "ip", "netns", "add", full); err != nil {
			return n, err
		}
		n.spaces[name] = full
		if _, err := n.Exec(ctx, name, "ip", "link", "set", "lo", "up"); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Link joins nsA and nsB with a veth pair, addresses both ends and sets
// them up; an empty address leaves that end without one (a bridge port).
// Addresses outside the test ranges are refused (the same rule the test
// harness applies).
func (n *Namespaces) Link(ctx context.Context, nsA, ifA, addrA, nsB, ifB, addrB string) error {
	if _, err := Run(ctx, "ip", "link", "add", ifA, "netns", n.spaces[nsA], "type", "veth", "peer", "name", ifB, "netns", n.spaces[nsB]); err != nil {
		return err
	}
	for _, end := range []struct{ ns, ifc, addr string }{{nsA, ifA, addrA}, {nsB, ifB, addrB}} {
		if end.addr != "" {
			if err := n.AddAddress(ctx, end.ns, end.ifc, end.addr); err != nil {
				return err
			}
		}
		if _, err := n.Exec(ctx, end.ns, "ip", "link", "set", end.ifc, "up"); err != nil {
			return err
		}
	}
	return nil
}

// AddAddress adds prefix (address/length, in the test ranges) to ifc in ns.
func (n *Namespaces) AddAddress(ctx context.Context, ns, ifc, prefix string) error {
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return fmt.Errorf("address %q: %w", prefix, err)
	}
	if err := netns.CheckAddress(p); err != nil {
		return err
	}
	_, err = n.Exec(ctx, ns, "ip", "addr", "add", prefix, "dev", ifc)
	return err
}

// Destroy deletes the namespaces. Processes still inside would keep a
// namespace's interfaces alive, so callers stop theirs first.
func (n *Namespaces) Destroy() {
	for _, full := range n.spaces {
		if _, err := Run(context.Background(), "ip", "netns", "del", full); err != nil {
			fmt.Fprintf(os.Stderr, "%s: cleanup: %v\n", n.who, err)
		}
	}
	n.spaces = map[string]string{}
}

// Path is the bind-mount of namespace ns, for setns(2).
func (n *Namespaces) Path(ns string) string { return "/var/run/netns/" + n.spaces[ns] }

// Command prepares a command to run inside namespace ns. `ip netns exec`
// execs the program in place, so the command's PID is the program's.
func (n *Namespaces) Command(ns string, args ...string) *exec.Cmd {
	return exec.Command("ip", n.wrap(ns, args)...)
}

// CommandContext is Command bound to ctx.
func (n *Namespaces) CommandContext(ctx context.Context, ns string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", n.wrap(ns, args)...)
}

func (n *Namespaces) wrap(ns string, args []string) []string {
	return append([]string{"netns", "exec", n.spaces[ns]}, args...)
}

// Exec runs a short command inside namespace ns and returns its output.
func (n *Namespaces) Exec(ctx context.Context, ns string, args ...string) (string, error) {
	if _, ok := n.spaces[ns]; !ok {
		return "", fmt.Errorf("no namespace %q", ns)
	}
	return Run(ctx, append([]string{"ip"}, n.wrap(ns, args)...)...)
}

// Run runs a short command with a time bound and returns its combined
// output.
func Run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, CmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// sweepStale deletes namespaces left by a run that was killed outright
// (SIGKILL leaves no chance to clean up): those with prefix whose owner
// PID is gone.
func sweepStale(prefix string) {
	entries, err := os.ReadDir("/var/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // its owner still runs
		}
		fmt.Fprintln(os.Stderr, "removing stale namespace", e.Name())
		Run(context.Background(), "ip", "netns", "del", e.Name())
	}
}
