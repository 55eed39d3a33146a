// Package demo runs the seed 004 example in one process, unprivileged, in
// seconds: two gateways (Peer1, Peer2) from the shipped configurations,
// each with a userspace host behind it (Host1, Host2); the gateways
// negotiate IKEv2, the hosts ping each other and move TCP through the
// tunnel, and the demo prints the seed's verification commands with the
// live values.
//
// The steps, in order (Run is their table of contents):
//
//	start     Peer1 (responder-only) then Peer2, on an in-memory network
//	negotiate wait until both have an IKE SA UP and an IPsec SA pair
//	ping      Host1 → Host2, then Host2 → Host1
//	tcp       Host1 → Host2, a few MB, rate measured at Host2
//	[soak]    --duration: TCP both ways for that long, statistics again
//	verify    what each gateway encrypted the other decrypted
//	show      the five seed commands on each gateway
package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/show"
	"ipsecgw/view"
)

// Options configure a run.
type Options struct {
	Scenario  string        // a key of Scenarios; "" is seed004
	ConfigDir string        // where peer1.conf and peer2.conf are; "": the copies built into the binary
	Duration  time.Duration // keep traffic running this long after the first round (0: none)
	JSON      bool          // print the show outputs as `| display json`
	TCPBytes  int64         // the TCP transfer; 0 is the scenario's size or DefaultTCPBytes
	Out       io.Writer     // progress and show outputs
	Logger    *slog.Logger  // the gateways' logs; nil discards them
}

// DefaultTCPBytes is the size of the TCP transfer.
const DefaultTCPBytes = 8 << 20

// negotiateTimeout bounds the wait for the IKE and IPsec SAs.
const negotiateTimeout = 5 * time.Second

// The addresses of the seed: the outer ones of the gateways' et-0/2/10,
// the hosts on et-0/1/8's subnets (1.1.1.0/24 behind Peer1, 2.2.2.0/24
// behind Peer2). Nothing leaves the process, so they stay as published.
var (
	peer1Outer = netip.MustParseAddr("16.1.1.2")
	peer2Outer = netip.MustParseAddr("16.1.1.1")
	host1Addr  = netip.MustParseAddr("1.1.1.2")
	host2Addr  = netip.MustParseAddr("2.2.2.2")
)

// Run runs the demo and reports the first step that failed.
func Run(ctx context.Context, o Options) error {
	if o.Scenario == "" {
		o.Scenario = "seed004"
	}

	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sc, ok := Scenarios[o.Scenario]
	if !ok {
		return fmt.Errorf("unknown scenario %q; expected one of %s", o.Scenario, strings.Join(ScenarioNames(), ", "))
	}
	if o.TCPBytes == 0 {
		o.TCPBytes = cmp.Or(sc.tcpBytes, DefaultTCPBytes)
	}
	r := &run{o: o, began: time.Now()}
	r.step("scenario %s: %s", sc.Name, sc.Description)
	if sc.run != nil {
		return sc.run(r, ctx, sc)
	}
	l, err := r.start(sc)
	if err != nil {
		return err
	}
	r.lab = l
	defer func() {
		if err := l.close(); err != nil {
			r.step("shutdown: %v", err)
		}
	}()
	for _, f := range []func(context.Context) error{r.negotiate, r.ping, r.tcp, r.soak, r.verify} {
		if err := f(ctx); err != nil {
			return err
		}
	}
	r.show(time.Now())
	r.step("done in %v", time.Since(r.began).Round(time.Millisecond))
	return nil
}

type run struct {
	o     Options
	lab   *lab
	began time.Time
	outMu sync.Mutex // the cluster scenario prints from several goroutines
}

func (r *run) step(format string, args ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	fmt.Fprintf(r.o.Out, "[%6.3fs] %s\n", time.Since(r.began).Seconds(), fmt.Sprintf(format, args...))
}

func (r *run) peer1() *gateway { return r.lab.gateways[0] }
func (r *run) peer2() *gateway { return r.lab.gateways[1] }

func (r *run) start(sc Scenario) (*lab, error) {
	c1, c2, err := sc.loadConfigs(r.o.ConfigDir)
	if err != nil {
		return nil, err
	}
	from := r.o.ConfigDir
	if from == "" {
		from = "examples/seed004 (built in)"
	}
	r.step("starting Peer1 (%s, responder-only) and Peer2 (%s) from %s/peer{1,2}.conf", peer1Outer, peer2Outer, from)
	return startLab([]gatewaySpec{
		{name: "Peer1", hostName: "Host1", config: c1, outer: peer1Outer, host: host1Addr},
		{name: "Peer2", hostName: "Host2", config: c2, outer: peer2Outer, host: host2Addr},
	}, r.o.Logger, sc.prepare)
}

