package strongswan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// site is one side of the two-charon topology:
//
//	hA ── gwA (charon) ══ UDP 4500 ══ gwB (charon) ── hB
//
//	hA   198.51.100.10/24 2001:db8:a::10/64     gwA lan 198.51.100.1 2001:db8:a::1
//	gwA wan 192.0.2.1/24                        gwB wan 192.0.2.2/24
//	hB   203.0.113.10/24  2001:db8:b::10/64     gwB lan 203.0.113.1  2001:db8:b::1
type site struct {
	gw, host         string // namespace names
	wan              string // gateway's WAN address
	lan4, lan6       string // gateway's LAN addresses (prefix length 24 and 64)
	host4, host6     string // host's addresses
	subnet4, subnet6 string
}

var siteA = site{"gwA", "hA", "192.0.2.1", "198.51.100.1", "2001:db8:a::1", "198.51.100.10", "2001:db8:a::10", "198.51.100.0/24", "2001:db8:a::/64"}
var siteB = site{"gwB", "hB", "192.0.2.2", "203.0.113.1", "2001:db8:b::1", "203.0.113.10", "2001:db8:b::10", "203.0.113.0/24", "2001:db8:b::/64"}

// twoSites builds the topology above; the gateways forward, the hosts route
// everything through their gateway.
func twoSites(t *testing.T) *netns.Net {
	n := netns.New(t, siteA.host, siteA.gw, siteB.gw, siteB.host)
	for _, ns := range []string{siteA.host, siteA.gw, siteB.gw, siteB.host} {
		// No duplicate address detection, before any link exists: a tentative
		// link-local address stalls neighbour discovery for a second.
		n.Exec(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	}
	n.Link(siteA.gw, "wan", siteA.wan+"/24", siteB.gw, "wan", siteB.wan+"/24")
	for _, s := range []site{siteA, siteB} {
		n.Link(s.gw, "lan", s.lan4+"/24", s.host, "eth0", s.host4+"/24")
		n.Exec(s.gw, "ip", "-6", "addr", "add", s.lan6+"/64", "dev", "lan")
		n.Exec(s.host, "ip", "-6", "addr", "add", s.host6+"/64", "dev", "eth0")
		n.Exec(s.host, "ip", "route", "add", "default", "via", s.lan4)
		n.Exec(s.host, "ip", "-6", "route", "add", "default", "via", s.lan6)
		n.Exec(s.gw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	}
	return n
}

// gatewayConfig is one gateway's side of the tunnel between the two sites.
func gatewayConfig(local, remote site, ike, esp string) Config {
	return Config{Connections: []Connection{{
		Name:        "gw",
		LocalAddrs:  local.wan,
		RemoteAddrs: remote.wan,
		LocalID:     local.wan,
		RemoteID:    remote.wan,
		PSK:         "ipsecgw test key, not a secret",
		Proposals:   []string{ike},
		Children: []Child{{
			Name:         "net",
			LocalTS:      []string{local.subnet4, local.subnet6},
			RemoteTS:     []string{remote.subnet4, remote.subnet6},
			ESPProposals: []string{esp},
		}},
	}}}
}

// TestCharonToCharon proves that strongSwan's userspace ESP (kernel-libipsec)
// works on this kernel: two charons negotiate IKEv2 with a PSK, install the
// CHILD SA, and carry pings between the protected subnets, IPv4 and IPv6,
// with both sides' CHILD SA counters rising.
func TestCharonToCharon(t *testing.T) {
	Require(t)
	for _, tc := range []struct {
		ike, esp          string
		ikeEncr, ikeDH    string
		espEncr, espInteg string
	}{
		{"aes256-sha256-modp2048", "aes256gcm16", "AES_CBC", "MODP_2048", "AES_GCM_16", ""},
		{"chacha20poly1305-prfsha256-x25519", "chacha20poly1305", "CHACHA20_POLY1305", "CURVE_25519", "CHACHA20_POLY1305", ""},
		{"aes128gcm16-prfsha384-ecp384", "aes128-sha256", "AES_GCM_16", "ECP_384", "AES_CBC", "HMAC_SHA2_256_128"},
	} {
		t.Run(tc.ike+"/"+tc.esp, func(t *testing.T) {
			start := time.Now()
			n := twoSites(t)
			a := Start(t, n, siteA.gw, gatewayConfig(siteA, siteB, tc.ike, tc.esp))
			b := Start(t, n, siteB.gw, gatewayConfig(siteB, siteA, tc.ike, tc.esp))
			started := time.Now()
			if err := a.Initiate("net"); err != nil {
				t.Fatal(err)
			}
			established := time.Now()

			ikeA, childA := established1(t, "gwA", a)
			ikeB, childB := established1(t, "gwB", b)
			if ikeA.InitiatorSPI != ikeB.InitiatorSPI || ikeA.ResponderSPI != ikeB.ResponderSPI {
				t.Errorf("IKE SPIs differ: gwA %x/%x, gwB %x/%x", ikeA.InitiatorSPI, ikeA.ResponderSPI, ikeB.InitiatorSPI, ikeB.ResponderSPI)
			}
			if childA.SPIIn != childB.SPIOut || childA.SPIOut != childB.SPIIn {
				t.Errorf("ESP SPIs do not pair: gwA in %08x out %08x, gwB in %08x out %08x", childA.SPIIn, childA.SPIOut, childB.SPIIn, childB.SPIOut)
			}
			for _, side := range []struct {
				name  string
				ike   IKESA
				child ChildSA
			}{{"gwA", ikeA, childA}, {"gwB", ikeB, childB}} {
				if side.ike.EncrAlg != tc.ikeEncr || side.ike.DHGroup != tc.ikeDH || side.ike.Version != 2 {
					t.Errorf("%s: IKE SA IKEv%d %s/%s, want IKEv2 %s/%s", side.name, side.ike.Version, side.ike.EncrAlg, side.ike.DHGroup, tc.ikeEncr, tc.ikeDH)
				}
				if side.child.EncrAlg != tc.espEncr || side.child.IntegAlg != tc.espInteg {
					t.Errorf("%s: CHILD SA %s/%s, want %s/%s", side.name, side.child.EncrAlg, side.child.IntegAlg, tc.espEncr, tc.espInteg)
				}
				// libipsec always encapsulates, by faking a NAT.
				if !side.child.Encap || side.ike.LocalPort != 4500 || side.ike.RemotePort != 4500 {
					t.Errorf("%s: encap=%v, IKE on ports %d→%d; libipsec should have moved to UDP 4500", side.name, side.child.Encap, side.ike.LocalPort, side.ike.RemotePort)
				}
			}

			const pings = 3
			for _, dst := range []string{siteB.host4, siteB.host6} {
				if out, err := n.Try(siteA.host, "ping", "-c", fmt.Sprint(pings), "-i", "0.2", "-W", "2", "-w", "5", dst); err != nil {
					t.Fatalf("ping %s from %s through the tunnel: %v\n%s", dst, siteA.host, err, out)
				}
			}
			_, afterA := established1(t, "gwA", a)
			_, afterB := established1(t, "gwB", b)
			// Each ping is one packet each way through each gateway's SA.
			const want = 2 * pings
			for _, c := range []struct {
				what          string
				before, after uint64
			}{
				{"gwA packets out", childA.PacketsOut, afterA.PacketsOut},
				{"gwA packets in", childA.PacketsIn, afterA.PacketsIn},
				{"gwB packets out", childB.PacketsOut, afterB.PacketsOut},
				{"gwB packets in", childB.PacketsIn, afterB.PacketsIn},
			} {
				if c.after < c.before+want {
					t.Errorf("%s: %d before the pings, %d after; want at least %d more", c.what, c.before, c.after, want)
				}
			}
			if afterA.BytesOut <= childA.BytesOut || afterB.BytesIn <= childB.BytesIn {
				t.Errorf("byte counters did not rise: gwA out %d→%d, gwB in %d→%d", childA.BytesOut, afterA.BytesOut, childB.BytesIn, afterB.BytesIn)
			}

			if err := a.Terminate("gw"); err != nil {
				t.Fatal(err)
			}
			if sas := waitForNoSAs(t, b); len(sas) != 0 {
				t.Errorf("gwB still has SAs after gwA terminated: %+v", sas)
			}
			a.Stop()
			b.Stop()
			t.Logf("namespaces and charons up %v, IKE_SA and CHILD_SA %v, pings and checks and teardown %v",
				started.Sub(start).Round(time.Millisecond), established.Sub(started).Round(time.Millisecond), time.Since(established).Round(time.Millisecond))
		})
	}
}

// TestInitiateFails checks that a failed negotiation comes back as an error
// from Initiate, with no SA left behind, for a wrong PSK and for ESN, which
// libipsec cannot do (IKE agrees on it, installing the SA fails).
func TestInitiateFails(t *testing.T) {
	Require(t)
	for _, tc := range []struct {
		name      string
		esp       string
		pskB      string // gwB's key, when it differs
		wantInLog string // in gwB's log
	}{
		{"psk", "aes256gcm16", "another key", "tried 1 shared key"},
		{"esn", "aes256gcm16-esn", "", "ESN not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := twoSites(t)
			cfgB := gatewayConfig(siteB, siteA, "aes256-sha256-modp2048", tc.esp)
			if tc.pskB != "" {
				cfgB.Connections[0].PSK = tc.pskB
			}
			a := Start(t, n, siteA.gw, gatewayConfig(siteA, siteB, "aes256-sha256-modp2048", tc.esp))
			b := Start(t, n, siteB.gw, cfgB)
			if err := a.Initiate("net"); err == nil {
				t.Fatal("Initiate succeeded; want an error")
			}
			if !strings.Contains(b.Log(), tc.wantInLog) {
				t.Errorf("gwB's log lacks %q:\n%s", tc.wantInLog, b.Log())
			}
			sas, err := a.ListSAs()
			if err != nil {
				t.Fatal(err)
			}
			if _, child, ok := FindChild(sas, "net"); ok {
				t.Errorf("gwA has a CHILD SA after a failed Initiate: %+v", child)
			}
		})
	}
}

// established1 returns the one IKE SA and its one CHILD SA, failing the test
// unless they are ESTABLISHED and INSTALLED.
func established1(t *testing.T, name string, c *Charon) (IKESA, ChildSA) {
	t.Helper()
	sas, err := c.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	if len(sas) != 1 || len(sas[0].Children) != 1 {
		t.Fatalf("%s: want one IKE SA with one CHILD SA, got %+v", name, sas)
	}
	ike, child := sas[0], sas[0].Children[0]
	if ike.State != "ESTABLISHED" || child.State != "INSTALLED" {
		t.Fatalf("%s: IKE SA %s, CHILD SA %s; want ESTABLISHED, INSTALLED", name, ike.State, child.State)
	}
	return ike, child
}

// waitForNoSAs polls until charon has no IKE SA left (the peer's DELETE is
// answered before the initiator's Terminate returns, but the responder's
// SA goes away asynchronously), for at most two seconds.
func waitForNoSAs(t *testing.T, c *Charon) []IKESA {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		sas, err := c.ListSAs()
		if err != nil {
			t.Fatal(err)
		}
		if len(sas) == 0 || time.Now().After(deadline) {
			return sas
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLogIsWritten(t *testing.T) {
	Require(t)
	n := netns.New(t, "gw")
	c := Start(t, n, "gw", Config{Connections: []Connection{{Name: "idle", LocalAddrs: "192.0.2.1", RemoteAddrs: "192.0.2.2", PSK: "k"}}})
	if log := c.Log(); !strings.Contains(log, "loaded plugins: charon "+Plugins) {
		t.Errorf("charon's log does not show the plugin list %q:\n%s", Plugins, log)
	}
	// The pid file went to charon's private /run, not the machine's.
	if _, err := os.Stat("/run/charon.pid"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("/run/charon.pid on the host: %v; want it absent", err)
	}
	if _, err := n.Try("gw", "ip", "link", "show", "ipsec0"); err != nil {
		t.Errorf("kernel-libipsec created no ipsec0 in the namespace: %v", err)
	}
	sas, err := c.ListSAs()
	if err != nil || len(sas) != 0 {
		t.Errorf("an idle charon lists SAs %+v, %v; want none", sas, err)
	}
}
