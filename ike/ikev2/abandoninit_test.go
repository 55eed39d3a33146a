package ikev2

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
	"ipsecgw/test/syncbuf"
)

// ikeWire counts what crosses a pipe: the IKE_SA_INIT requests each
// address sent, and the INFORMATIONAL requests (a DELETE, or a liveness
// check) of either side. lose drops the first IKE_SA_INIT request when
// set. Its methods run under the pipe's lock.
type ikeWire struct {
	inits         map[netip.Addr]int
	informational int
	lose, lost    bool
}

func (w *ikeWire) tap(b []byte, from, _ netip.AddrPort) {
	h, err := wire.ParseHeader(b)
	if err != nil || h.IsResponse() {
		return
	}
	switch h.Exchange {
	case wire.IKE_SA_INIT:
		if w.inits == nil {
			w.inits = map[netip.Addr]int{}
		}
		w.inits[from.Addr()]++
	case wire.INFORMATIONAL:
		w.informational++
	}
}

func (w *ikeWire) drop(b []byte) bool {
	h, err := wire.ParseHeader(b)
	if err != nil || !w.lose || w.lost || h.IsResponse() || h.Exchange != wire.IKE_SA_INIT {
		return false
	}
	w.lost = true
	return true
}

// watch has the pipe count its messages in w.
func (p *pipe) watch(w *ikeWire) {
	p.mu.Lock()
	p.tap, p.drop = w.tap, w.drop
	p.mu.Unlock()
}

// sideClock is sideWith on the clock given.
func sideClock(t *testing.T, src string, p *pipe, inst ike.Installer, clk clock.Clock) *Engine {
	t.Helper()
	e := multiSideClock(t, src, p, inst, clk)
	t.Cleanup(func() { e.Close(); p.wg.Wait() })
	return e
}

// runClock advances clk by a second at a time, for d, letting the
// engines handle what each second's timers sent.
func runClock(p *pipe, clk *clock.Fake, d time.Duration) {
	for ; d > 0; d -= time.Second {
		clk.Advance(time.Second)
		p.wg.Wait()
		time.Sleep(2 * time.Millisecond)
		p.wg.Wait()
	}
}

const vpn1KeptUp = "set security ipsec vpn vpn1 establish-tunnels immediately\n"

