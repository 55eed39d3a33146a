package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// sharedRemoteConfig is gw1 with two local addresses on its outer link
// (192.0.2.1 and 192.0.2.3) and two IKEv2 gateways to the one peer at
// 192.0.2.2, each from its own local-address, with its own key and tunnel:
// 198.18.1.0/24 ↔ 198.18.2.0/24 on st0.1 and 198.18.4.0/24 ↔
// 198.18.3.0/24 on st0.2.
func sharedRemoteConfig() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set interfaces gw1-h1 unit 0 family inet address 198.18.1.1/24")
	w("set interfaces gw1-h1 unit 0 family inet address 198.18.4.1/24")
	w("set interfaces gw1-gw2 unit 0 family inet address 192.0.2.1/24")
	w("set interfaces gw1-gw2 unit 0 family inet address 192.0.2.3/24")
	w("set security ike proposal ike_prop authentication-method pre-shared-keys")
	w("set security ike proposal ike_prop dh-group group19")
	w("set security ike proposal ike_prop authentication-algorithm sha-256")
	w("set security ike proposal ike_prop encryption-algorithm aes-256-gcm")
	w("set security ipsec proposal ipsec_prop protocol esp")
	w("set security ipsec proposal ipsec_prop encryption-algorithm aes-256-gcm")
	w("set security ipsec policy ipsec_policy proposals ipsec_prop")
	for i, gw := range []struct{ local, far string }{{"192.0.2.1", "198.18.2.0/24"}, {"192.0.2.3", "198.18.3.0/24"}} {
		n, local := i+1, gw.local
		w("set interfaces st0 unit %d family inet", n)
		w("set routing-options static route %s next-hop st0.%d", gw.far, n)
		w("set security ike policy pol%d proposals ike_prop", n)
		w("set security ike policy pol%d pre-shared-key ascii-text \"key-%d\"", n, n)
		w("set security ike gateway gw%d ike-policy pol%d", n, n)
		w("set security ike gateway gw%d address 192.0.2.2", n)
		w("set security ike gateway gw%d local-address %s", n, local)
		w("set security ike gateway gw%d external-interface gw1-gw2", n)
		w("set security ike gateway gw%d version v2-only", n)
		w("set security ipsec vpn vpn%d bind-interface st0.%d", n, n)
		w("set security ipsec vpn vpn%d ike gateway gw%d", n, n)
		w("set security ipsec vpn vpn%d ike ipsec-policy ipsec_policy", n)
		w("set security ipsec vpn vpn%d establish-tunnels immediately", n)
	}
	return b.String()
}

// TestTwoGatewaysToOneStrongSwan: one ipsecgw node with two local
// addresses runs two IKEv2 gateways to one strongSwan peer address (as two
// uplinks, or the virtual IPs of two services redundancy groups active on
// one node, would); strongSwan has a connection to each of our addresses,
// each with its own key and traffic selectors. Both tunnels come up, carry
// pings, and "show security ike security-associations" lists both IKE
// SAs. The gateways used to share one peer entry (the second replaced the
// first), so only one tunnel could come up.
func TestTwoGatewaysToOneStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	tp, _, _ := newMultiVPNTopology(t, true) // multivpn_test.go: the same two networks
	tp.startOne(0, sharedRemoteConfig())
	conn := func(n int, remote, local, remoteTS string) strongswan.Connection {
		return strongswan.Connection{
			// Our identity is our address: it picks strongSwan's secret.
			Name: fmt.Sprintf("gw%d", n), LocalAddrs: "192.0.2.2", RemoteAddrs: remote, RemoteID: remote, PSK: fmt.Sprintf("key-%d", n),
			Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
			Children: []strongswan.Child{{Name: fmt.Sprintf("net%d", n), LocalTS: []string{local}, RemoteTS: []string{remoteTS},
				ESPProposals: []string{"aes256gcm16"}, StartAction: "none"}},
		}
	}
	charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{
		conn(1, "192.0.2.1", "198.18.2.0/24", "198.18.1.0/24"),
		conn(2, "192.0.2.3", "198.18.3.0/24", "198.18.4.0/24"),
	}})
	tp.waitTunnel("h1", "198.18.2.2")
	p := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.4.2"}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _ := tp.net.Try("h1", p.Args("198.18.3.2")...)
		err := p.Check("198.18.3.2", out)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			sas, _ := charon.ListSAs()
			t.Fatalf("second tunnel: %v\nstrongSwan SAs: %+v\ngw1:\n%s\ncharon:\n%s", err, sas, tp.logOf(tp.gws[0]), charon.Log())
		}
	}
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	back := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.3.2"}}
	out, _ := tp.net.Try("h2", back.Args("198.18.4.2")...)
	if err := back.Check("198.18.4.2", out); err != nil {
		t.Fatalf("second tunnel, from h2: %v", err)
	}

	// strongSwan has an IKE SA per connection, each to its own address of
	// ours, and each Child SA carried traffic.
	sas, err := charon.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	for n, remote := range map[int]string{1: "192.0.2.1", 2: "192.0.2.3"} {
		ike, child, ok := strongswan.FindChild(sas, fmt.Sprintf("net%d", n))
		if !ok || ike.RemoteHost != remote || child.PacketsIn == 0 || child.PacketsOut == 0 {
			t.Errorf("strongSwan's net%d: %+v %+v (want IKE SA with %s and traffic)", n, ike, child, remote)
		}
	}
	// ipsecgw lists both IKE SAs, both up, both to 192.0.2.2.
	st := tp.status(tp.gws[0])
	if len(st.IKE) != 2 || st.IKE[0].State != "UP" || st.IKE[1].State != "UP" {
		t.Fatalf("gw1 IKE SAs: %+v", st.IKE)
	}
	show := tp.mustCLI(tp.gws[0], "show security ike security-associations")
	for _, s := range st.IKE {
		row := fmt.Sprintf("UP     %016x  %016x  IKEv2          192.0.2.2", s.InitiatorSPI, s.ResponderSPI)
		if !strings.Contains(show, row) {
			t.Fatalf("show security ike security-associations:\n%s\nwant a row with %q", show, row)
		}
	}
}
