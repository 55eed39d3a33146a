package view

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/dataplane"
	"ipsecgw/ike"
	"ipsecgw/show"
)

// TestBuildViews: the adapter is a function of (status, configuration,
// now): lifetimes count down to the moments the engine scheduled, the tunnel
// is numbered 500001, the SA pair is inbound first, and the statistics are
// the engine's global counters.
func TestBuild(t *testing.T) {
	cfg, err := daemon.Load("../examples/seed004/peer1.conf", map[string]string{"et-0/1/8": "eth0", "et-0/2/10": "eth1"})
	if err != nil {
		t.Fatal(err)
	}
	est := time.Date(2024, time.October, 13, 7, 27, 27, 0, time.UTC)
	now := est.Add(195 * time.Second)
	// Seed 004's lifetimes left, as the engine scheduled them.
	rekey, expire := now.Add(2798*time.Second), now.Add(3405*time.Second)
	st := daemon.Status{
		Global: dataplane.Stats{EncryptedBytes: 875126, DecryptedBytes: 1073684, EncryptedPackets: 3677, DecryptedPackets: 3677, ReplayErrors: 1},
		IKE: []ike.SAInfo{{Gateway: "ike_gw", Remote: netip.MustParseAddr("16.1.1.1"), State: "UP",
			InitiatorSPI: 0x422250f57a089b14, ResponderSPI: 0x02ae4230bbf3c3fc,
			Encryption: "3des-cbc", Integrity: "hmac-sha1-96", PRF: "hmac-sha1", Group: "DH-group-2",
			Established: est, Children: 1, Fragmentation: true, FragmentSize: 576, InFragments: 3, OutFragments: 2}},
		SAs: []daemon.SAStatus{
			{VPN: "ipsec_vpn", Direction: "outbound", SPI: "0x78634c46", Tunnel: "st0.1", Local: "16.1.1.2", Remote: "16.1.1.1", RekeyAt: rekey, ExpiresAt: expire},
			{VPN: "ipsec_vpn", Direction: "inbound", SPI: "0x8d92e737", Tunnel: "st0.1", Local: "16.1.1.2", Remote: "16.1.1.1", RekeyAt: rekey, ExpiresAt: expire},
		},
	}
	v := Build(st, cfg, now)

	if len(v.IKE) != 1 {
		t.Fatalf("IKE SAs %+v", v.IKE)
	}
	ike := v.IKE[0]
	if ike.Index != 1 || !ike.Up || ike.Initiator || ike.Lifetime != 28605*time.Second || ike.DHGroup != 2 ||
		ike.Local != netip.MustParseAddrPort("16.1.1.2:500") || ike.LocalInterface != "et-0/2/10.0" ||
		len(ike.TunnelIDs) != 1 || ike.TunnelIDs[0] != 500001 ||
		!ike.Fragmentation || ike.FragmentSize != 576 || ike.InFragments != 3 || ike.OutFragments != 2 {
		t.Errorf("IKE SA %+v", ike)
	}
	if v.IPsec.ActiveTunnels != 1 || v.IPsec.IPsecSAs != 2 || len(v.IPsec.Tunnels) != 1 {
		t.Fatalf("IPsec view %+v", v.IPsec)
	}
	tn := v.IPsec.Tunnels[0]
	if tn.ID != 500001 || tn.VPNName != "ipsec_vpn" || tn.BindInterface != "st0.1" || !tn.CopyOuterDSCP ||
		tn.PolicyName != "ipsec_policy" || tn.RemoteGateway != netip.MustParseAddr("16.1.1.1") {
		t.Errorf("tunnel %+v", tn)
	}
	in, out := tn.SAs[0], tn.SAs[1]
	if !in.Inbound || in.SPI != 0x8d92e737 || out.Inbound || out.SPI != 0x78634c46 {
		t.Errorf("SA pair %+v %+v", in, out)
	}
	if in.Encryption != "aes-gcm" || in.KeyBits != 256 || in.Authentication != "aes256-gcm" ||
		in.HardLifetime != 3405*time.Second || in.SoftLifetime != 2798*time.Second || in.LifetimeUnknown || in.ReplayWindow != 64 || in.IKESAIndex != 1 ||
		in.Establish != "establish-tunnels-immediately" {
		t.Errorf("inbound SA %+v", in)
	}
	want := show.Statistics{ESPEncryptedBytes: 875126, ESPDecryptedBytes: 1073684,
		ESPEncryptedPackets: 3677, ESPDecryptedPackets: 3677, ReplayErrors: 1}
	if v.Statistics != want {
		t.Errorf("statistics %+v, want %+v", v.Statistics, want)
	}
	// The brief IPsec row of seed 004, with the live values.
	got := show.IPsecSecurityAssociations(v.IPsec, show.IPsecQuery{}).Text()
	if row := "  <500001 ESP:aes-gcm-256/aes256-gcm 0x8d92e737 3405/ unlim - root 500 16.1.1.1        \n"; !strings.Contains(got, row) {
		t.Errorf("brief IPsec SAs:\n%s\nwant row\n%s", got, row)
	}
}
