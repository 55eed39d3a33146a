package ike

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"ipsecgw/test/netns"
)

// The topology, in test ranges only (RFC 5737, RFC 2544): the generator's
// namespace joined to one namespace per responder, so the two responders
// never share a socket, a route or a CPU-hungry neighbour during a run.
//
//	igw  192.0.2.2/24    ── 192.0.2.1/24    gen  198.51.100.1/24 ── 198.51.100.2/24 swan
//	(ipsecgw daemon)                      (this process's sockets)              (charon)
//
// The Child SAs protect 198.18.1.0/24 (behind the generator) and
// 198.18.2.0/24 (behind a responder); charon's userspace ESP needs an
// address of its own inside its local selector, so swan has 198.18.2.1 on lo.
var (
	genToIgw  = netip.MustParseAddr("192.0.2.1")
	igwAddr   = netip.MustParseAddr("192.0.2.2")
	genToSwan = netip.MustParseAddr("198.51.100.1")
	swanAddr  = netip.MustParseAddr("198.51.100.2")
)

const (
	genNet  = "198.18.1.0/24"
	respNet = "198.18.2.0/24"
)

// nsPrefix starts every namespace this command creates; the PID after it
// tells sweepStale whether the owner is still alive.
const nsPrefix = "igwbike-"

// cmdTimeout bounds every short command (ip, sysctl, swanctl).
const cmdTimeout = 30 * time.Second

// topology is the namespaces gen, igw and swan.
type topology struct {
	spaces map[string]string // short name → namespace name
}

// newTopology builds the namespaces and links; on error it removes what it
// made.
func newTopology(ctx context.Context) (t *topology, err error) {
	t = &topology{spaces: map[string]string{}}
	defer func() {
		if err != nil {
			t.destroy()
			t = nil
		}
	}()
	prefix := fmt.Sprintf("%s%d-", nsPrefix, os.Getpid())
	for _, name := range []string{"gen", "igw", "swan"} {
		full := prefix + name
		if _, err := runCmd(ctx, "ip", "netns", "add", full); err != nil {
			return t, err
		}
		t.spaces[name] = full
		if _, err := t.exec(ctx, name, "ip", "link", "set", "lo", "up"); err != nil {
			return t, err
		}
	}
	if err := t.link(ctx, "gen", "gen-igw", genToIgw.String()+"/24", "igw", "igw-gen", igwAddr.String()+"/24"); err != nil {
		return t, err
	}
	if err := t.link(ctx, "gen", "gen-swan", genToSwan.String()+"/24", "swan", "swan-gen", swanAddr.String()+"/24"); err != nil {
		return t, err
	}
	if err := netns.CheckAddress(netip.MustParsePrefix("198.18.2.1/24")); err != nil {
		return t, err
	}
	if _, err := t.exec(ctx, "swan", "ip", "addr", "add", "198.18.2.1/24", "dev", "lo"); err != nil {
		return t, err
	}
	return t, nil
}

func (t *topology) link(ctx context.Context, nsA, ifA, addrA, nsB, ifB, addrB string) error {
	if _, err := runCmd(ctx, "ip", "link", "add", ifA, "netns", t.spaces[nsA], "type", "veth", "peer", "name", ifB, "netns", t.spaces[nsB]); err != nil {
		return err
	}
	for _, end := range []struct{ ns, ifc, addr string }{{nsA, ifA, addrA}, {nsB, ifB, addrB}} {
		p, err := netip.ParsePrefix(end.addr)
		if err != nil {
			return err
		}
		if err := netns.CheckAddress(p); err != nil {
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

// destroy deletes the namespaces; the responders are stopped before.
func (t *topology) destroy() {
	for _, full := range t.spaces {
		if _, err := runCmd(context.Background(), "ip", "netns", "del", full); err != nil {
			fmt.Fprintln(os.Stderr, "bench ike: cleanup:", err)
		}
	}
	t.spaces = map[string]string{}
}

// command prepares a long-running command inside namespace ns. `ip netns
// exec` execs the program in place, so the command's PID is the program's.
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

// listenUDP opens a UDP socket on ap inside namespace ns. A socket stays in
// the namespace it was created in, so only the creating thread enters ns:
// it is locked to a goroutine that ends without unlocking, and the runtime
// then discards the thread instead of reusing it in the wrong namespace.
func (t *topology) listenUDP(ns string, ap netip.AddrPort) (*net.UDPConn, error) {
	type result struct {
		c   *net.UDPConn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + t.spaces[ns])
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("entering namespace %s: %w", t.spaces[ns], err)}
			return
		}
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(ap))
		if err == nil {
			// Bursts of thousands of answers must not overflow the queue.
			_ = c.SetReadBuffer(8 << 20)
			_ = c.SetWriteBuffer(8 << 20)
		}
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
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

// sweepStale deletes namespaces left by a run that was killed outright:
// ours by prefix, and only those whose owner PID is gone.
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
			continue
		}
		runCmd(context.Background(), "ip", "netns", "del", e.Name())
	}
}
