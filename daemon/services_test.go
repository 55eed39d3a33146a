package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/config/store"
)

// servicesConfig is the AS PIC form of seed 001 between 192.0.2.ME and
// 192.0.2.PEER: one next-hop service set whose rule has a manual term
// (198.18.x.0/24) and an IKE term (198.19.x.0/24, IKE policy version 2)
// on one inside interface, sp-0/0/0.1, unnumbered (it borrows lo0.0's
// address).
const servicesConfig = `set interfaces eth1 unit 0 family inet address 192.0.2.%[1]d/24
set interfaces lo0 unit 0 family inet address 198.51.100.%[1]d/32
set interfaces sp-0/0/0 unit 0 family inet
set interfaces sp-0/0/0 unit 1 family inet
set interfaces sp-0/0/0 unit 1 service-domain inside
set interfaces sp-0/0/0 unit 2 family inet
set interfaces sp-0/0/0 unit 2 service-domain outside
set services service-set ss next-hop-service inside-service-interface sp-0/0/0.1
set services service-set ss next-hop-service outside-service-interface sp-0/0/0.2
set services service-set ss ipsec-vpn-options local-gateway 192.0.2.%[1]d
set services service-set ss ipsec-vpn-rules r
set services ipsec-vpn rule r match-direction input
set services ipsec-vpn rule r term man from source-address 198.18.%[1]d.0/24
set services ipsec-vpn rule r term man from destination-address 198.18.%[2]d.0/24
set services ipsec-vpn rule r term man then remote-gateway 192.0.2.%[2]d
set services ipsec-vpn rule r term man then manual direction bidirectional protocol esp
set services ipsec-vpn rule r term man then manual direction bidirectional spi 300
set services ipsec-vpn rule r term man then manual direction bidirectional authentication algorithm hmac-sha1-96
set services ipsec-vpn rule r term man then manual direction bidirectional authentication key ascii-text "01234567890123456789"
set services ipsec-vpn rule r term man then manual direction bidirectional encryption algorithm 3des-cbc
set services ipsec-vpn rule r term man then manual direction bidirectional encryption key ascii-text "abcdefghijklmnopqrstuvwx"
set services ipsec-vpn rule r term ike from source-address 198.19.%[1]d.0/24
set services ipsec-vpn rule r term ike from destination-address 198.19.%[2]d.0/24
set services ipsec-vpn rule r term ike then remote-gateway 192.0.2.%[2]d
set services ipsec-vpn rule r term ike then dynamic ike-policy ikep
set services ipsec-vpn ike policy ikep version 2
set services ipsec-vpn ike policy ikep pre-shared-key ascii-text "juniper"
set services ipsec-vpn establish-tunnels immediately
`

const (
	manName = "service-set ss rule r term man"
	ikeName = "service-set ss rule r term ike"
)

