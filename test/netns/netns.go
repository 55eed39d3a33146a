// Package netns builds throwaway test networks in Linux network namespaces:
// namespaces joined by veth pairs, addressed only from the documentation and
// benchmark ranges, removed again when the test ends (even when it fails).
//
// Everything here needs root; RequireRoot skips a test loudly, or fails it
// when IPSECGW_REQUIRE_ROOT=1 (as "make test" sets when run as root), so a
// root-only test can never pass by silently not running.
package netns

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RequireRoot skips (or, under IPSECGW_REQUIRE_ROOT=1, fails) a test that
// cannot run without root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" {
		t.Fatal("ROOT-ONLY TEST CANNOT RUN: not root, and IPSECGW_REQUIRE_ROOT=1")
	}
	t.Skip("SKIPPED ROOT-ONLY TEST: needs root (network namespaces); run `make test` as root")
}

// allowed are the only ranges test networks may use (RFC 5737, RFC 2544,
// RFC 3849): nothing here can reach or shadow a real network.
var allowed = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// CheckAddress refuses an address outside the test ranges.
func CheckAddress(p netip.Prefix) error {
	for _, a := range allowed {
		if a.Contains(p.Addr()) && p.Bits() >= a.Bits() {
			return nil
		}
	}
	return fmt.Errorf("address %s is outside the test ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15, 2001:db8::/32)", p)
}

var seq atomic.Int64

// Net is a set of namespaces owned by one test.
type Net struct {
	t      testing.TB
	prefix string
	spaces map[string]string // short name → namespace name
}

// New creates the named namespaces (with loopback up) and removes them when
// the test ends.
func New(t testing.TB, names ...string) *Net {
	t.Helper()
	RequireRoot(t)
	n := &Net{t: t, prefix: fmt.Sprintf("igw%d-%d-", os.Getpid()%100000, seq.Add(1)), spaces: map[string]string{}}
	t.Cleanup(n.destroy)
	for _, name := range names {
		full := n.prefix + name
		n.run("ip", "netns", "add", full)
		n.spaces[name] = full
		n.Exec(name, "ip", "link", "set", "lo", "up")
	}
	return n
}

// Name returns the full namespace name of a short name.
func (n *Net) Name(ns string) string {
	full, ok := n.spaces[ns]
	if !ok {
		n.t.Fatalf("netns: unknown namespace %q", ns)
	}
	return full
}

func (n *Net) destroy() {
	for _, full := range n.spaces {
		// Processes still inside would keep the namespace alive; the tests
		// stop their daemons by PID before this runs.
		_ = exec.Command("ip", "netns", "del", full).Run()
	}
}

func (n *Net) run(args ...string) string {
	n.t.Helper()
	out, err := Command(args...)
	if err != nil {
		n.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Command runs a command with a 30 s bound and returns its combined output.
func Command(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	return string(out), err
}

// Exec runs a command inside namespace ns and fails the test on error.
func (n *Net) Exec(ns string, args ...string) string {
	n.t.Helper()
	return n.run(append([]string{"ip", "netns", "exec", n.Name(ns)}, args...)...)
}

// Try runs a command inside namespace ns and returns its output and error.
func (n *Net) Try(ns string, args ...string) (string, error) {
	return Command(append([]string{"ip", "netns", "exec", n.Name(ns)}, args...)...)
}

// Link joins two namespaces with a veth pair and assigns the addresses
// (which must be in the test ranges).
func (n *Net) Link(nsA, ifA, addrA, nsB, ifB, addrB string) {
	n.t.Helper()
	n.run("ip", "link", "add", ifA, "netns", n.Name(nsA), "type", "veth", "peer", "name", ifB, "netns", n.Name(nsB))
	for _, end := range []struct{ ns, ifc, addr string }{{nsA, ifA, addrA}, {nsB, ifB, addrB}} {
		if end.addr != "" {
			p, err := netip.ParsePrefix(end.addr)
			if err != nil {
				n.t.Fatalf("netns: bad address %q: %v", end.addr, err)
			}
			if err := CheckAddress(p); err != nil {
				n.t.Fatalf("netns: %v", err)
			}
			n.Exec(end.ns, "ip", "addr", "add", end.addr, "dev", end.ifc)
		}
		n.Exec(end.ns, "ip", "link", "set", end.ifc, "up")
	}
}
