package ikev2

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// TestDedupeKeepsVPNsUp: both sides initiate at once, each for a VPN of
// its own (a for vpn1, b for vpn2), and both IKE SAs come up (the
// IKE_SA_INIT and IKE_AUTH requests of each side are held until the
// other's are out), each carrying the Child SA of the VPN its initiator
// asked for. dedupe deletes one IKE SA; every VPN ends with exactly one
// Child SA, on the IKE SA both keep, on both sides, and its events say
// it came up and stayed up. Before, a VPN not kept up (on-traffic) whose
// only Child SA was on the deleted IKE SA was down until traffic asked
// again. Cases: both VPNs on-traffic; both kept up (immediately); vpn1
// kept up and vpn2 on traffic at a (responder-only at b); one VPN; and a
// peer that keeps its duplicate (every DELETE an IKE SA's initiator sends
// is lost), whose IKE SA the other side deletes after duplicateIKEWait
// (dupike.go): the VPNs move on the side that deletes and on the side the
// DELETE comes to, whichever it is. And with both sides asking at once
// ("crossing": the CREATE_CHILD_SA requests are held until both are out,
// the kept IKE SA's responder's after responderVPNWait): childdup.go's
// tie-break leaves one Child SA of the VPN. In "mixed", b, responder-only
// for vpn2, sends no CREATE_CHILD_SA request whichever IKE SA is kept:
// a asks for vpn2 if it moves, and vpn1, kept up at a, is a's to ask for
// first if it does. Each case runs four times (the SPIs, random, pick the
// IKE SA kept).
func TestDedupeKeepsVPNsUp(t *testing.T) {
	ra, rb := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	mixedA := fmt.Sprintf(twoVPNs, 1, 2, "on-traffic", "2") + vpn1KeptUp
	mixedB := fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1") + vpn1KeptUp
	for _, tc := range []struct {
		name         string
		confA, confB string
		vpnA, vpnB   string // each side initiates for it
		ifIdle       bool
		peerKeeps    bool
		crossing     bool
		bAsksNothing bool // b sends no CREATE_CHILD_SA request
		vpns         []string
		made         int // Child SAs each side makes in all; 0: not counted (each IKE SA's initiator asks for those kept up)
	}{
		{name: "on-traffic", confA: fmt.Sprintf(twoVPNs, 1, 2, "on-traffic", "2"), confB: fmt.Sprintf(twoVPNs, 2, 1, "on-traffic", "1"),
			vpnA: "vpn1", vpnB: "vpn2", ifIdle: true, vpns: []string{"vpn1", "vpn2"}, made: 3},
		{name: "immediately", confA: fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2"), confB: fmt.Sprintf(twoVPNs, 2, 1, "immediately", "1"),
			vpnA: "vpn1", vpnB: "vpn2", vpns: []string{"vpn1", "vpn2"}},
		{name: "mixed", confA: mixedA, confB: mixedB, vpnA: "vpn2", vpnB: "vpn1", ifIdle: true, bAsksNothing: true, vpns: []string{"vpn1", "vpn2"}},
		{name: "one-vpn", confA: vpn1KeptUp, confB: vpn1KeptUp, vpnA: "vpn1", vpnB: "vpn1", vpns: []string{"vpn1"}},
		{name: "peer-keeps", confA: fmt.Sprintf(twoVPNs, 1, 2, "on-traffic", "2"), confB: fmt.Sprintf(twoVPNs, 2, 1, "on-traffic", "1"),
			vpnA: "vpn1", vpnB: "vpn2", ifIdle: true, peerKeeps: true, vpns: []string{"vpn1", "vpn2"}, made: 3},
		{name: "crossing", confA: fmt.Sprintf(twoVPNs, 1, 2, "on-traffic", "2"), confB: fmt.Sprintf(twoVPNs, 2, 1, "on-traffic", "1"),
			vpnA: "vpn1", vpnB: "vpn2", ifIdle: true, crossing: true, vpns: []string{"vpn1", "vpn2"}, made: 4},
	} {
		for run := range 4 {
			t.Run(fmt.Sprintf("%s/%d", tc.name, run), func(t *testing.T) {
				clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
				p := &pipe{engines: map[netip.Addr]*Engine{}}
				ia, ib := newVPNInstalls(), newVPNInstalls()
				a := sideClock(t, vpnSideConfig(1, 2, tc.confA), p, ia, clk) // abandoninit_test.go
				b := sideClock(t, vpnSideConfig(2, 1, tc.confB), p, ib, clk)
				la, lb := listen(a), listen(b)
				if tc.peerKeeps {
					p.mu.Lock()
					p.drop = func(msg []byte) bool {
						h, err := wire.ParseHeader(msg)
						return err == nil && h.Exchange == wire.INFORMATIONAL && !h.IsResponse() && h.Flags&wire.FlagInitiator != 0
					}
					p.mu.Unlock()
				}
				askers := map[netip.Addr]bool{} // under p.mu
				creates := func(msg []byte, from, _ netip.AddrPort) bool {
					h, err := wire.ParseHeader(msg)
					create := err == nil && h.Exchange == wire.CREATE_CHILD_SA && !h.IsResponse()
					if create {
						askers[from.Addr()] = true
					}
					return create && tc.crossing // held until both are out
				}
				crossAnswered(t, p, creates, func() error { return a.InitiateVPNFrom(netip.Addr{}, ra, tc.vpnA, tc.ifIdle) },
					func() error { return b.InitiateVPNFrom(netip.Addr{}, rb, tc.vpnB, tc.ifIdle) })
				p.wg.Wait()
				if tc.crossing {
					for i := 0; ; i++ {
						p.mu.Lock()
						n := len(askers)
						p.mu.Unlock()
						if n == 2 {
							break
						}
						if i == 10 {
							t.Fatalf("CREATE_CHILD_SA requests from %d sides after %d s, want both", n, i)
						}
						runClock(p, clk, time.Second)
					}
					p.release()
				}
				runClock(p, clk, 15*time.Second) // dedupe's DELETE (or duplicateIKEWait's), the responder's wait, a duplicate Child SA's
				p.mu.Lock()
				bAsked := askers[ra] // b's address
				p.mu.Unlock()
				if tc.bAsksNothing && bAsked {
					t.Fatal("b, responder-only for vpn2, sent a CREATE_CHILD_SA request")
				}
				sa, sb := oneSAWith(t, a, "a", tc.vpns...), oneSAWith(t, b, "b", tc.vpns...)
				if sa.InitiatorSPI != sb.InitiatorSPI || sa.ResponderSPI != sb.ResponderSPI || sa.Initiator == sb.Initiator {
					t.Fatalf("a keeps %+v, b %+v: want the same IKE SA", sa, sb)
				}
				if n, m := len(a.SAs()), len(b.SAs()); n != 1 || m != 1 {
					t.Fatalf("%d IKE SAs listed on a, %d on b, want one each: %+v / %+v", n, m, a.SAs(), b.SAs())
				}
				for who, s := range map[string]struct {
					e *Engine
					i *vpnInstalls
					l *eventLog
				}{"a": {a, ia, la}, "b": {b, ib, lb}} {
					if f := s.l.of(ike.NegotiationFailed); len(f) != 0 {
						t.Fatalf("%s reported failed negotiations: %+v", who, f)
					}
					made := 0
					for _, v := range tc.vpns {
						n, _, _, _ := s.i.counts(v)
						made += n
					}
					// One on each IKE SA, and one for the VPN moved (one side
					// asked), or two (both did, crossing).
					if tc.made != 0 && made != tc.made {
						t.Fatalf("%s made %d Child SAs, want %d", who, made, tc.made)
					}
					for _, v := range tc.vpns {
						if _, _, live, _ := s.i.counts(v); live != 1 {
							t.Fatalf("%s: %d Child SAs of %s installed, want 1", who, live, v)
						}
						upDown(t, who, s.l, v, childrenOf(s.e)[v][0])
					}
				}
			})
		}
	}
}

