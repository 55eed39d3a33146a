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

// seed001 is router 2 of seed 001 with its live state as the seed shows it
// (an IKEv1 Main Mode SA, as an IKEv1 engine will report it).
func seed001(t *testing.T) (daemon.Status, time.Time, string) {
	t.Helper()
	name := daemon.ServiceVPNName("service-set-dynamic-BiEspsha3des", "rule-ike", "term-ike")
	est := time.Date(2024, time.October, 13, 7, 27, 27, 0, time.UTC)
	now := est.Add(1802 * time.Second)
	// The IPsec SA's rekey and end as the engine scheduled them: seed
	// 001's soft and hard lifetimes left at now.
	rekey, expire := now.Add(26863*time.Second), now.Add(26998*time.Second)
	sels := []dataplane.Selector{{Local: netip.MustParsePrefix("10.1.12.0/24"), Remote: netip.MustParsePrefix("10.1.56.0/24")}}
	st := daemon.Status{
		IKE: []ike.SAInfo{{Gateway: name, Remote: netip.MustParseAddr("10.1.15.2"), State: "UP", Initiator: true,
			InitiatorSPI: 0x03075bd3a0000003, ResponderSPI: 0x4bff26a5c7000003,
			Encryption: "3des-cbc", Integrity: "hmac-sha1-96", PRF: "hmac-sha1", Group: "DH-group-2",
			Established: est, Children: 1}},
		SAs: []daemon.SAStatus{
			{VPN: name, Direction: "outbound", SPI: "0x28d0cd92", Tunnel: "sp-1-2-0.1", Local: "10.1.15.1", Remote: "10.1.15.2",
				Selectors: sels, Counters: dataplane.Stats{EncryptedBytes: 2248, EncryptedPackets: 27}, RekeyAt: rekey, ExpiresAt: expire},
			{VPN: name, Direction: "inbound", SPI: "0x9eeceae6", Tunnel: "sp-1-2-0.1", Local: "10.1.15.1", Remote: "10.1.15.2",
				Selectors: sels, Counters: dataplane.Stats{DecryptedBytes: 2120, DecryptedPackets: 25}, RekeyAt: rekey, ExpiresAt: expire},
		},
	}
	return st, now, name
}

var seed001Map = map[string]string{"so-0/0/0": "eth0", "so-0/0/1": "eth1"}

// TestServicesViews: seed 001's three services commands from the live
// state: the brief IKE row, the IPsec detail (decimal SPIs, inbound first,
// the selectors as identities, the AS PIC defaults) and the statistics of
// the service set; the security views do not list the services tunnel.
func TestServicesViews(t *testing.T) {
	cfg, err := daemon.Load("../examples/seed001/r2.conf", seed001Map)
	if err != nil {
		t.Fatal(err)
	}
	st, now, _ := seed001(t)
	st.Services = daemon.ServiceTunnels(cfg) // as the commit of cfg computed them
	v := Build(st, cfg, now)
	if len(v.IKE) != 0 || len(v.IPsec.Tunnels) != 0 || len(v.Inactive) != 0 {
		t.Fatalf("the services tunnel is in the security views: %+v %+v %+v", v.IKE, v.IPsec, v.Inactive)
	}

	ike := show.ServicesIKESecurityAssociations(v.Services.IKE, show.ServicesIKEQuery{}).Text()
	wantIKE := "Remote Address  State      Initiator cookie  Responder cookie  Exchange type\n" +
		"10.1.15.2       Matured    03075bd3a0000003  4bff26a5c7000003  Main\n"
	if ike != wantIKE {
		t.Errorf("IKE SAs:\n%s\nwant\n%s", ike, wantIKE)
	}
	if sa := v.Services.IKE[0]; sa.Local != netip.MustParseAddrPort("10.1.15.1:500") || sa.Lifetime != 1798*time.Second {
		t.Errorf("IKE SA %+v", sa)
	}

	got := show.ServicesIPsecSecurityAssociations(v.Services.Tunnels).Text()
	sa := func(dir string, spi uint32) string {
		return "\n" +
			"    Direction: " + dir + ", SPI: " + itoa(spi) + ", AUX-SPI: 0\n" +
			"    Mode: tunnel, Type: dynamic, State: Installed\n" +
			"    Protocol: ESP, Authentication: hmac-sha1-96, Encryption: 3des-cbc\n" +
			"    Soft lifetime: Expires in 26863 seconds\n" +
			"    Hard lifetime: Expires in 26998 seconds\n" +
			"    Anti-replay service: Enabled, Replay window size: 64\n"
	}
	want := "Service set: service-set-dynamic-BiEspsha3des\n" +
		"  Rule: rule-ike, Term: term-ike, Tunnel index: 1\n" +
		"  Local gateway: 10.1.15.1, Remote gateway: 10.1.15.2\n" +
		"  Local identity: ipv4_subnet(any:0,[0..7]=10.1.12.0/24)\n" +
		"  Remote identity: ipv4_subnet(any:0,[0..7]=10.1.56.0/24)\n" +
		sa("inbound", 2666326758) + sa("outbound", 684772754)
	if got != want {
		t.Errorf("IPsec SAs:\n%s\nwant\n%s", got, want)
	}

	stats := show.ServicesIPsecStatistics(v.Services.Statistics).Text()
	for _, line := range []string{"PIC: sp-1/2/0, Service set: service-set-dynamic-BiEspsha3des\n", "ESP Statistics:\n",
		"  Encrypted bytes:             2248\n", "  Decrypted bytes:             2120\n",
		"  Encrypted packets:             27\n", "  Decrypted packets:             25\n"} {
		if !strings.Contains(stats, line) {
			t.Errorf("statistics:\n%s\nwant line %q", stats, line)
		}
	}
}

