package main

import (
	"context"
	"fmt"
	"ipsecgw/test/netns"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The topology, in test ranges only (RFC 2544, RFC 5737):
//
//	h1 198.18.1.2/24 ── 198.18.1.1 gw1 192.0.2.1/24 ══ 192.0.2.2 gw2 198.18.2.1 ── 198.18.2.2/24 h2
//
// Interface names are those ipsecgw's configuration names (gw1-h1,
// gw1-gw2, ...). Every setup starts from this state (gateway interfaces
// addressed, forwarding on, no route between the host networks) and
// returns to it.
const (
	h1Addr = "198.18.1.2"
	h2Addr = "198.18.2.2"
)

// nsPrefix starts every namespace this program creates; the PID after it
// tells sweepStale whether the owner is still alive.
const nsPrefix = "igwbench-"

// cmdTimeout bounds every short command (ip, sysctl, ping, cat).
const cmdTimeout = 30 * time.Second

// checkAddress refuses an address outside the test ranges (the same rule
// the test harness applies).
func checkAddress(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return fmt.Errorf("address %q: %w", s, err)
	}
	return netns.CheckAddress(p)
}

// topology is the four namespaces h1, gw1, gw2, h2.
type topology struct {
	spaces map[string]string // short name → namespace name
}

// newTopology builds the namespaces and links; on error it removes what
// it made.
func newTopology(ctx context.Context) (t *topology, err error) {
	t = &topology{spaces: map[string]string{}}
	defer func() {
		if err != nil {
			t.destroy()
			t = nil
		}
	}()
	prefix := fmt.Sprintf("%s%d-", nsPrefix, os.Getpid())
	for _, name := range []string{"h1", "gw1", "gw2", "h2"} {
		full := prefix + name
		if _, err := runCmd(ctx, "ip", "netns", "add", full); err != nil {
			return t, err
		}
		t.spaces[name] = full
		if _, err := t.exec(ctx, name, "ip", "link", "set", "lo", "up"); err != nil {
			return t, err
		}
	}
	links := []struct{ nsA, ifA, addrA, nsB, ifB, addrB string }{
		{"h1", "h1-gw1", h1Addr + "/24", "gw1", "gw1-h1", "198.18.1.1/24"},
		{"gw1", "gw1-gw2", "192.0.2.1/24", "gw2", "gw2-gw1", "192.0.2.2/24"},
		{"gw2", "gw2-h2", "198.18.2.1/24", "h2", "h2-gw2", h2Addr + "/24"},
	}
	for _, l := range links {
		if err := t.link(ctx, l.nsA, l.ifA, l.addrA, l.nsB, l.ifB, l.addrB); err != nil {
			return t, err
		}
	}
	steps := [][]string{
		{"h1", "ip", "route", "add", "default", "via", "198.18.1.1"},
		{"h2", "ip", "route", "add", "default", "via", "198.18.2.1"},
		{"gw1", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
		{"gw2", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
	}
	for _, s := range steps {
		if _, err := t.exec(ctx, s[0], s[1:]...); err != nil {
			return t, err
		}
	}
	return t, nil
}

func (t *topology) link(ctx context.Context, nsA, ifA, addrA, nsB, ifB, addrB string) error {
	if _, err := runCmd(ctx, "ip", "link", "add", ifA, "netns", t.spaces[nsA], "type", "veth", "peer", "name", ifB, "netns", t.spaces[nsB]); err != nil {
		return err
	}
	for _, end := range []struct{ ns, ifc, addr string }{{nsA, ifA, addrA}, {nsB, ifB, addrB}} {
		if err := checkAddress(end.addr); err != nil {
			return err
		}
		if _, err := t.exec(ctx, end.ns, "ip", "addr", "add", end.addr, "dev", end.ifc); err != nil {
			return err
		}
		if _, err := t.exec(ctx, end.ns, "ip", "link", "set", end.ifc, "up"); err != nil {
			return err
		}
	}
	return nil
}

// destroy deletes the namespaces. Processes still inside would keep a
// namespace's interfaces alive, so the setups stop theirs first.
func (t *topology) destroy() {
	for _, full := range t.spaces {
		if _, err := runCmd(context.Background(), "ip", "netns", "del", full); err != nil {
			fmt.Fprintln(os.Stderr, "throughput: cleanup:", err)
		}
	}
	t.spaces = map[string]string{}
}

// command prepares a command to run inside namespace ns. `ip netns exec`
// execs the program in place, so the command's PID is the program's.
func (t *topology) command(ns string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", t.spaces[ns]}, args...)...)
}

// exec runs a short command inside namespace ns.
func (t *topology) exec(ctx context.Context, ns string, args ...string) (string, error) {
	full, ok := t.spaces[ns]
	if !ok {
		return "", fmt.Errorf("no namespace %q", ns)
	}
	return runCmd(ctx, append([]string{"ip", "netns", "exec", full}, args...)...)
}

// ping checks that from reaches to, retrying for a few seconds while a
// tunnel settles.
func (t *topology) ping(ctx context.Context, from, to string) error {
	var out string
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		out, err = t.exec(ctx, from, "ping", "-c", "1", "-W", "1", to)
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("%s cannot reach %s: %w\n%s", from, to, err, out)
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func waitFor(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v", what, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// runCmd runs a short command with a time bound and returns its combined
// output.
func runCmd(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// sweepStale deletes namespaces left by a run that was killed outright
// (SIGKILL leaves no chance to clean up): ours by prefix, and only those
// whose owner PID is gone.
func sweepStale() {
	entries, err := os.ReadDir("/var/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), nsPrefix)
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
		fmt.Fprintln(os.Stderr, "throughput: removing stale namespace", e.Name())
		runCmd(context.Background(), "ip", "netns", "del", e.Name())
	}
}
