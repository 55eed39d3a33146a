package ikev2

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// pfsAddKE gives both VPNs' IPsec policies (twoVPNs: ipol, ipol2) PFS
// group 31 and ML-KEM-768 after it.
const pfsAddKE = `set security ipsec policy ipol perfect-forward-secrecy keys group31
set security ipsec policy ipol perfect-forward-secrecy additional-key-exchange ke1 mlkem768
set security ipsec policy ipol2 perfect-forward-secrecy keys group31
set security ipsec policy ipol2 perfect-forward-secrecy additional-key-exchange ke1 mlkem768
`

// TestVPNChildWithAdditionalKeyExchanges: the CREATE_CHILD_SA that makes
// the second VPN's Child SA on a shared gateway runs its IPsec policy's
// additional key exchange (IKE_FOLLOWUP_KE, RFC 9370 §2.2.4) as a rekey
// does: both sides' Child SAs pair, name the exchange and the PFS group,
// export them, and keep them when rekeyed.
func TestVPNChildWithAdditionalKeyExchanges(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2")+pfsAddKE, p)
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1")+pfsAddKE, p)
	if err := a.InitiateVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1", false); err != nil {
		t.Fatal(err)
	}
	oneSAWith(t, a, "initiator", "vpn1", "vpn2")
	oneSAWith(t, b, "responder", "vpn1", "vpn2")
	want := []string{"ke1 ML-KEM-768"}
	check := func(when string) {
		t.Helper()
		x, y := childrenOf(a)["vpn2"][0], childrenOf(b)["vpn2"][0]
		if x.OutboundSPI != y.InboundSPI || y.OutboundSPI != x.InboundSPI ||
			string(x.Outbound.Encryption) != string(y.Inbound.Encryption) || string(y.Outbound.Encryption) != string(x.Inbound.Encryption) {
			t.Fatalf("%s: vpn2's Child SAs do not pair: %+v %+v", when, x, y)
		}
		if !slices.Equal(x.AddKE, want) || !slices.Equal(y.AddKE, want) {
			t.Fatalf("%s: vpn2's Child SAs' additional key exchanges %v, %v; want %v", when, x.AddKE, y.AddKE, want)
		}
		if x.PFSGroup != 31 || y.PFSGroup != 31 {
			t.Fatalf("%s: vpn2's Child SAs' PFS groups %d, %d; want 31", when, x.PFSGroup, y.PFSGroup)
		}
	}
	check("created")
	// IKE_AUTH's Child SA (vpn1) has its keys from the IKE SA's: no PFS
	// exchange of its own.
	if c := childrenOf(a)["vpn1"][0]; len(c.AddKE) != 0 || c.PFSGroup != 0 {
		t.Fatalf("vpn1's IKE_AUTH Child SA claims additional key exchanges %v, PFS group %d", c.AddKE, c.PFSGroup)
	}
	exported := false
	for _, st := range a.Export(func(netip.Addr) bool { return true }) {
		for _, c := range st.Children {
			if c.VPN == "vpn2" {
				imported, err := childOf(c)
				exported = slices.Equal(c.AddKE, want) && c.PFSGroup == 31 && err == nil && imported.PFSGroup == 31
			}
		}
	}
	if !exported {
		t.Fatal("the exported state of vpn2's Child SA (or its import) does not name its additional key exchange and PFS group")
	}

	before := childrenOf(a)["vpn2"][0]
	if n := a.RekeyChildren(func(v string) bool { return v == "vpn2" }); n != 1 {
		t.Fatalf("%d rekeys started, want 1", n)
	}
	within(t, "vpn2's Child SA rekeyed on both sides", func() bool {
		ca, cb := childrenOf(a), childrenOf(b)
		return len(ca["vpn2"]) == 1 && len(cb["vpn2"]) == 1 && ca["vpn2"][0] != before &&
			ca["vpn2"][0].InboundSPI == cb["vpn2"][0].OutboundSPI && ca["vpn2"][0].OutboundSPI == cb["vpn2"][0].InboundSPI
	})
	check("rekeyed")
	if string(childrenOf(a)["vpn2"][0].Outbound.Encryption) == string(before.Outbound.Encryption) {
		t.Fatal("the rekeyed Child SA kept its keys")
	}
}

// TestVPNChildAdditionalKeyExchangeRefused: when the responder's policy
// for the second VPN has no additional key exchange, the initiator's
// offer (which requires one) is refused with NO_PROPOSAL_CHOSEN: the
// Child SA is not made without the exchange configured.
func TestVPNChildAdditionalKeyExchangeRefused(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2")+pfsAddKE, p)
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1")+
		"set security ipsec policy ipol perfect-forward-secrecy keys group31\n"+
		"set security ipsec policy ipol2 perfect-forward-secrecy keys group31\n", p)
	if err := a.InitiateVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1", false); err != nil {
		t.Fatal(err)
	}
	within(t, "the initiator's vpn2 refused", func() bool {
		up := liveSAs(a)
		return len(up) == 1 && strings.Contains(up[0].Failure.Message, "NO_PROPOSAL_CHOSEN")
	})
	oneSAWith(t, a, "initiator", "vpn1")
	oneSAWith(t, b, "responder", "vpn1")
}
