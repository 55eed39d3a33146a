package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// multiVPNConfig is gw1 with one IKEv2 gateway to strongSwan at 192.0.2.2
// and two VPNs on it, each with its own st0 unit and traffic selectors:
// vpn1 198.18.1.0/24 ↔ 198.18.2.0/24 on st0.1, vpn2 198.18.4.0/24 ↔
// 198.18.3.0/24 on st0.2. establish is both VPNs' establish-tunnels.
func multiVPNConfig(establish string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set interfaces gw1-h1 unit 0 family inet address 198.18.1.1/24")
	w("set interfaces gw1-h1 unit 0 family inet address 198.18.4.1/24")
	w("set interfaces gw1-gw2 unit 0 family inet address 192.0.2.1/24")
	w("set security ike proposal ike_prop authentication-method pre-shared-keys")
	w("set security ike proposal ike_prop dh-group group19")
	w("set security ike proposal ike_prop authentication-algorithm sha-256")
	w("set security ike proposal ike_prop encryption-algorithm aes-256-gcm")
	w("set security ike policy pol proposals ike_prop")
	w("set security ike policy pol pre-shared-key ascii-text \"multi-vpn-key\"")
	w("set security ike gateway gw ike-policy pol")
	w("set security ike gateway gw address 192.0.2.2")
	w("set security ike gateway gw external-interface gw1-gw2")
	w("set security ike gateway gw version v2-only")
	w("set security ipsec proposal ipsec_prop protocol esp")
	w("set security ipsec proposal ipsec_prop encryption-algorithm aes-256-gcm")
	w("set security ipsec policy ipsec_policy proposals ipsec_prop")
	for i, ts := range []struct{ local, remote string }{{"198.18.1.0/24", "198.18.2.0/24"}, {"198.18.4.0/24", "198.18.3.0/24"}} {
		n := i + 1
		w("set interfaces st0 unit %d family inet", n)
		w("set routing-options static route %s next-hop st0.%d", ts.remote, n)
		w("set security ipsec vpn vpn%d bind-interface st0.%d", n, n)
		w("set security ipsec vpn vpn%d ike gateway gw", n)
		w("set security ipsec vpn vpn%d ike ipsec-policy ipsec_policy", n)
		w("set security ipsec vpn vpn%d traffic-selector ts local-ip %s", n, ts.local)
		w("set security ipsec vpn vpn%d traffic-selector ts remote-ip %s", n, ts.remote)
		w("set security ipsec vpn vpn%d establish-tunnels %s", n, establish)
	}
	return b.String()
}

// TestTwoVPNsOnOneGatewayWithStrongSwan: two VPNs on one IKEv2 gateway
// against one strongSwan connection with two children. Whoever initiates
// (ipsecgw: IKE_AUTH makes vpn1's Child SA and a CREATE_CHILD_SA vpn2's;
// strongSwan: ipsecgw, responding, picks each VPN by the traffic selectors
// proposed), both tunnels carry pings and strongSwan has one IKE SA with
// two CHILD SAs. A commit that removes vpn1 deletes only its Child SA:
// vpn2 keeps passing traffic on the same IKE SA.
func TestTwoVPNsOnOneGatewayWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	for _, ipsecgwInitiates := range []bool{true, false} {
		name := map[bool]string{true: "ipsecgw-initiates", false: "strongswan-initiates"}[ipsecgwInitiates]
		t.Run(name, func(t *testing.T) {
			tp, establish, start := newMultiVPNTopology(t, ipsecgwInitiates)
			tp.startOne(0, multiVPNConfig(establish))
			child := func(n int, local, remote string) strongswan.Child {
				return strongswan.Child{Name: fmt.Sprintf("net%d", n), LocalTS: []string{local}, RemoteTS: []string{remote},
					ESPProposals: []string{"aes256gcm16"}, StartAction: start}
			}
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{{
				Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "multi-vpn-key",
				Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
				Children:  []strongswan.Child{child(1, "198.18.2.0/24", "198.18.1.0/24"), child(2, "198.18.3.0/24", "198.18.4.0/24")},
			}}})
			vpn1 := netns.Ping{Count: 3, Interval: 200 * time.Millisecond}
			vpn2 := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.4.2"}}
			pingUntil(t, tp, charon, "h1", vpn1, "198.18.2.2")
			pingUntil(t, tp, charon, "h1", vpn2, "198.18.3.2")
			back := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.3.2"}}
			pingUntil(t, tp, charon, "h2", back, "198.18.4.2")

			// One IKE SA, two CHILD SAs, each with its own selectors and
			// traffic, on both sides.
			ike := oneIKESAWithChildren(t, charon, "net1", "net2")
			for _, c := range ike.Children {
				if c.PacketsIn == 0 || c.PacketsOut == 0 {
					t.Errorf("strongSwan's %s carried no traffic: %+v", c.Name, c)
				}
			}
			removeVPN1KeepsVPN2(t, tp, charon, ike, vpn2, back)
		})
	}
}

