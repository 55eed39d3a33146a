package view

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/ike"
	"ipsecgw/show"
)

// TestBuildChildKeyExchanges: each SA's PFS group and additional key
// exchanges come from the status to the show view and its detail; a
// tunnel whose SAs all ran ML-KEM is quantum secured even when its IKE SA
// is not, and one SA without makes it not.
func TestBuildChildKeyExchanges(t *testing.T) {
	cfg, err := daemon.Load("../examples/seed004/peer1.conf", map[string]string{"et-0/1/8": "eth0", "et-0/2/10": "eth1"})
	if err != nil {
		t.Fatal(err)
	}
	est := time.Date(2024, time.October, 13, 7, 27, 27, 0, time.UTC)
	mlkem := []string{"ke1 ML-KEM-768"}
	status := func(outAddKE []string) daemon.Status {
		return daemon.Status{
			IKE: []ike.SAInfo{{Gateway: "ike_gw", Remote: netip.MustParseAddr("16.1.1.1"), State: "UP",
				Encryption: "3des-cbc", Integrity: "hmac-sha1-96", PRF: "hmac-sha1", Group: "DH-group-2", Established: est, Children: 1}},
			SAs: []daemon.SAStatus{
				{VPN: "ipsec_vpn", Direction: "outbound", SPI: "0x78634c46", Tunnel: "st0.1", Local: "16.1.1.2", Remote: "16.1.1.1",
					PFSGroup: 20, AdditionalKE: outAddKE},
				{VPN: "ipsec_vpn", Direction: "inbound", SPI: "0x8d92e737", Tunnel: "st0.1", Local: "16.1.1.2", Remote: "16.1.1.1",
					PFSGroup: 20, AdditionalKE: mlkem},
			},
		}
	}

	v := Build(status(mlkem), cfg, est.Add(time.Minute))
	if len(v.IPsec.Tunnels) != 1 || len(v.IPsec.Tunnels[0].SAs) != 2 {
		t.Fatalf("IPsec view %+v", v.IPsec)
	}
	tn := v.IPsec.Tunnels[0]
	for _, sa := range tn.SAs {
		if sa.PFSGroup != 20 || !slices.Equal(sa.AdditionalKE, mlkem) {
			t.Errorf("SA %#x: PFS group %d, additional key exchanges %v", sa.SPI, sa.PFSGroup, sa.AdditionalKE)
		}
	}
	if !tn.QuantumSecured {
		t.Error("a tunnel whose SAs all ran ML-KEM is not quantum secured")
	}
	got := show.IPsecSecurityAssociations(v.IPsec, show.IPsecQuery{Style: show.StyleDetail}).Text()
	if n := strings.Count(got, "    PFS group: DH-group-20\n    Additional key exchange: ke1 ML-KEM-768\n"); n != 2 ||
		!strings.Contains(got, "  Quantum Secured: Yes\n") {
		t.Errorf("detail (%d SAs with their key exchanges):\n%s", n, got)
	}

	if tn := Build(status(nil), cfg, est.Add(time.Minute)).IPsec.Tunnels[0]; tn.QuantumSecured {
		t.Error("a tunnel with an SA without ML-KEM (and a classical IKE SA) is quantum secured")
	}
}
