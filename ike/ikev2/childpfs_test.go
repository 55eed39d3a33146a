package ikev2

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestChildSAPFSGroup: a Child SA records the key exchange method of its
// PFS, on both sides, in its export and after an import (the show
// commands print it); the first Child SA, made with IKE_AUTH, has none.
func TestChildSAPFSGroup(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2")+pfsAddKE, p)
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1")+pfsAddKE, p)
	if err := a.InitiateVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1", false); err != nil {
		t.Fatal(err)
	}
	oneSAWith(t, a, "initiator", "vpn1", "vpn2")
	oneSAWith(t, b, "responder", "vpn1", "vpn2")
	if x, y := childrenOf(a)["vpn2"][0], childrenOf(b)["vpn2"][0]; x.PFSGroup != 31 || y.PFSGroup != 31 {
		t.Fatalf("vpn2's Child SAs record PFS groups %d and %d, want 31 (pfsAddKE)", x.PFSGroup, y.PFSGroup)
	}
	if c := childrenOf(a)["vpn1"][0]; c.PFSGroup != 0 {
		t.Fatalf("vpn1's IKE_AUTH Child SA claims PFS group %d", c.PFSGroup)
	}
	var exported []int
	for _, st := range a.Export(func(netip.Addr) bool { return true }) {
		for _, c := range st.Children {
			exported = append(exported, c.PFSGroup)
			got, err := childOf(c)
			if err != nil {
				t.Fatal(err)
			}
			if got.PFSGroup != c.PFSGroup {
				t.Fatalf("imported Child SA of %s: PFS group %d, exported %d", c.VPN, got.PFSGroup, c.PFSGroup)
			}
		}
	}
	if len(exported) != 2 || exported[0]+exported[1] != 31 {
		t.Fatalf("exported PFS groups %v, want 0 and 31", exported)
	}
}