// removeVPN1KeepsVPN2 checks that gw1 has one IKE SA with both VPNs'
// SAs (ike is strongSwan's), then commits vpn1 away: only its SAs go,
// vpn2 keeps passing traffic (pings vpn2 and back) on the same IKE SA.
func removeVPN1KeepsVPN2(t *testing.T, tp *topology, charon *strongswan.Charon, ike strongswan.IKESA, vpn2, back netns.Ping) {
	t.Helper()
	st := tp.status(tp.gws[0])
	if len(st.IKE) != 1 || st.IKE[0].Children != 2 {
		t.Fatalf("gw1 IKE SAs: %+v, want one with 2 Child SAs", st.IKE)
	}
	show := tp.mustCLI(tp.gws[0], "show security ipsec security-associations detail")
	for _, v := range []string{"vpn1", "vpn2"} {
		if !strings.Contains(show, "VPN Name: "+v+"\n") {
			t.Fatalf("show security ipsec security-associations detail lists no SA of %s:\n%s", v, show)
		}
	}

	// vpn1 configured away: its Child SA goes, vpn2's and the IKE SA
	// stay.
	out := tp.mustCLI(tp.gws[0], "configure; delete security ipsec vpn vpn1; delete routing-options static route 198.18.2.0/24; commit; exit")
	if !strings.Contains(out, "commit complete") {
		t.Fatalf("commit:\n%s", out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		sas, err := charon.ListSAs()
		if err != nil {
			t.Fatal(err)
		}
		if len(sas) == 1 && len(sas[0].Children) == 1 && sas[0].Children[0].Name == "net2" {
			if sas[0].InitiatorSPI != ike.InitiatorSPI || sas[0].ResponderSPI != ike.ResponderSPI {
				t.Fatalf("the IKE SA changed: %016x:%016x, was %016x:%016x", sas[0].InitiatorSPI, sas[0].ResponderSPI,
					ike.InitiatorSPI, ike.ResponderSPI)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("strongSwan SAs after vpn1 was removed: %+v (want net2 alone on the IKE SA)\ngw1:\n%s", sas, tp.logOf(tp.gws[0]))
		}
		time.Sleep(100 * time.Millisecond)
	}
	pingUntil(t, tp, charon, "h1", vpn2, "198.18.3.2")
	pingUntil(t, tp, charon, "h2", back, "198.18.4.2")
	st = tp.status(tp.gws[0])
	if len(st.IKE) != 1 || st.IKE[0].Children != 1 || st.IKE[0].InitiatorSPI != ike.InitiatorSPI {
		t.Fatalf("gw1 IKE SAs after vpn1 was removed: %+v, want %016x with 1 Child SA", st.IKE, ike.InitiatorSPI)
	}
	for _, sa := range st.SAs {
		if sa.VPN == "vpn1" {
			t.Fatalf("gw1 still has an SA of the removed vpn1: %+v", sa)
		}
	}
}

// newMultiVPNTopology is the topology with strongSwan on gw2 and the
// addresses of multiVPNConfig's second VPN (h1 198.18.4.2, h2 198.18.3.2),
// and both VPNs' establish-tunnels and strongSwan's start_action for who
// initiates.
func newMultiVPNTopology(t *testing.T, ipsecgwInitiates bool) (tp *topology, establish, start string) {
	t.Helper()
	tp = newTopology(t)
	tp.negotiated = true
	tp.net.Exec("h1", "ip", "addr", "add", "198.18.4.2/24", "dev", "h1-gw1")
	tp.net.Exec("h2", "ip", "addr", "add", "198.18.3.2/24", "dev", "h2-gw2")
	tp.net.Exec("gw2", "ip", "addr", "add", "192.0.2.2/24", "dev", "gw2-gw1")
	tp.net.Exec("gw2", "ip", "addr", "add", "198.18.2.1/24", "dev", "gw2-h2")
	tp.net.Exec("gw2", "ip", "addr", "add", "198.18.3.1/24", "dev", "gw2-h2")
	if ipsecgwInitiates {
		return tp, "immediately", "none"
	}
	return tp, "responder-only", "start"
}

// pingUntil pings to dst from ns until a round of pings all come back,
// for up to 20 s.
func pingUntil(t *testing.T, tp *topology, charon *strongswan.Charon, ns string, p netns.Ping, dst string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := tp.net.Try(ns, p.Args(dst)...)
		err := p.Check(dst, out)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			sas, _ := charon.ListSAs()
			t.Fatalf("%s → %s: %v\nstrongSwan SAs: %+v\ngw1:\n%s\ncharon:\n%s", ns, dst, err, sas, tp.logOf(tp.gws[0]), charon.Log())
		}
	}
}

// oneIKESAWithChildren checks that strongSwan has one IKE SA carrying the
// named CHILD SAs (installed), and returns it.
func oneIKESAWithChildren(t *testing.T, charon *strongswan.Charon, names ...string) strongswan.IKESA {
	t.Helper()
	sas, err := charon.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	if len(sas) != 1 || len(sas[0].Children) != len(names) {
		t.Fatalf("strongSwan SAs: %+v, want one IKE SA with CHILD SAs %v", sas, names)
	}
	for _, name := range names {
		_, c, ok := strongswan.FindChild(sas, name)
		if !ok || c.State != "INSTALLED" {
			t.Fatalf("strongSwan's %s: %+v (ok %v), want it installed", name, c, ok)
		}
	}
	return sas[0]
}
