package ike

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"ipsecgw/bench/lab"
	"ipsecgw/ike"
)

// options are the command-line settings.
type options struct {
	tunnels    int
	inFlight   int
	shards     int
	groups     []string
	responders []string
	timeout    time.Duration // per tunnel
	dir        string
	binary     string
}

// Main is `ipsecgw bench ike`: it parses args, runs every responder and
// group, and prints the table. Without root it says so loudly and
// returns 0, as bench/throughput does.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench ike", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.tunnels, "n", 2000, "IKE SAs (each with one Child SA) to open per responder and group")
	fs.IntVar(&o.inFlight, "inflight", 64, "tunnels being set up at once (ipsecgw and strongSwan ask for cookies above 64 half-open)")
	fs.IntVar(&o.shards, "engines", runtime.NumCPU(), "initiator engines in the generator (each is one core at most)")
	groups := fs.String("groups", "group19,group31,group31+mlkem768,group19"+ecdsaSuffix, "key exchange groups, comma-separated (group19: ECP-256, group31: Curve25519; "+
		"group31+mlkem768: ML-KEM-768 after it in IKE_INTERMEDIATE; a group with "+ecdsaSuffix+": ECDSA P-256 certificates instead of the pre-shared key)")
	responders := fs.String("responders", "ipsecgw,strongswan", "responders to measure, comma-separated")
	fs.DurationVar(&o.timeout, "timeout", 40*time.Second, "a tunnel not up within this is a failure (the initiator retransmits for 31 s)")
	lab.WorkFlags(fs, &o.dir, &o.binary, "the responder daemon")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.groups = strings.Split(*groups, ",")
	o.responders = strings.Split(*responders, ",")
	if o.tunnels < 1 || o.inFlight < 1 || o.shards < 1 {
		fmt.Fprintln(stderr, "bench ike: -n, -inflight and -engines must be at least 1")
		return 2
	}
	if lab.NotRoot(stderr, "ipsecgw bench ike", "`make bench-ike` or `ipsecgw bench ike`") {
		return 0
	}
	done, err := lab.Work("ike", &o.dir, &o.binary)
	if err != nil {
		fmt.Fprintf(stderr, "bench ike: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rows, err := run(ctx, o, stderr)
	if len(rows) > 0 {
		printTable(stdout, rows, o.inFlight, o.shards)
	}
	done(err == nil)
	if err != nil {
		fmt.Fprintf(stderr, "bench ike: %v\n(logs kept in %s)\n", err, o.dir)
		return 1
	}
	return 0
}

// run builds the topology and measures each group against each responder.
func run(ctx context.Context, o options, log io.Writer) ([]row, error) {
	t, err := newTopology(ctx)
	if err != nil {
		return nil, err
	}
	defer t.Destroy()
	var rows []row
	for _, group := range o.groups {
		for _, name := range o.responders {
			var r responder
			switch name {
			case "ipsecgw":
				r = &ipsecgwResponder{binary: o.binary, dir: o.dir}
			case "strongswan":
				if strings.Contains(group, "+mlkem") {
					fmt.Fprintf(log, "bench ike: SKIPPING strongSwan for %s: Debian's strongSwan 5.9 has no ML-KEM\n", group)
					continue
				}
				if err := charonAvailable(); err != nil {
					fmt.Fprintf(log, "bench ike: SKIPPING strongSwan: %v\n", err)
					continue
				}
				r = &strongSwanResponder{dir: o.dir}
			default:
				return rows, fmt.Errorf("responder %q: want ipsecgw or strongswan", name)
			}
			fmt.Fprintf(log, "bench ike: %s, %s: %d tunnels, %d in flight...\n", r.name(), group, o.tunnels, o.inFlight)
			row, err := measure(ctx, o, t, r, group, log)
			if err != nil {
				return rows, fmt.Errorf("%s %s: %w", r.name(), group, err)
			}
			rows = append(rows, row)
			if ctx.Err() != nil {
				return rows, ctx.Err()
			}
		}
	}
	return rows, nil
}

// measure runs one responder with one group: start it, open the tunnels,
// read its memory and its own count of SAs, stop it.
func measure(ctx context.Context, o options, t *topology, r responder, group string, log io.Writer) (out row, err error) {
	var gen *credentials
	if _, ecdsa := splitGroup(group); ecdsa {
		if gen, err = newCredentials(filepath.Join(o.dir, "generator-"+r.name()+"-"+group), "generator"); err != nil {
			return out, err
		}
		r.certs().genCert = gen.certPEM
	}
	p, err := r.up(ctx, t, group)
	defer func() {
		// A responder slow to tear down tens of thousands of SAs is
		// killed after the grace period; the measurement stands.
		if derr := r.down(); derr != nil {
			fmt.Fprintf(log, "bench ike: warning: %v\n", derr)
		}
	}()
	if err != nil {
		return out, err
	}
	peer, err := generatorPeer(r, group)
	if err != nil {
		return out, err
	}
	if gen != nil {
		if err := generatorAuth(peer, gen, r.certs().cert); err != nil {
			return out, err
		}
	}
	res := newResults(o.tunnels, o.inFlight)
	listen := func(ap netip.AddrPort) (*net.UDPConn, error) { return t.ListenUDP("gen", ap) }
	g, err := newGenerator(listen, []netip.Addr{r.local()}, o.shards, []*ike.Peer{peer}, res)
	if err != nil {
		return out, err
	}
	defer g.close()

	time.Sleep(200 * time.Millisecond) // let the responder settle before the baseline
	before, err := p.RSS()
	if err != nil {
		return out, err
	}
	cpuBefore, err := p.CPU()
	if err != nil {
		return out, err
	}
	genBefore := selfCPU()
	start := time.Now()
	if err := drive(ctx, g, res, []netip.Addr{r.address()}, o.tunnels, o.timeout); err != nil {
		return out, err
	}
	out = res.summarize(r.name(), group, start)
	out.GeneratorCPU = selfCPU() - genBefore
	cpuAfter, err := p.CPU()
	if err != nil {
		return out, err
	}
	out.ResponderCPU = cpuAfter - cpuBefore
	if out.RSSAfter, err = p.RSS(); err != nil {
		return out, err
	}
	out.RSSBefore = before
	ike, child, err := r.established(ctx)
	if err != nil {
		return out, fmt.Errorf("counting the responder's SAs: %w", err)
	}
	out.Verified = fmt.Sprintf("responder reports %d IKE SAs and %d Child SAs up", ike, child)
	if child < 0 {
		out.Verified = fmt.Sprintf("responder reports %d IKE SAs up (Child SAs not listed)", ike)
		child = out.Up
	}
	if ike != out.Up || child != out.Up {
		out.Verified += fmt.Sprintf(" (MISMATCH: the generator counted %d)", out.Up)
	}
	return out, nil
}

// drive opens n tunnels, round-robin over remotes, and waits until every
// one is up or failed; a sweep fails those the engines gave up on or that
// are past timeout.
func drive(ctx context.Context, g *generator, res *results, remotes []netip.Addr, n int, timeout time.Duration) error {
	stopSweep := make(chan struct{})
	defer close(stopSweep)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSweep:
				return
			case <-tick.C:
				for _, s := range g.shards {
					s.sweep(timeout)
				}
			}
		}
	}()
	launched := launch(ctx, g, remotes, res, n)
	select {
	case <-res.all:
	case <-ctx.Done():
		return ctx.Err()
	}
	if launched < n {
		return fmt.Errorf("only %d of %d tunnels launched", launched, n)
	}
	return nil
}

// launch starts n tunnels across the shards, the i-th to remotes[i mod
// len(remotes)], never more than the slots in flight, and returns how many
// it started (fewer only when cancelled).
func launch(ctx context.Context, g *generator, remotes []netip.Addr, res *results, n int) int {
	for i := 0; i < n; i++ {
		select {
		case res.slots <- struct{}{}:
		case <-ctx.Done():
			return i
		}
		s := g.shards[i%len(g.shards)]
		if err := s.engine.Initiate(remotes[i%len(remotes)]); err != nil {
			res.done(0, "Initiate: "+err.Error(), nil)
		}
	}
	return n
}
