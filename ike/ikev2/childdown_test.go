package ikev2

import (
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

// childrenDownNameTheirVPN goes on from TestTwoVPNsEventsNameTheirVPN
// (a, the IKE SA's initiator, keeps both VPNs up), vpn2's Child SA
// rekeyed by b (replacedA is a's replaced one): once the replaced Child
// SAs are gone on both sides, no ChildDown was reported for them (the
// tunnel stayed up). Then a Child SA deleted on its own, the IKE SA
// staying, reports ChildDown once, for its VPN and inbound SPI, on the
// side that deletes it (clear of its VPN) and on the side the DELETE
// reaches: vpn1 cleared on a, then vpn2 on b.
func childrenDownNameTheirVPN(t *testing.T, a, b *Engine, la, lb *eventLog, replacedA *ike.ChildSA) {
	t.Helper()
	within(t, "vpn2's replaced Child SA removed on both sides", func() bool {
		ca, cb := childrenOf(a)["vpn2"], childrenOf(b)["vpn2"]
		return len(ca) == 1 && ca[0] != replacedA && len(cb) == 1 && cb[0].InboundSPI == ca[0].OutboundSPI
	})
	if da, db := la.of(ike.ChildDown), lb.of(ike.ChildDown); len(da)+len(db) != 0 {
		t.Fatalf("a rekey reported Child SAs down: rekey's responder %v, initiator %v", da, db)
	}
	for _, s := range []struct {
		clearer *Engine
		vpn     string
	}{{a, "vpn1"}, {b, "vpn2"}} {
		ca, cb := childrenOf(a)[s.vpn][0], childrenOf(b)[s.vpn][0]
		if n := s.clearer.ClearVPN(s.vpn); n != 1 {
			t.Fatalf("ClearVPN(%s) deleted %d Child SAs, want 1", s.vpn, n)
		}
		within(t, s.vpn+"'s Child SA reported down on both sides", func() bool {
			return len(downOf(la, ca.InboundSPI)) > 0 && len(downOf(lb, cb.InboundSPI)) > 0
		})
		for who, x := range map[string]struct {
			l *eventLog
			c *ike.ChildSA
		}{"a": {la, ca}, "b": {lb, cb}} {
			if got := downOf(x.l, x.c.InboundSPI); !slices.Equal(got, []string{s.vpn}) {
				t.Fatalf("%s: ChildDown events of %s's Child SA %s name %q, want [%s]", who, s.vpn, spiHex(x.c.InboundSPI), got, s.vpn)
			}
		}
	}
	for who, l := range map[string]*eventLog{"a": la, "b": lb} {
		if down := l.of(ike.IKEDown); len(down) != 0 {
			t.Fatalf("%s: the IKE SA went down: %v", who, down)
		}
		if down := l.of(ike.ChildDown); len(down) != 2 {
			t.Fatalf("%s: ChildDown events %v, want one for each Child SA cleared", who, down)
		}
		for _, ev := range l.of(ike.ChildDown) {
			if ev.Failure.Failed() || !ev.Remote.IsValid() {
				t.Fatalf("%s: ChildDown %+v: a failure, or no peer", who, ev)
			}
		}
	}
}
