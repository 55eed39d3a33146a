package ikev2

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
)

// twoGatewaysConfig is a node with one gateway per (local, remote) pair in
// gws, each with its own pre-shared key and VPN on its own st0 unit.
func twoGatewaysConfig(gws [][2]string) string {
	var b strings.Builder
	b.WriteString(`set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 dh-group group19
set security ike proposal p1 authentication-algorithm sha-256
set security ike proposal p1 encryption-algorithm aes-256-gcm
set security ipsec proposal ip1 protocol esp
set security ipsec proposal ip1 encryption-algorithm aes-256-gcm
set security ipsec policy ipol proposals ip1
`)
	for i, gw := range gws {
		n := i + 1
		fmt.Fprintf(&b, `set interfaces st0 unit %[1]d family inet
set security ike policy pol%[1]d proposals p1
set security ike policy pol%[1]d pre-shared-key ascii-text "key-%[1]d"
set security ike gateway gw%[1]d ike-policy pol%[1]d
set security ike gateway gw%[1]d address %[3]s
set security ike gateway gw%[1]d local-address %[2]s
set security ike gateway gw%[1]d version v2-only
set security ipsec vpn vpn%[1]d bind-interface st0.%[1]d
set security ipsec vpn vpn%[1]d ike gateway gw%[1]d
set security ipsec vpn vpn%[1]d ike ipsec-policy ipol
`, n, gw[0], gw[1])
	}
	return b.String()
}

// multiSide is an engine with the peers of a configuration, reached at
// each of its local addresses.
func multiSide(t *testing.T, src string, p *pipe) (*Engine, *installs) {
	t.Helper()
	inst := &installs{}
	return multiSideWith(t, src, p, inst), inst
}

// multiSideWith is multiSide with the installer given.
func multiSideWith(t *testing.T, src string, p *pipe, inst ike.Installer) *Engine {
	t.Helper()
	return multiSideClock(t, src, p, inst, nil)
}

// multiSideClock is multiSideWith on the clock given (nil: the real one).
func multiSideClock(t *testing.T, src string, p *pipe, inst ike.Installer, clk clock.Clock) *Engine {
	t.Helper()
	tr, err := config.Parse("gw.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(ike.Config{Transport: p, Installer: inst, Clock: clk})
	for _, v := range cfg.IPsec.VPNs {
		peer, err := resolve.Peer(v, v.IKE.Gateway.LocalAddress)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.AddPeer(peer); err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		p.engines[peer.Local] = e
		p.mu.Unlock()
	}
	return e
}

// TestTwoGatewaysOneRemote: one node with two local addresses has two
// gateways to one peer address (two uplinks, or the virtual IPs of two
// services redundancy groups), each with its own key; the peer has one
// gateway to each of them. Whichever side initiates, both tunnels come up,
// each IKE SA on its own gateway from its own local address, and their
// Child SAs pair up with distinct keys. Before peers were keyed by local
// address too, the second gateway replaced the first.
func TestTwoGatewaysOneRemote(t *testing.T) {
	l1, l2, r := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("192.0.2.2")
	for _, weInitiate := range []bool{true, false} {
		t.Run(map[bool]string{true: "node-initiates", false: "peer-initiates"}[weInitiate], func(t *testing.T) {
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			a, ia := multiSide(t, twoGatewaysConfig([][2]string{{l1.String(), r.String()}, {l2.String(), r.String()}}), p)
			b, ib := multiSide(t, twoGatewaysConfig([][2]string{{r.String(), l1.String()}, {r.String(), l2.String()}}), p)
			if err := a.Initiate(r); err == nil || !strings.Contains(err.Error(), "name the local address") {
				t.Fatalf("Initiate with two gateways to %s: %v", r, err)
			}
			for _, l := range []netip.Addr{l1, l2} {
				var err error
				if weInitiate {
					err = a.InitiateFrom(l, r)
				} else {
					err = b.InitiateFrom(r, l)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "two IKE SAs up on each side", func() bool {
				return len(upSAs(a)) == 2 && len(upSAs(b)) == 2 && len(ia.get()) == 2 && len(ib.get()) == 2
			})
			for _, s := range a.SAs() {
				want := map[string]bool{"gw1": true, "gw2": true}
				if !want[s.Gateway] || s.Remote != r {
					t.Fatalf("IKE SA %+v", s)
				}
			}
			gws := map[string]bool{}
			for _, s := range a.SAs() {
				gws[s.Gateway] = true
			}
			if len(gws) != 2 {
				t.Fatalf("both IKE SAs on one gateway: %+v", a.SAs())
			}
			// Each Child SA of the node runs from the local address of its
			// gateway and pairs with the peer's of the same addresses.
			ca := ia.get()
			if ca[0].Local == ca[1].Local {
				t.Fatalf("both Child SAs from %s", ca[0].Local)
			}
			if bytes.Equal(ca[0].Outbound.Encryption, ca[1].Outbound.Encryption) {
				t.Fatal("the two Child SAs have the same keys")
			}
			for _, c := range ca {
				var peer *ike.ChildSA
				for _, d := range ib.get() {
					if d.Remote == c.Local {
						peer = d
					}
				}
				if peer == nil || peer.Local != r || c.Remote != r {
					t.Fatalf("Child SA from %s: no peer Child SA to it", c.Local)
				}
				if c.OutboundSPI != peer.InboundSPI || peer.OutboundSPI != c.InboundSPI ||
					!bytes.Equal(c.Outbound.Encryption, peer.Inbound.Encryption) || !bytes.Equal(peer.Outbound.Encryption, c.Inbound.Encryption) {
					t.Fatalf("Child SA from %s does not pair with the peer's", c.Local)
				}
			}
			// Removing one gateway's peer leaves the other's tunnel.
			a.RemovePeerFrom(l1, r)
			eventually(t, "one IKE SA left", func() bool { return len(upSAs(a)) == 1 && len(upSAs(b)) == 1 })
			if s := upSAs(a)[0]; s.Gateway != "gw2" {
				t.Fatalf("left: %+v", s)
			}
			a.Close()
			b.Close()
			p.wg.Wait()
		})
	}
}
