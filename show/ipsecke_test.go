package show

import (
	"strings"
	"testing"
	"time"
)

// pqcTunnel is labTunnel after a rekey with PFS group 20 and ML-KEM-768
// (RFC 9370): its SAs' keys came from both, and the tunnel is quantum
// secured.
func pqcTunnel() IPsecTunnel {
	tn := labTunnel()
	tn.ID, tn.VPNName, tn.PFSGroup, tn.QuantumSecured = 500003, "vpn-pqc", 20, true
	for i := range tn.SAs {
		tn.SAs[i].PFSGroup, tn.SAs[i].AdditionalKE = 20, []string{"ke1 ML-KEM-768"}
	}
	return tn
}

// pfsOnlyTunnel's SAs have PFS (group 19) and no additional key exchange.
func pfsOnlyTunnel() IPsecTunnel {
	tn := labTunnel()
	for i := range tn.SAs {
		tn.SAs[i].PFSGroup = 19
	}
	return tn
}

func keyExchangeView() IPsecView {
	return IPsecView{ActiveTunnels: 3, IPsecSAs: 6, Tunnels: []IPsecTunnel{seed004Tunnel(3405 * time.Second), pfsOnlyTunnel(), pqcTunnel()}}
}

// TestIPsecKeyExchangesGolden: the detail of SAs made with PFS and
// additional key exchanges, in text, XML and JSON; the brief listing does
// not change.
func TestIPsecKeyExchangesGolden(t *testing.T) {
	runGolden(t, []goldenCase{
		{"ipsec-sa-detail-key-exchanges", IPsecSecurityAssociations(keyExchangeView(), IPsecQuery{Style: StyleDetail})},
		{"ipsec-sa-index-500003", IPsecSecurityAssociations(keyExchangeView(), IPsecQuery{Index: 500003})},
	})
}

// TestIPsecKeyExchangeLines: each SA with key exchanges of its own shows
// its PFS group and every additional key exchange below its algorithms;
// SAs without (seed 004's) show neither, so the seed's layout stays; the
// brief listing has no room for them.
func TestIPsecKeyExchangeLines(t *testing.T) {
	pqc := IPsecSecurityAssociations(IPsecView{Tunnels: []IPsecTunnel{pqcTunnel()}}, IPsecQuery{Style: StyleDetail}).Text()
	want := "Encryption: aes-cbc (128 bits)\n    PFS group: DH-group-20\n    Additional key exchange: ke1 ML-KEM-768\n    Anti-replay"
	if n := strings.Count(pqc, want); n != 2 {
		t.Errorf("%d SAs show %q, want both:\n%s", n, want, pqc)
	}
	noAddKE := pfsOnlyTunnel()
	noAddKE.SAs[1].PFSGroup = 0
	got := IPsecSecurityAssociations(IPsecView{Tunnels: []IPsecTunnel{noAddKE}}, IPsecQuery{Style: StyleDetail}).Text()
	if strings.Count(got, "    PFS group: DH-group-19\n") != 1 || strings.Contains(got, "Additional key exchange") {
		t.Errorf("one SA with PFS group 19 and none without:\n%s", got)
	}
	seed := IPsecSecurityAssociations(IPsecView{Tunnels: []IPsecTunnel{seed004Tunnel(time.Hour)}}, IPsecQuery{Style: StyleDetail}).Text()
	if strings.Count(seed, "PFS group") != 1 || strings.Contains(seed, "Additional key exchange") {
		t.Errorf("seed 004's SAs grew key exchange lines:\n%s", seed)
	}
	brief := IPsecSecurityAssociations(IPsecView{Tunnels: []IPsecTunnel{pqcTunnel()}}, IPsecQuery{Style: StyleBrief})
	if strings.Contains(brief.Text(), "ML-KEM") || strings.Contains(brief.XML(), "additional-key-exchange") {
		t.Errorf("the brief listing shows key exchanges:\n%s\n%s", brief.Text(), brief.XML())
	}
}