// negotiate waits until both gateways have an IKE SA UP and an installed
// SA pair.
func (r *run) negotiate(ctx context.Context) error {
	r.step("negotiating IKEv2 (Peer2 initiates)...")
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, negotiateTimeout)
	defer cancel()
	for {
		ready := true
		for _, g := range r.lab.gateways {
			ready = ready && tunnelUp(g)
		}
		if ready {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("IKEv2 negotiation did not finish in %v: %s", negotiateTimeout, r.why())
		case <-time.After(5 * time.Millisecond):
		}
	}
	sa := r.peer2().d.Status().IKE[0]
	integrity := sa.Integrity
	if integrity == "" {
		integrity = "aead"
	}
	r.step("IKE SA UP in %v: %s/%s/%s/%s, cookies %016x:%016x", time.Since(start).Round(time.Millisecond),
		sa.Encryption, integrity, sa.PRF, sa.Group, sa.InitiatorSPI, sa.ResponderSPI)
	for _, g := range r.lab.gateways {
		var spis []string
		for _, s := range g.d.Status().SAs {
			spis = append(spis, s.Direction+" "+s.SPI)
		}
		r.step("%s: IPsec SAs installed on st0.1: %s", g.name, strings.Join(spis, ", "))
	}
	return nil
}

// tunnelUp reports whether g has an IKE SA UP and an inbound and an
// outbound SA.
func tunnelUp(g *gateway) bool { return daemonTunnelUp(g.d) }

// daemonTunnelUp reports whether d has an IKE SA UP and an inbound and an
// outbound SA.
func daemonTunnelUp(d *daemon.Daemon) bool {
	st := d.Status()
	up := false
	for _, sa := range st.IKE {
		up = up || sa.State == "UP"
	}
	var in, out bool
	for _, s := range st.SAs {
		in = in || s.Direction == "inbound"
		out = out || s.Direction == "outbound"
	}
	return up && in && out
}

// why says what the gateways know of a failed negotiation.
func (r *run) why() string {
	var reasons []string
	for _, g := range r.lab.gateways {
		st := g.d.Status()
		for _, f := range st.Failures {
			reasons = append(reasons, fmt.Sprintf("%s: IKE SA with %s failed: %s", g.name, f.Remote, f.Failure.Message))
		}
		for _, sa := range st.IKE {
			reasons = append(reasons, fmt.Sprintf("%s: IKE SA with %s is %s", g.name, sa.Remote, sa.State))
		}
	}
	if len(reasons) == 0 {
		return "no IKE SA on either gateway"
	}
	return strings.Join(reasons, "; ")
}

func (r *run) ping(ctx context.Context) error {
	for _, dir := range [][2]*gateway{{r.peer1(), r.peer2()}, {r.peer2(), r.peer1()}} {
		from, to := dir[0], dir[1]
		rtts, lost, err := ping(ctx, from.net, from.host, to.host, 3)
		if err != nil {
			return fmt.Errorf("%s → %s: %w (%s)", from.hostName, to.hostName, err, r.paths())
		}
		var ms []string
		for _, d := range rtts {
			ms = append(ms, fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000))
		}
		r.step("%s %s → %s %s: 3 echo replies (%d lost), rtt %s", from.hostName, from.host, to.hostName, to.host, lost, strings.Join(ms, ", "))
	}
	return nil
}

func (r *run) tcp(ctx context.Context) error {
	r.step("TCP %s → %s: sending %.1f MB...", r.peer1().hostName, r.peer2().hostName, float64(r.o.TCPBytes)/1e6)
	t, err := tcpStream(ctx, r.peer1().net, r.peer2().net, netip.AddrPortFrom(host2Addr, 5001), r.o.TCPBytes)
	if err != nil {
		return fmt.Errorf("Host1 → Host2: %w", err)
	}
	r.step("TCP Host1 → Host2: %s", t)
	return nil
}