// TestServicesDown: a tunnel the daemon does not run (IKEv1 until it is
// implemented) is inactive with the daemon's reason, and the detail IKE
// listing says so; nothing claims an SA.
func TestServicesDown(t *testing.T) {
	cfg, err := daemon.Load("../examples/seed001/r2.conf", seed001Map)
	if err != nil {
		t.Fatal(err)
	}
	_, now, name := seed001(t)
	reason := "IKEv1 is not implemented yet; the tunnel stays down"
	v := Build(daemon.Status{Down: map[string]string{name: reason}, Services: daemon.ServiceTunnels(cfg)}, cfg, now)
	if len(v.Services.IKE) != 0 || len(v.Services.Tunnels) != 0 {
		t.Fatalf("SAs shown for a tunnel that is down: %+v", v.Services)
	}
	if len(v.Inactive) != 1 || v.Inactive[0].Reason != reason || v.Inactive[0].ID != 1 ||
		v.Inactive[0].Gateway != netip.MustParseAddr("10.1.15.2") {
		t.Fatalf("inactive %+v", v.Inactive)
	}
	text := show.IPsecInactiveTunnels(v.Inactive).Text()
	if !strings.Contains(text, "  1            500    10.1.15.2        1             "+reason+"\n") {
		t.Errorf("inactive tunnels:\n%s", text)
	}
	detail := show.ServicesIKESecurityAssociations(v.Services.Down, show.ServicesIKEQuery{Style: show.StyleDetail}).Text()
	for _, want := range []string{"IKE peer 10.1.15.2", "State: Not matured", "Exchange type: Main", reason} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail:\n%s\nwant %q", detail, want)
		}
	}
	stats := show.ServicesIPsecStatistics(v.Services.Statistics).Text()
	if !strings.Contains(stats, "PIC: sp-1/2/0, Service set: service-set-dynamic-BiEspsha3des\n") {
		t.Errorf("statistics:\n%s", stats)
	}
}

func itoa(n uint32) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// TestSecurityVPNDown: a [security ipsec vpn] whose gateway is IKEv1 is
// inactive with the daemon's reason too.
func TestSecurityVPNDown(t *testing.T) {
	cfg, err := daemon.Load("../examples/seed004/peer1.conf", map[string]string{"et-0/1/8": "eth0", "et-0/2/10": "eth1"})
	if err != nil {
		t.Fatal(err)
	}
	reason := "IKEv1 is not implemented yet; the tunnel stays down"
	v := Build(daemon.Status{Down: map[string]string{"ipsec_vpn": reason}}, cfg, time.Now())
	if len(v.Inactive) != 1 || v.Inactive[0].Reason != reason || v.Inactive[0].ID != FirstTunnelIndex {
		t.Fatalf("inactive %+v", v.Inactive)
	}
}
