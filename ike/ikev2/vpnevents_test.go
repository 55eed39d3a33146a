package ikev2

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"ipsecgw/ike"
)

// eventLog is what an engine reported to its Events handler.
type eventLog struct {
	mu     sync.Mutex
	events []ike.Event
}

func (l *eventLog) add(ev ike.Event) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

// of is the events of that kind.
func (l *eventLog) of(kind ike.EventKind) []ike.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ike.Event
	for _, ev := range l.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// listen has the engine report its events to a new log.
func listen(e *Engine) *eventLog {
	l := &eventLog{}
	e.mu.Lock()
	e.events = l.add
	e.mu.Unlock()
	return l
}

// childEventsNameTheirVPN fails unless every Child SA of the engine has an
// event of that kind for its inbound SPI, and each names the Child SA's
// VPN.
func childEventsNameTheirVPN(t *testing.T, who string, e *Engine, l *eventLog, kind ike.EventKind, vpns ...string) {
	t.Helper()
	cs := childrenOf(e)
	for _, vpn := range vpns {
		for _, c := range cs[vpn] {
			var got []string
			for _, ev := range l.of(kind) {
				if ev.SPI == spiHex(c.InboundSPI) {
					got = append(got, ev.VPN)
				}
			}
			if len(got) != 1 || got[0] != vpn {
				t.Fatalf("%s: %s events of %s's Child SA %s name VPNs %q, want [%s]", who, kind, vpn, spiHex(c.InboundSPI), got, vpn)
			}
		}
	}
}

// TestTwoVPNsEventsNameTheirVPN: on a gateway two VPNs share, every
// Child SA event names the VPN of its Child SA, not the gateway's first
// VPN: each Child SA's coming up, vpn2's rekey on both sides (the
// rekey's initiator and its responder), each Child SA resumed from
// an export on another engine, and a Child SA going down on its own
// (childdown_test.go).
func TestTwoVPNsEventsNameTheirVPN(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2"), p)
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1"), p)
	la, lb := listen(a), listen(b)
	if err := a.InitiateVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1", false); err != nil {
		t.Fatal(err)
	}
	oneSAWith(t, a, "initiator", "vpn1", "vpn2")
	oneSAWith(t, b, "responder", "vpn1", "vpn2")
	childEventsNameTheirVPN(t, "initiator", a, la, ike.ChildUp, "vpn1", "vpn2")
	childEventsNameTheirVPN(t, "responder", b, lb, ike.ChildUp, "vpn1", "vpn2")

	before := childrenOf(b)["vpn2"][0]
	beforeA := childrenOf(a)["vpn2"][0] // childdown_test.go
	if n := b.RekeyChildren(func(v string) bool { return v == "vpn2" }); n != 1 {
		t.Fatalf("%d rekeys started, want 1", n)
	}
	within(t, "vpn2's rekey reported on both sides", func() bool {
		cb := childrenOf(b)
		return len(cb["vpn2"]) == 1 && cb["vpn2"][0] != before && len(la.of(ike.ChildRekeyed)) == 1 && len(lb.of(ike.ChildRekeyed)) == 1
	})
	childEventsNameTheirVPN(t, "rekey's responder", a, la, ike.ChildRekeyed, "vpn2")
	childEventsNameTheirVPN(t, "rekey's initiator", b, lb, ike.ChildRekeyed, "vpn2")

	// The exported IKE SA resumed on another engine: a Child SA up for
	// each VPN, named for it.
	sts := a.Export(func(netip.Addr) bool { return true })
	if len(sts) != 1 {
		t.Fatalf("%d IKE SAs exported, want 1", len(sts))
	}
	other := &pipe{engines: map[netip.Addr]*Engine{}} // its messages go nowhere
	c := sideWith(t, vpnSideConfig(1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2")), other,
		resumeInstalls{installs: &installs{}, seq: map[uint32][2]uint64{}})
	lc := listen(c)
	if err := c.Import(sts[0]); err != nil {
		t.Fatal(err)
	}
	childEventsNameTheirVPN(t, "resumed", c, lc, ike.ChildUp, "vpn1", "vpn2")
	if n := len(lc.of(ike.ChildUp)); n != 2 {
		t.Fatalf("%d Child SAs resumed, want 2", n)
	}
	childrenDownNameTheirVPN(t, a, b, la, lb, beforeA) // childdown_test.go
}

// vpnSideConfig is newVPNSide's configuration.
func vpnSideConfig(me, peer int, extra string) string {
	return fmt.Sprintf(gatewayConfig, me, peer, "group19", "aes-256-gcm", "k", "aes-256-gcm") + extra +
		fmt.Sprintf("set security ike gateway gw local-address 192.0.2.%d\n", me)
}

// sideWith is multiSide's engine with the installer given, closed at the
// end.
func sideWith(t *testing.T, src string, p *pipe, inst ike.Installer) *Engine {
	t.Helper()
	e := multiSideWith(t, src, p, inst)
	t.Cleanup(func() { e.Close(); p.wg.Wait() })
	return e
}
