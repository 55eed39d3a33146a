package ike

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"ipsecgw/ike"
)

// Load is one run of the generator against responders another benchmark
// laid out (bench/cluster: several gateways of a cluster at once): the
// tunnels go round-robin over Peers, each opened once.
type Load struct {
	// Listen opens one of the generator's sockets, in its namespace
	// (lab.Namespaces.ListenUDP).
	Listen func(netip.AddrPort) (*net.UDPConn, error)
	// Peers are the responders, from GeneratorPeer; their Local addresses
	// are where the generator's sockets listen.
	Peers    []*ike.Peer
	Tunnels  int
	InFlight int
	Engines  int           // initiator engines (each one core at most)
	Timeout  time.Duration // a tunnel not up within this has failed
}

// LoadResult is what a Load measured.
type LoadResult struct {
	Tunnels, Up, Failed int
	Elapsed             time.Duration // first request to last tunnel decided
	P50, P99            time.Duration // latency of the tunnels up
	GeneratorCPU        time.Duration // this process's CPU time over the run
	Reasons             map[string]int
}

// Rate is tunnels up per second.
func (r LoadResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Up) / r.Elapsed.Seconds()
}

// Run opens the tunnels and waits until each is up or failed, then calls
// whileUp (if not nil: the responders still hold every tunnel then), and
// closes the generator's engines (their DELETEs are not waited for).
func (l Load) Run(ctx context.Context, whileUp func() error) (LoadResult, error) {
	if len(l.Peers) == 0 || l.Tunnels < 1 || l.InFlight < 1 || l.Engines < 1 {
		return LoadResult{}, fmt.Errorf("bench ike: a load needs peers, and at least one tunnel, slot in flight and engine")
	}
	var locals, remotes []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, p := range l.Peers {
		if !seen[p.Local] {
			seen[p.Local] = true
			locals = append(locals, p.Local)
		}
		remotes = append(remotes, p.Remote)
	}
	res := newResults(l.Tunnels, l.InFlight)
	g, err := newGenerator(l.Listen, locals, l.Engines, l.Peers, res)
	if err != nil {
		return LoadResult{}, err
	}
	defer g.close()
	cpu := selfCPU()
	start := time.Now()
	if err := drive(ctx, g, res, remotes, l.Tunnels, l.Timeout); err != nil {
		return LoadResult{}, err
	}
	r := res.summarize("", "", start)
	out := LoadResult{Tunnels: r.Tunnels, Up: r.Up, Failed: r.Failed, Elapsed: r.Elapsed, P50: r.P50, P99: r.P99,
		GeneratorCPU: selfCPU() - cpu, Reasons: r.Reasons}
	if whileUp != nil {
		return out, whileUp()
	}
	return out, nil
}
