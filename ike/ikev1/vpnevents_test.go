package ikev1

import (
	"testing"

	"ipsecgw/ike"
)

// TestTwoVPNsEventsNameTheirVPN: on an ISAKMP SA two VPNs share, each
// pair's events name its own VPN, not the gateway's first: both pairs'
// coming up, and vb's rekey (a soft byte lifetime) on both sides; a pair
// going down on its own (childdown_test.go).
func TestTwoVPNsEventsNameTheirVPN(t *testing.T) {
	a, b := twoVPNSides(t)
	eventually(t, "both VPNs' pairs on both sides", func() bool {
		return len(a.inst.of("va")) == 1 && len(a.inst.of("vb")) == 1 && len(b.inst.of("va")) == 1 && len(b.inst.of("vb")) == 1
	})
	for _, s := range []*vpnSide{a, b} {
		for _, v := range []string{"va", "vb"} {
			s.namedFor(t, ike.ChildUp, s.inst.of(v)[0], v)
		}
	}
	old := a.inst.of("vb")[0]
	a.e.ChildBytesReached(old, false)
	eventually(t, "vb's pair rekeyed on both sides", func() bool {
		x, y := a.inst.of("vb"), b.inst.of("vb")
		return len(x) == 1 && x[0] != old && len(y) == 1 && y[0].InboundSPI == x[0].OutboundSPI &&
			a.count(ike.ChildRekeyed) == 1 && b.count(ike.ChildRekeyed) == 1
	})
	a.namedFor(t, ike.ChildRekeyed, a.inst.of("vb")[0], "vb")
	b.namedFor(t, ike.ChildRekeyed, b.inst.of("vb")[0], "vb")
	pairsDownNameTheirVPN(t, a, b) // childdown_test.go
}

// count is how many events of that kind the side reported.
func (s *vpnSide) count(kind ike.EventKind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ev := range s.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// namedFor fails unless the side reported one event of that kind for c's
// inbound SPI, naming vpn.
func (s *vpnSide) namedFor(t *testing.T, kind ike.EventKind, c *ike.ChildSA, vpn string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var got []string
	for _, ev := range s.events {
		if ev.Kind == kind && ev.SPI == spiHex(c.InboundSPI) {
			got = append(got, ev.VPN)
		}
	}
	if len(got) != 1 || got[0] != vpn {
		t.Fatalf("%s: %s events of %s's pair %s name VPNs %q, want [%s]", s.local, kind, vpn, spiHex(c.InboundSPI), got, vpn)
	}
}
