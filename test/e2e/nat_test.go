package e2e

import (
	"fmt"
	"strings"
	"testing"

	"ipsecgw/test/netns"
)

// natTopology is h1 — gw1 — nat — gw2 — h2: gw1 sits behind a namespace
// that masquerades its outer address (nftables), as a home router would.
//
//	gw1 192.0.2.1/24 — 192.0.2.254 nat 198.51.100.254/24 — 198.51.100.2 gw2
func newNATTopology(t *testing.T) *topology {
	t.Helper()
	n := netns.New(t, "h1", "gw1", "nat", "gw2", "h2")
	n.Link("h1", "h1-gw1", "198.18.1.2/24", "gw1", "gw1-h1", "")
	n.Link("gw1", "gw1-nat", "", "nat", "nat-gw1", "192.0.2.254/24")
	n.Link("nat", "nat-gw2", "198.51.100.254/24", "gw2", "gw2-nat", "")
	n.Link("gw2", "gw2-h2", "", "h2", "h2-gw2", "198.18.2.2/24")
	n.Exec("h1", "ip", "route", "add", "default", "via", "198.18.1.1")
	n.Exec("h2", "ip", "route", "add", "default", "via", "198.18.2.1")
	for _, gw := range []string{"gw1", "gw2", "nat"} {
		n.Exec(gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	}
	n.Exec("nat", "nft", "add table ip natt; add chain ip natt post { type nat hook postrouting priority 100; }; add rule ip natt post oifname nat-gw2 masquerade")
	return &topology{t: t, net: n, negotiated: true}
}

// natConfig is gw1's (i = 0, behind the NAT) or gw2's configuration.
func natConfig(i int) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if i == 0 {
		w("set interfaces gw1-h1 unit 0 family inet address 198.18.1.1/24")
		w("set interfaces gw1-nat unit 0 family inet address 192.0.2.1/24")
		w("set routing-options static route 198.51.100.0/24 next-hop 192.0.2.254")
		w("set routing-options static route 198.18.2.0/24 next-hop st0.1")
		w("set security ike gateway gw address 198.51.100.2")
		w("set security ike gateway gw external-interface gw1-nat")
		w("set security ipsec vpn v establish-tunnels immediately")
	} else {
		w("set interfaces gw2-h2 unit 0 family inet address 198.18.2.1/24")
		w("set interfaces gw2-nat unit 0 family inet address 198.51.100.2/24")
		w("set routing-options static route 198.18.1.0/24 next-hop st0.1")
		// gw1 is seen from behind its NAT: the NAT's address.
		w("set security ike gateway gw address 198.51.100.254")
		w("set security ike gateway gw external-interface gw2-nat")
		w("set security ipsec vpn v establish-tunnels responder-only")
	}
	w("set interfaces st0 unit 1 family inet")
	w("set security ike proposal p authentication-method pre-shared-keys")
	w("set security ike proposal p dh-group group19")
	w("set security ike proposal p authentication-algorithm sha-256")
	w("set security ike proposal p encryption-algorithm aes-256-gcm")
	w("set security ike policy pol proposals p")
	w(`set security ike policy pol pre-shared-key ascii-text "behind a nat"`)
	w("set security ike gateway gw ike-policy pol")
	w("set security ike gateway gw version v2-only")
	w("set security ike gateway gw dead-peer-detection interval 10")
	w("set security ipsec proposal ip protocol esp")
	w("set security ipsec proposal ip encryption-algorithm aes-256-gcm")
	w("set security ipsec policy ipol proposals ip")
	w("set security ipsec vpn v bind-interface st0.1")
	w("set security ipsec vpn v ike gateway gw")
	w("set security ipsec vpn v ike ipsec-policy ipol")
	return b.String()
}

// TestIKEv2ThroughNAT: with the initiator behind a masquerading NAT, both
// sides detect it (NAT_DETECTION_*), IKE moves to port 4500 and ESP goes in
// UDP through the NAT; ping and TCP cross both ways, and the NAT really
// carried UDP 4500 and no raw ESP.
func TestIKEv2ThroughNAT(t *testing.T) {
	netns.RequireRoot(t)
	// Once on raw and UDP sockets, once on AF_XDP rings and once on
	// AF_PACKET rings, which then carry the ESP in UDP on 4500 while IKE
	// on 4500 still reaches the daemon.
	for _, dataPlane := range []string{"socket", "xdp", "packet-ring"} {
		t.Run("data-plane-"+dataPlane, func(t *testing.T) {
			testIKEv2ThroughNAT(t, "set security ipsec data-plane "+dataPlane+"\n")
		})
	}
}

func testIKEv2ThroughNAT(t *testing.T, dataPlane string) {
	tp := newNATTopology(t)
	tp.startConfigs([2]string{natConfig(0) + dataPlane, natConfig(1) + dataPlane})
	tp.waitTunnel("h1", "198.18.2.2")
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	tp.tcp("h1", "h2", "198.18.2.2")
	tp.checkCounters()
	for i, g := range tp.gws {
		st := tp.status(g)
		for _, sa := range st.SAs {
			if sa.Counters.EncryptedPackets+sa.Counters.DecryptedPackets == 0 {
				t.Errorf("gw%d SA %s %s carried nothing", i+1, sa.Direction, sa.SPI)
			}
		}
	}
	conntrack := tp.net.Exec("nat", "cat", "/proc/net/nf_conntrack")
	if !strings.Contains(conntrack, "dport=4500") {
		t.Errorf("the NAT saw no UDP 4500 flow:\n%s", conntrack)
	}
	if strings.Contains(conntrack, " esp ") || strings.Contains(conntrack, "unknown 50") {
		t.Errorf("raw ESP crossed the NAT:\n%s", conntrack)
	}
	if log := tp.logOf(tp.gws[0]); !strings.Contains(log, "udp=true") {
		t.Errorf("gw1 did not install UDP-encapsulated SAs:\n%s", log)
	}
	for _, g := range tp.gws {
		dp := tp.status(g).DataPlane
		switch {
		case strings.Contains(dataPlane, "xdp"):
			if dp.Mode != "xdp" || dp.XDP == nil || dp.XDP.Received < 100 || dp.XDP.Sent < 100 {
				t.Errorf("%s: data plane %+v: want the ESP in UDP on the AF_XDP rings", g.name, dp)
			}
		case strings.Contains(dataPlane, "packet-ring"):
			if r := dp.PacketRing; dp.Mode != "packet-ring" || r == nil || r.Received < 100 || r.Sent < 100 || r.Malformed != 0 {
				t.Errorf("%s: data plane %+v (rings %+v): want the ESP in UDP on the AF_PACKET rings", g.name, dp, r)
			}
		}
	}
}