// upDown fails unless the events of vpn say each of its Child SAs came up
// once and went down once, but for live, which came up and is up: the VPN
// ends up, by its events as by the SAs. (The side that deletes the IKE SA
// may see the VPN's Child SA go a round trip before the peer's request
// for its successor comes: the events need not overlap.)
func upDown(t *testing.T, who string, l *eventLog, vpn string, live *ike.ChildSA) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	up := 0
	seen := map[string]int{}
	for _, ev := range l.events {
		switch {
		case ev.VPN != vpn:
		case ev.Kind == ike.ChildUp:
			up++
			seen[ev.SPI]++
		case ev.Kind == ike.ChildDown:
			up--
			seen[ev.SPI]--
		}
	}
	for spi, n := range seen {
		if want := map[bool]int{true: 1, false: 0}[spi == spiHex(live.InboundSPI)]; n != want {
			t.Fatalf("%s: %s's Child SA %s: %d more ups than downs, want %d (live %s)", who, vpn, spi, n, want, spiHex(live.InboundSPI))
		}
	}
	if up != 1 {
		t.Fatalf("%s: %s has %d Child SAs up by its events, want 1", who, vpn, up)
	}
}

// crossAnswered runs startA (a, 192.0.2.1) and startB (b, .2), each an
// initiation to the other, with the IKE_SA_INIT requests held until both
// are out (neither side hears of the other's before it initiates), then
// the IKE_AUTH requests likewise (neither IKE_SA_INIT is unanswered when
// the peer's IKE SA comes up: abandoninit.go). From then on the pipe holds
// what then picks (nil: nothing).
func crossAnswered(t *testing.T, p *pipe, then func([]byte, netip.AddrPort, netip.AddrPort) bool, startA, startB func() error) {
	t.Helper()
	p.mu.Lock()
	p.holdIf = func(msg []byte, _, _ netip.AddrPort) bool {
		h, err := wire.ParseHeader(msg)
		return err == nil && !h.IsResponse() && (h.Exchange == wire.IKE_AUTH || h.Exchange == wire.IKE_SA_INIT)
	}
	p.mu.Unlock()
	for _, start := range []func() error{startA, startB} {
		if err := start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, what := range []string{"both IKE_SA_INIT requests out", "both IKE_AUTH requests out"} {
		within(t, what, func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return len(p.held) == 2
		})
		p.mu.Lock()
		held := p.held
		p.held = nil
		if what == "both IKE_AUTH requests out" {
			p.holdIf = then
		}
		p.mu.Unlock()
		for _, f := range held {
			f()
		}
	}
}