// TestLostFirstInitiation: both sides keep the tunnel up and a initiates
// first, but its IKE_SA_INIT is lost (sent before b listened); b initiates
// before a retransmits. b's IKE SA comes up, with a its responder, and a
// gives its own initiation up: one IKE_SA_INIT from a, no second IKE SA,
// no DELETE, exactly one Child SA of each VPN made on each side and none
// removed. Before, a's retransmission a second later made a second IKE SA
// with a second Child SA, and dedupe deleted one of the two with its Child
// SA. With two VPNs kept up on the gateway; and with a's initiation for a
// VPN that traffic brought up (on-traffic) that b does not keep up: its
// Child SA comes up on b's IKE SA instead, asked for by a.
func TestLostFirstInitiation(t *testing.T) {
	ra, rb := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		name         string
		confA, confB string
		vpn          string // a initiates for it
		ifIdle       bool
		first, all   []string // the VPNs with a Child SA before a's second passes, and in the end
	}{
		{name: "one-vpn", confA: vpn1KeptUp, confB: vpn1KeptUp, vpn: "vpn1",
			first: []string{"vpn1"}, all: []string{"vpn1"}},
		{name: "two-vpns", confA: fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2"), confB: fmt.Sprintf(twoVPNs, 2, 1, "immediately", "1"),
			vpn: "vpn1", first: []string{"vpn1", "vpn2"}, all: []string{"vpn1", "vpn2"}},
		{name: "on-traffic", confA: fmt.Sprintf(twoVPNs, 1, 2, "on-traffic", "2") + vpn1KeptUp,
			confB: fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1") + vpn1KeptUp,
			vpn:   "vpn2", ifIdle: true, first: []string{"vpn1"}, all: []string{"vpn1", "vpn2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			ia, ib := newVPNInstalls(), newVPNInstalls()
			a := sideClock(t, vpnSideConfig(1, 2, tc.confA), p, ia, clk)
			b := sideClock(t, vpnSideConfig(2, 1, tc.confB), p, ib, clk)
			var logA syncbuf.Buffer
			a.log = slog.New(slog.NewTextHandler(&logA, nil))
			la, lb := listen(a), listen(b)
			w := &ikeWire{lose: true}
			p.watch(w)
			if err := a.InitiateVPNFrom(netip.Addr{}, ra, tc.vpn, tc.ifIdle); err != nil {
				t.Fatal(err)
			}
			if err := b.InitiateVPNFrom(netip.Addr{}, rb, "vpn1", false); err != nil {
				t.Fatal(err)
			}
			oneSAWith(t, b, "b, before a's retransmission", tc.first...)
			oneSAWith(t, a, "a, before its retransmission", tc.first...)
			runClock(p, clk, 10*time.Second) // a's retransmissions, the responder's wait for the VPNs, dedupe's
			sa, sb := oneSAWith(t, a, "a", tc.all...), oneSAWith(t, b, "b", tc.all...)
			if sa.InitiatorSPI != sb.InitiatorSPI || sa.ResponderSPI != sb.ResponderSPI || sa.Initiator || !sb.Initiator {
				t.Fatalf("a keeps %+v, b %+v: want b's IKE SA on both", sa, sb)
			}
			if n, m := len(a.SAs()), len(b.SAs()); n != 1 || m != 1 {
				t.Fatalf("%d IKE SAs listed on a, %d on b, want one each: %+v / %+v", n, m, a.SAs(), b.SAs())
			}
			p.mu.Lock()
			initsA, initsB, info := w.inits[rb], w.inits[ra], w.informational
			p.mu.Unlock()
			if initsA != 1 || initsB != 1 || info != 0 {
				t.Fatalf("IKE_SA_INIT requests: %d from a, %d from b (want 1 each); %d INFORMATIONAL requests (want none)", initsA, initsB, info)
			}
			for who, i := range map[string]*vpnInstalls{"a": ia, "b": ib} {
				for _, v := range tc.all {
					if made, removed, live, _ := i.counts(v); made != 1 || removed != 0 || live != 1 {
						t.Fatalf("%s: %s Child SAs made %d, removed %d (all VPNs), live %d: want one made, none removed", who, v, made, removed, live)
					}
				}
			}
			for who, l := range map[string]*eventLog{"a": la, "b": lb} {
				if f := l.of(ike.NegotiationFailed); len(f) != 0 {
					t.Fatalf("%s reported failed negotiations: %+v", who, f)
				}
				for _, v := range tc.all {
					n := 0
					for _, ev := range l.of(ike.ChildUp) {
						if ev.VPN == v {
							n++
						}
					}
					if n != 1 {
						t.Fatalf("%s: %d Child SA up events of %s, want 1", who, n, v)
					}
				}
			}
			if n, m := a.AbandonedInitiations(), b.AbandonedInitiations(); n != 1 || m != 0 {
				t.Fatalf("initiations given up: %d on a, %d on b; want 1 and 0", n, m)
			}
			if s := logA.String(); !strings.Contains(s, "giving ours up") || !strings.Contains(s, "vpn="+tc.vpn) {
				t.Fatalf("a's log does not say it gave up its initiation for %s:\n%s", tc.vpn, s)
			}
		})
	}
}

// TestAnsweredInitiationsDedupe: both sides initiate and each IKE_SA_INIT
// is answered before the peer's IKE_AUTH arrives (every IKE_AUTH request
// is held until both are out), so no initiation is unanswered when the
// peer's IKE SA comes up: none is given up, and dedupe settles the two
// IKE SAs as before, one side deleting its own.
func TestAnsweredInitiationsDedupe(t *testing.T) {
	a, b, p := plainPair(t, nil)
	var la, lb syncbuf.Buffer
	a.log, b.log = slog.New(slog.NewTextHandler(&la, nil)), slog.New(slog.NewTextHandler(&lb, nil))
	w := &ikeWire{}
	p.watch(w)
	initiateBothAnswered(t, p, a, b)
	within(t, "one IKE SA each, the same", func() bool { return oneSameSA(a, b) })
	if n, m := a.AbandonedInitiations(), b.AbandonedInitiations(); n != 0 || m != 0 {
		t.Fatalf("answered initiations given up: %d on a, %d on b", n, m)
	}
	const deleted = "duplicate IKE SA from a simultaneous initiation; deleting ours"
	if n := strings.Count(la.String(), deleted) + strings.Count(lb.String(), deleted); n != 1 {
		t.Fatalf("%d sides deleted their duplicate IKE SA, want 1:\na: %s\nb: %s", n, la.String(), lb.String())
	}
	p.mu.Lock()
	info := w.informational
	p.mu.Unlock()
	if info == 0 {
		t.Fatal("no DELETE crossed")
	}
}

