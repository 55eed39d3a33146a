package ikev1

import (
	"testing"

	"ipsecgw/ike"
)

// pairsDownNameTheirVPN goes on from TestTwoVPNsEventsNameTheirVPN, vb's
// pair rekeyed and the replaced one gone on both sides: the replaced
// pairs went with no ChildDown (the tunnel stayed up). Then a pair deleted
// on its own, the ISAKMP SA staying, reports ChildDown once, for its VPN
// and inbound SPI, on the side that deletes it (clear of its VPN) and on
// the side the DELETE reaches: va, then vb, cleared on b. Not on a: a
// keeps its VPNs up and asks for a new pair at once, and the Quick Mode
// can reach b before the DELETE, when b takes it for a rekey of the pair
// it still has (which then goes without a ChildDown).
func pairsDownNameTheirVPN(t *testing.T, a, b *vpnSide) {
	t.Helper()
	if na, nb := a.count(ike.ChildDown), b.count(ike.ChildDown); na+nb != 0 {
		t.Fatalf("a rekey reported pairs down: %d on its initiator, %d on its responder", na, nb)
	}
	for i, vpn := range []string{"va", "vb"} {
		pa, pb := a.inst.of(vpn)[0], b.inst.of(vpn)[0]
		if n := b.e.ClearVPN(vpn); n != 1 {
			t.Fatalf("ClearVPN(%s) deleted %d pairs, want 1", vpn, n)
		}
		eventually(t, vpn+"'s pair reported down on both sides", func() bool {
			return a.count(ike.ChildDown) > i && b.count(ike.ChildDown) > i
		})
		a.namedFor(t, ike.ChildDown, pa, vpn)
		b.namedFor(t, ike.ChildDown, pb, vpn)
	}
	if na, nb := a.count(ike.IKEDown), b.count(ike.IKEDown); na+nb != 0 {
		t.Fatalf("the ISAKMP SA went down: %d on a, %d on b", na, nb)
	}
	if a.count(ike.ChildDown) != 2 || b.count(ike.ChildDown) != 2 {
		t.Fatalf("%d ChildDown on a, %d on b, want 2 each (one per pair cleared)", a.count(ike.ChildDown), b.count(ike.ChildDown))
	}
}