// soak keeps TCP running both ways for the duration and prints the
// statistics again.
func (r *run) soak(ctx context.Context) error {
	if r.o.Duration <= 0 {
		return nil
	}
	r.step("traffic for %v: TCP Host1 → Host2 and Host2 → Host1...", r.o.Duration)
	ctx, cancel := context.WithTimeout(ctx, r.o.Duration)
	defer cancel()
	type result struct {
		t   transfer
		err error
	}
	back := make(chan result, 1)
	go func() {
		t, err := tcpStream(ctx, r.peer2().net, r.peer1().net, netip.AddrPortFrom(host1Addr, 5002), 0)
		back <- result{t, err}
	}()
	there, err := tcpStream(ctx, r.peer1().net, r.peer2().net, netip.AddrPortFrom(host2Addr, 5003), 0)
	b := <-back
	if err = errors.Join(err, b.err); err != nil {
		return fmt.Errorf("traffic: %w", err)
	}
	r.step("TCP Host1 → Host2: %s", there)
	r.step("TCP Host2 → Host1: %s", b.t)
	for _, g := range r.lab.gateways {
		r.command(g, "show security ipsec statistics", show.IPsecStatistics(view.Build(g.d.Status(), g.d.Config(), time.Now()).Statistics))
	}
	return nil
}

// paths says where packets went, for a failure report.
func (r *run) paths() string {
	var parts []string
	for _, g := range r.lab.gateways {
		s := g.d.Status().Global
		ts := g.st0.Stats()
		parts = append(parts, fmt.Sprintf("%s: encrypted %d, decrypted %d, no SA %d, host→st0 %d (dropped %d, unrouted %d), st0→host %d",
			g.name, s.EncryptedPackets, s.DecryptedPackets, s.NoSA, ts.Injected, ts.InjectDrops, g.unrouted.Load(), ts.Written))
	}
	return strings.Join(parts, "; ")
}

// verify checks the counters agree: each gateway decrypted what the other
// encrypted, less what the in-memory network dropped on the way.
func (r *run) verify(ctx context.Context) error {
	// Let the last packets of the streams land.
	time.Sleep(100 * time.Millisecond)
	s1, s2 := r.peer1().d.Status().Global, r.peer2().d.Status().Global
	ns := r.lab.network.Stats()
	lost := ns.QueueFull + ns.Undeliverable + ns.NoListener
	bad := s1.AuthFailures + s1.ReplayErrors + s1.DecryptFailures + s2.AuthFailures + s2.ReplayErrors + s2.DecryptFailures
	r.step("counters: Peer1 encrypted %d packets, Peer2 decrypted %d; Peer2 encrypted %d, Peer1 decrypted %d; %d lost in the network, %d ESP errors",
		s1.EncryptedPackets, s2.DecryptedPackets, s2.EncryptedPackets, s1.DecryptedPackets, lost, bad)
	switch {
	case s1.EncryptedPackets == 0 || s2.EncryptedPackets == 0:
		return errors.New("counters: a gateway encrypted nothing")
	case s2.DecryptedPackets > s1.EncryptedPackets || s1.DecryptedPackets > s2.EncryptedPackets:
		return errors.New("counters: a gateway decrypted more than its peer encrypted")
	case s1.EncryptedPackets+s2.EncryptedPackets-s1.DecryptedPackets-s2.DecryptedPackets > lost:
		return errors.New("counters: packets encrypted and never decrypted, more than the network lost")
	case bad > 0:
		return errors.New("counters: ESP errors on a clean in-memory network")
	}
	return nil
}

// show prints the seed's verification commands on each gateway.
func (r *run) show(now time.Time) {
	for _, g := range r.lab.gateways {
		v := view.Build(g.d.Status(), g.d.Config(), now)
		r.command(g, "show security ike security-associations", show.IKESecurityAssociations(v.IKE, show.IKEQuery{}))
		for _, sa := range v.IKE {
			r.command(g, fmt.Sprintf("show security ike security-associations index %d detail", sa.Index),
				show.IKESecurityAssociations(v.IKE, show.IKEQuery{Index: sa.Index, Style: show.StyleDetail}))
		}
		r.command(g, "show security ipsec security-associations", show.IPsecSecurityAssociations(v.IPsec, show.IPsecQuery{}))
		for _, tn := range v.IPsec.Tunnels {
			r.command(g, fmt.Sprintf("show security ipsec security-associations index %d detail", tn.ID),
				show.IPsecSecurityAssociations(v.IPsec, show.IPsecQuery{Index: tn.ID, Style: show.StyleDetail}))
		}
		r.command(g, "show security ipsec statistics", show.IPsecStatistics(v.Statistics))
	}
}

func (r *run) command(g *gateway, cmd string, reply show.Reply) { r.commandAs(g.name, cmd, reply) }

func (r *run) commandAs(name, cmd string, reply show.Reply) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	if r.o.JSON {
		fmt.Fprintf(r.o.Out, "\nuser@%s> %s | display json\n%s", name, cmd, reply.JSON())
		return
	}
	fmt.Fprintf(r.o.Out, "\nuser@%s> %s\n%s", name, cmd, reply.Text())
}