// plainPair is two engines on a pipe, a at 192.0.2.1 and b at .2, each
// with one gateway to the other (gatewayConfig), closed at the end.
func plainPair(t *testing.T, clk clock.Clock) (a, b *Engine, p *pipe) {
	t.Helper()
	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ = newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
	b, _, _ = newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		p.wg.Wait()
	})
	return a, b, p
}

// initiateBothAnswered has a (192.0.2.1) and b (192.0.2.2) initiate to
// each other with each IKE_AUTH request held until both are out, so that
// neither IKE_SA_INIT is unanswered when the peer's IKE SA comes up
// (crossAnswered, dupvpns_test.go).
func initiateBothAnswered(t *testing.T, p *pipe, a, b *Engine) {
	t.Helper()
	crossAnswered(t, p, nil, func() error { return a.Initiate(netip.MustParseAddr("192.0.2.2")) },
		func() error { return b.Initiate(netip.MustParseAddr("192.0.2.1")) })
}

// oneSameSA: a and b list one IKE SA each, up with one Child SA, the same.
func oneSameSA(a, b *Engine) bool {
	sa, sb := upSAs(a), upSAs(b)
	return len(a.SAs()) == 1 && len(b.SAs()) == 1 && len(sa) == 1 && len(sb) == 1 && sa[0].InitiatorSPI == sb[0].InitiatorSPI
}

// TestInitiationAnsweredTooLate: the IKE_SA_INIT requests cross, and the
// exchange of a's comes late, after b's IKE_AUTH: b's answer to a's
// request ("answer-late") or a's request itself ("request-late", b
// answers it once b's IKE SA is up). b's IKE SA is up at a while a's own
// initiation is unanswered, so a gives it up, and drops the late answer.
// b holds a half-open SA for it, which goes quietly after givenUpWait
// (not halfOpenTimeout) as b's own IKE SA is up. Both end with b's IKE SA
// alone; no DELETE crossed, no negotiation failed. (Both sides cannot
// give up both: b's initiation got its answer before it sent IKE_AUTH.)
func TestInitiationAnsweredTooLate(t *testing.T) {
	ra, rb := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		name     string
		response bool // the answer comes late, else the request
	}{{"answer-late", true}, {"request-late", false}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			a, b, p := plainPair(t, clk)
			la, lb := listen(a), listen(b)
			w := &ikeWire{}
			p.watch(w)
			p.mu.Lock()
			p.holdIf = func(b []byte, from, to netip.AddrPort) bool {
				h, err := wire.ParseHeader(b)
				aInit := err == nil && h.Exchange == wire.IKE_SA_INIT && h.IsResponse() == tc.response
				return aInit && (tc.response && to.Addr() == rb || !tc.response && from.Addr() == rb)
			}
			p.mu.Unlock()
			a.Initiate(ra)
			within(t, "a's IKE_SA_INIT exchange held", func() bool {
				p.mu.Lock()
				defer p.mu.Unlock()
				return len(p.held) == 1
			})
			b.Initiate(rb)
			within(t, "b's IKE SA up on both sides, a's initiation given up", func() bool {
				return len(upSAs(a)) == 1 && len(upSAs(b)) == 1 && len(a.SAs()) == 1 && a.AbandonedInitiations() == 1
			})
			noSA := a.Drops()["no-sa"]
			p.release()
			within(t, "the late answer dropped by a", func() bool { return a.Drops()["no-sa"] == noSA+1 })
			if n := len(b.SAs()); n != 2 {
				t.Fatalf("b lists %d IKE SAs, want its own and the half-open one of a's initiation: %+v", n, b.SAs())
			}
			runClock(p, clk, givenUpWait)
			sa, sb := a.SAs(), b.SAs()
			if len(sa) != 1 || len(sb) != 1 || sa[0].InitiatorSPI != sb[0].InitiatorSPI || !sb[0].Initiator || sa[0].State != "UP" || sb[0].State != "UP" {
				t.Fatalf("IKE SAs %v after the half-open one's wait: a %+v, b %+v; want b's on both", givenUpWait, sa, sb)
			}
			p.mu.Lock()
			info := w.informational
			p.mu.Unlock()
			if info != 0 || b.AbandonedInitiations() != 0 {
				t.Fatalf("%d INFORMATIONAL requests, %d initiations given up by b: want none", info, b.AbandonedInitiations())
			}
			if f := append(la.of(ike.NegotiationFailed), lb.of(ike.NegotiationFailed)...); len(f) != 0 {
				t.Fatalf("negotiations reported failed: %+v", f)
			}
		})
	}
}

