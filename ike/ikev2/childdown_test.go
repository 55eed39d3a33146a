package ikev2

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"ipsecgw/ike"
)

// downOf is the VPNs the ChildDown events for inbound SPI spi name.
func downOf(l *eventLog, spi uint32) []string {
	var vpns []string
	for _, ev := range l.of(ike.ChildDown) {
		if ev.SPI == spiHex(spi) {
			vpns = append(vpns, ev.VPN)
		}
	}
	return vpns
}

// TestChildSADownWhileIKESAStays: a Child SA deleted on its own, its IKE
// SA staying, reports ChildDown once, for its VPN and inbound SPI, on the
// side that deletes it (clear of its VPN) and on the side the DELETE
// reaches; a rekey's replaced Child SA goes without one (the tunnel stays
// up), on the rekey's initiator and its responder.
func TestChildSADownWhileIKESAStays(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2"), p)
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1"), p)
	la, lb := listen(a), listen(b)
	if err := a.InitiateVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1", false); err != nil {
		t.Fatal(err)
	}
	oneSAWith(t, a, "initiator", "vpn1", "vpn2")
	oneSAWith(t, b, "responder", "vpn1", "vpn2")

	// A rekey: the replaced Child SA is removed on both sides, not down.
	oldA, oldB := childrenOf(a)["vpn2"][0], childrenOf(b)["vpn2"][0]
	if n := b.RekeyChildren(func(v string) bool { return v == "vpn2" }); n != 1 {
		t.Fatalf("%d rekeys started, want 1", n)
	}
	within(t, "vpn2's replaced Child SA removed on both sides", func() bool {
		ca, cb := childrenOf(a)["vpn2"], childrenOf(b)["vpn2"]
		return len(ca) == 1 && ca[0] != oldA && len(cb) == 1 && cb[0] != oldB
	})
	if da, db := la.of(ike.ChildDown), lb.of(ike.ChildDown); len(da)+len(db) != 0 {
		t.Fatalf("a rekey reported Child SAs down: rekey's responder %v, initiator %v", da, db)
	}

	// Our delete (clear of vpn1 on a) and the peer's (b receives a's
	// DELETE): each side reports its own vpn1 Child SA down, once.
	c1a, c1b := childrenOf(a)["vpn1"][0], childrenOf(b)["vpn1"][0]
	if n := a.ClearVPN("vpn1"); n != 1 {
		t.Fatalf("ClearVPN deleted %d Child SAs, want 1", n)
	}
	within(t, "vpn1's Child SA reported down on both sides", func() bool {
		return len(downOf(la, c1a.InboundSPI)) > 0 && len(downOf(lb, c1b.InboundSPI)) > 0
	})
	for _, s := range []struct {
		who string
		l   *eventLog
		c   *ike.ChildSA
	}{{"deleting side", la, c1a}, {"peer's delete", lb, c1b}} {
		if got := downOf(s.l, s.c.InboundSPI); !slices.Equal(got, []string{"vpn1"}) {
			t.Fatalf("%s: ChildDown events of vpn1's Child SA %s name %q, want [vpn1]", s.who, spiHex(s.c.InboundSPI), got)
		}
		for _, ev := range s.l.of(ike.ChildDown) {
			if ev.VPN != "vpn1" || ev.Remote != s.c.Remote || ev.Failure.Failed() {
				t.Fatalf("%s: unexpected ChildDown %+v", s.who, ev)
			}
		}
		if down := s.l.of(ike.IKEDown); len(down) != 0 {
			t.Fatalf("%s: the IKE SA went down: %v", s.who, down)
		}
	}
	// The peer's delete in the other direction: b clears vpn2.
	c2a, c2b := childrenOf(a)["vpn2"][0], childrenOf(b)["vpn2"][0]
	if n := b.ClearVPN("vpn2"); n != 1 {
		t.Fatalf("ClearVPN deleted %d Child SAs, want 1", n)
	}
	within(t, "vpn2's Child SA reported down on both sides", func() bool {
		return slices.Equal(downOf(la, c2a.InboundSPI), []string{"vpn2"}) && slices.Equal(downOf(lb, c2b.InboundSPI), []string{"vpn2"})
	})
}
