package ikev1

import (
	"net/netip"
	"testing"

	"ipsecgw/ike"
)

// TestPairDownWhileISAKMPSAStays: an IPsec SA pair deleted on its own,
// its ISAKMP SA staying, reports ChildDown once, for its VPN and inbound
// SPI, on the side that deletes it (clear of its VPN) and on the side the
// DELETE reaches; a Quick Mode rekey's replaced pair goes without one
// (the tunnel stays up), on the rekey's initiator and its responder.
func TestPairDownWhileISAKMPSAStays(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	keepUp := "set security ipsec vpn va establish-tunnels immediately\nset security ipsec vpn vb establish-tunnels immediately\n"
	a := newVPNSide(t, p, 1, 2, [4]string{"198.18.1.0/24", "198.18.2.0/24", "198.18.3.0/24", "198.18.4.0/24"}, keepUp)
	b := newVPNSide(t, p, 2, 1, [4]string{"198.18.2.0/24", "198.18.1.0/24", "198.18.4.0/24", "198.18.3.0/24"}, "")
	defer func() {
		a.e.Close()
		b.e.Close()
		p.wg.Wait()
	}()
	if err := a.e.InitiateVPNFrom(a.local, b.local, "va", false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both VPNs' pairs on both sides", func() bool {
		return len(a.inst.of("va")) == 1 && len(a.inst.of("vb")) == 1 && len(b.inst.of("va")) == 1 && len(b.inst.of("vb")) == 1
	})

	// A rekey: the replaced pair is removed on both sides, not down.
	old := a.inst.of("vb")[0]
	a.e.ChildBytesReached(old, false)
	eventually(t, "vb's replaced pair removed on both sides", func() bool {
		x, y := a.inst.of("vb"), b.inst.of("vb")
		return len(x) == 1 && x[0] != old && len(y) == 1 && y[0].InboundSPI == x[0].OutboundSPI
	})
	if na, nb := a.count(ike.ChildDown), b.count(ike.ChildDown); na+nb != 0 {
		t.Fatalf("a rekey reported pairs down: %d on its initiator, %d on its responder", na, nb)
	}

	// Our delete (clear of va on a) and the peer's (b receives a's
	// DELETE): each side reports its own va pair down, once.
	va, vb := a.inst.of("va")[0], b.inst.of("va")[0]
	if n := a.e.ClearVPN("va"); n != 1 {
		t.Fatalf("ClearVPN deleted %d pairs, want 1", n)
	}
	eventually(t, "va's pair reported down on both sides", func() bool {
		return a.count(ike.ChildDown) > 0 && b.count(ike.ChildDown) > 0
	})
	a.namedFor(t, ike.ChildDown, va, "va")
	b.namedFor(t, ike.ChildDown, vb, "va")
	if na, nb := a.count(ike.IKEDown), b.count(ike.IKEDown); na+nb != 0 {
		t.Fatalf("the ISAKMP SA went down: %d on the deleting side, %d on the peer's", na, nb)
	}

	// The peer's delete in the other direction: b clears vb.
	wa, wb := a.inst.of("vb")[0], b.inst.of("vb")[0]
	if n := b.e.ClearVPN("vb"); n != 1 {
		t.Fatalf("ClearVPN deleted %d pairs, want 1", n)
	}
	eventually(t, "vb's pair reported down on both sides", func() bool {
		return a.count(ike.ChildDown) > 1 && b.count(ike.ChildDown) > 1
	})
	a.namedFor(t, ike.ChildDown, wa, "vb")
	b.namedFor(t, ike.ChildDown, wb, "vb")
}