// waitSAs waits until gateway d has n SAs of the VPN installed.
func waitSAs(t *testing.T, d *Daemon, vpn string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := 0
		for _, sa := range d.Status().SAs {
			if sa.VPN == vpn {
				got++
			}
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d SAs installed, want %d (status %+v)", vpn, got, n, d.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServicesTunnels: the services form runs in the daemon. The inside
// interface is a TUN device named sp-0-0-0.1; the manual term's SAs and
// the IKEv2-negotiated term's SAs are installed on it; a packet of each
// term's addresses crosses; the borrowed lo0 address is on the device.
func TestServicesTunnels(t *testing.T) {
	ds, hosts := startPair(t, servicesConfig)
	waitSAs(t, ds[0], ikeName, 2)
	waitSAs(t, ds[1], ikeName, 2)
	waitSAs(t, ds[0], manName, 2)
	if hosts[0].TUN("sp-0-0-0.1") == nil {
		t.Fatal("no TUN device sp-0-0-0.1")
	}
	if !cross(t, hosts, "sp-0-0-0.1", "198.18.1.2", "198.18.2.2") {
		t.Fatal("the manual term's traffic does not cross")
	}
	if !cross(t, hosts, "sp-0-0-0.1", "198.19.1.2", "198.19.2.2") {
		t.Fatal("the IKE term's traffic does not cross")
	}
	st := ds[0].Status()
	up := 0
	for _, sa := range st.IKE {
		if sa.Gateway != ikeName {
			t.Errorf("IKE SA of gateway %q", sa.Gateway)
		}
		if sa.State == "UP" {
			up++
		}
	}
	if up == 0 {
		t.Fatalf("no IKE SA up: %+v", st.IKE)
	}
	for _, sa := range st.SAs {
		if sa.Tunnel != "sp-0-0-0.1" {
			t.Errorf("SA %s of %s is on %s", sa.SPI, sa.VPN, sa.Tunnel)
		}
	}
	w, err := newPlan(ds[0].Config(), ServiceTunnels(ds[0].Config()))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.tunnels["sp-0-0-0.1"].addrs; len(got) != 1 || got[0].String() != "198.51.100.1/32" {
		t.Fatalf("sp-0-0-0.1 addresses %v, want lo0.0's 198.51.100.1/32", got)
	}
}

// TestServicesCommitOneTerm: a commit that changes the manual term
// re-installs its SAs and leaves the IKE term's Child SAs and the TUN
// device alone, and the other way round.
func TestServicesCommitOneTerm(t *testing.T) {
	ds, hosts := startPair(t, servicesConfig)
	for _, d := range ds {
		waitSAs(t, d, ikeName, 2)
	}
	tun := hosts[0].TUN("sp-0-0-0.1")
	ikeSPIs := spisOf(ds[0], ikeName)
	for _, d := range ds {
		edit(t, d.Store(), "set services ipsec-vpn rule r term man then manual direction bidirectional spi 301")
		if _, err := d.Store().Commit(store.CommitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if hosts[0].TUN("sp-0-0-0.1") != tun {
		t.Fatal("the inside interface was re-created")
	}
	if got := spisOf(ds[0], ikeName); got != ikeSPIs {
		t.Fatalf("the IKE term's SAs changed: %s, were %s", got, ikeSPIs)
	}
	if got := spisOf(ds[0], manName); got != "0x0000012d 0x0000012d" {
		t.Fatalf("the manual term's SPIs are %s, want 301 both ways", got)
	}
	if !cross(t, hosts, "sp-0-0-0.1", "198.18.1.2", "198.18.2.2") || !cross(t, hosts, "sp-0-0-0.1", "198.19.1.2", "198.19.2.2") {
		t.Fatal("traffic does not cross after the commit")
	}

	manSPIs := spisOf(ds[0], manName)
	for _, d := range ds {
		edit(t, d.Store(), "set services ipsec-vpn rule r term ike then anti-replay-window-size 128")
		if _, err := d.Store().Commit(store.CommitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range ds {
		waitSAs(t, d, ikeName, 2)
	}
	if got := spisOf(ds[0], manName); got != manSPIs {
		t.Fatalf("the manual term's SAs changed: %s, were %s", got, manSPIs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for spisOf(ds[0], ikeName) == ikeSPIs || !cross(t, hosts, "sp-0-0-0.1", "198.19.1.2", "198.19.2.2") {
		if time.Now().After(deadline) {
			t.Fatal("the IKE term was not negotiated again, or carries no traffic")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServicesIKEv1: a term whose IKE policy is version 1 (the seed's
// default) negotiates with IKEv1 Main Mode and Quick Mode and carries
// traffic; switching the policy to version 2 renegotiates it with IKEv2
// and leaves the manual term alone.
func TestServicesIKEv1(t *testing.T) {
	cfg := strings.Replace(servicesConfig, "ike policy ikep version 2", "ike policy ikep version 1", 1)
	ds, hosts := startPair(t, cfg)
	waitSAs(t, ds[0], manName, 2)
	waitSAs(t, ds[0], ikeName, 2)
	if !cross(t, hosts, "sp-0-0-0.1", "198.19.1.2", "198.19.2.2") {
		t.Fatal("the IKEv1 term's traffic does not cross")
	}
	// Both sides initiate (establish-tunnels immediately): one or two
	// ISAKMP SAs, at least one up.
	st := ds[0].Status()
	upSAs := 0
	for _, sa := range st.IKE {
		if sa.State == "UP" && sa.Group == "DH-group-2" && sa.Encryption == "3des-cbc" {
			upSAs++
		}
	}
	if len(st.Down) != 0 || upSAs == 0 {
		t.Fatalf("IKEv1 term (AS PIC defaults 3des/sha1/group2): down %v, IKE SAs %+v", st.Down, st.IKE)
	}
	manSPIs := spisOf(ds[0], manName)
	for _, d := range ds {
		edit(t, d.Store(), "set services ipsec-vpn ike policy ikep version 2")
		if _, err := d.Store().Commit(store.CommitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !cross(t, hosts, "sp-0-0-0.1", "198.19.1.2", "198.19.2.2") {
		if time.Now().After(deadline) {
			t.Fatal("the term does not carry traffic after the switch to IKEv2")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := spisOf(ds[0], manName); got != manSPIs {
		t.Fatalf("the manual term's SAs changed: %s, were %s", got, manSPIs)
	}
}

func TestTunnelName(t *testing.T) {
	for _, tc := range []struct {
		ifc  *schema.Interface
		unit uint32
		want string
	}{
		{&schema.Interface{Name: "st0", Kind: schema.Tunnel}, 1, "st0.1"},
		{&schema.Interface{Name: "sp-1/2/0", Kind: schema.Service}, 1, "sp-1-2-0.1"},
		{&schema.Interface{Name: "ms-10/11/12", Kind: schema.Service, HostName: "ms0"}, 1234, "ms0.1234"},
	} {
		u := &schema.Unit{Interface: tc.ifc, Number: tc.unit}
		if got := TunnelName(u); got != tc.want {
			t.Errorf("%s: %s, want %s", u.Name(), got, tc.want)
		}
	}
	long := &schema.Unit{Interface: &schema.Interface{Name: "ms-10/11/12", Kind: schema.Service}, Number: 1234}
	if err := checkTunnelName(long); err == nil || !strings.Contains(err.Error(), "host-interface") {
		t.Fatalf("a 16-character name: %v", err)
	}
}

// spisOf lists a VPN's installed SPIs, inbound first.
func spisOf(d *Daemon, vpn string) string {
	var out []string
	for _, sa := range d.Status().SAs {
		if sa.VPN == vpn {
			out = append(out, sa.SPI)
		}
	}
	return strings.Join(out, " ")
}

// TestServiceSetTCPMSS: a service set's tcp-mss reaches the VPNs of its
// terms (and through them each SA's data-plane parameters); without it
// they clamp nothing of their own.
func TestServiceSetTCPMSS(t *testing.T) {
	for _, tc := range []struct {
		extra string
		want  int
	}{{"", 0}, {"set services service-set ss tcp-mss 1300\n", 1300}} {
		tr, err := config.Parse("t.conf", []byte(fmt.Sprintf(servicesConfig, 1, 2)+tc.extra), nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := schema.Build(tr, schema.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sts := ServiceTunnels(cfg)
		if len(sts) != 2 {
			t.Fatalf("%d service tunnels, want 2", len(sts))
		}
		for _, st := range sts {
			if st.VPN.TCPMSS != tc.want {
				t.Errorf("%q: %s has tcp-mss %d, want %d", tc.extra, st.VPN.Name, st.VPN.TCPMSS, tc.want)
			}
			if ct, ok := resolveTunnel(st.VPN); !ok || ct.tcpMSS != tc.want {
				t.Errorf("%q: %s's child tunnel has tcp-mss %d, want %d", tc.extra, st.VPN.Name, ct.tcpMSS, tc.want)
			}
		}
	}
}