// TestOtherGatewayLeavesInitiation: a has two gateways to one peer
// address, from two local addresses. Its IKE_SA_INIT on gw1 is lost, and
// the peer's IKE SA comes up on gw2: a keeps its gw1 initiation, whose
// retransmission brings gw1's IKE SA up.
func TestOtherGatewayLeavesInitiation(t *testing.T) {
	l1, l2, r := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("192.0.2.2")
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a := sideClock(t, twoGatewaysConfig([][2]string{{l1.String(), r.String()}, {l2.String(), r.String()}}), p, &installs{}, clk)
	b := sideClock(t, twoGatewaysConfig([][2]string{{r.String(), l1.String()}, {r.String(), l2.String()}}), p, &installs{}, clk)
	w := &ikeWire{lose: true}
	p.watch(w)
	if err := a.InitiateFrom(l1, r); err != nil {
		t.Fatal(err)
	}
	if err := b.InitiateFrom(r, l2); err != nil {
		t.Fatal(err)
	}
	within(t, "gw2's IKE SA up on both sides", func() bool { return len(upSAs(a)) == 1 && len(upSAs(b)) == 1 })
	if got := upSAs(a)[0].Gateway; got != "gw2" {
		t.Fatalf("IKE SA up on %s, want gw2", got)
	}
	if n := a.AbandonedInitiations(); n != 0 {
		t.Fatalf("a gave up %d initiations for another gateway's IKE SA", n)
	}
	runClock(p, clk, time.Second) // gw1's retransmission
	within(t, "gw1's IKE SA up too", func() bool { return len(upSAs(a)) == 2 && len(upSAs(b)) == 2 })
	for _, s := range a.SAs() {
		if s.Initiator != (s.Gateway == "gw1") {
			t.Fatalf("IKE SA %+v: a initiated gw1's, b gw2's", s)
		}
	}
}

// TestLaterHalfOpenWaitsAsAny: long after a's IKE SA with b came up, b
// begins another (as a peer that reauthenticates with a new IKE SA does)
// and its IKE_AUTH requests are lost. a's half-open SA of it is no
// initiation b gave up for a's: it waits halfOpenTimeout, not givenUpWait.
func TestLaterHalfOpenWaitsAsAny(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b, p := plainPair(t, clk)
	ra, rb := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	a.Initiate(ra)
	within(t, "a's IKE SA up on both sides", func() bool { return oneSameSA(a, b) })
	runClock(p, clk, time.Minute)
	p.mu.Lock()
	p.drop = func(msg []byte) bool {
		h, err := wire.ParseHeader(msg)
		return err == nil && h.Exchange == wire.IKE_AUTH && !h.IsResponse()
	}
	p.mu.Unlock()
	b.Initiate(rb)
	within(t, "b's IKE_SA_INIT answered", func() bool { return len(a.SAs()) == 2 })
	runClock(p, clk, givenUpWait+time.Second)
	if n := len(a.SAs()); n != 2 {
		t.Fatalf("a lists %d IKE SAs %v after b's IKE_SA_INIT, want its own and b's half-open one: %+v", n, givenUpWait+time.Second, a.SAs())
	}
	runClock(p, clk, halfOpenTimeout-givenUpWait)
	if sas := a.SAs(); len(sas) != 1 || !sas[0].Initiator {
		t.Fatalf("a lists %+v after halfOpenTimeout, want its own IKE SA alone", sas)
	}
}
