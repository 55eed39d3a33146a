package ikev2

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// createRequests counts the CREATE_CHILD_SA requests a pipe carries (its
// tap, under the pipe's lock).
type createRequests struct{ n int }

func (c *createRequests) tap(b []byte, _, _ netip.AddrPort) {
	if h, err := wire.ParseHeader(b); err == nil && h.Exchange == wire.CREATE_CHILD_SA && !h.IsResponse() {
		c.n++
	}
}

func (c *createRequests) count(p *pipe) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return c.n
}

// TestClearedOnTrafficVPNStaysDown: traffic brings vpn2, on-traffic, up on
// the IKE SA of vpn1 (a want, vpnchild.go), and an operator clears it.
// vpn1 is then cleared and brought up again by its traffic: the IKE SA
// asks for vpn1 alone, and vpn2 stays down until its own traffic asks.
// Before, the want stayed after vpn2's Child SA came up, and the bring-up
// of vpn1 asked for vpn2 too, with no traffic for it.
func TestClearedOnTrafficVPNStaysDown(t *testing.T) {
	ra := netip.MustParseAddr("192.0.2.2")
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "on-traffic", "2"), p)
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "on-traffic", "1"), p)
	creates := &createRequests{}
	p.mu.Lock()
	p.tap = creates.tap
	p.mu.Unlock()
	traffic := func(vpn string) {
		t.Helper()
		if err := a.InitiateVPNFrom(netip.Addr{}, ra, vpn, true); err != nil {
			t.Fatal(err)
		}
	}
	traffic("vpn1")
	oneSAWith(t, a, "a", "vpn1")
	traffic("vpn2")
	oneSAWith(t, a, "a", "vpn1", "vpn2")
	oneSAWith(t, b, "b", "vpn1", "vpn2")
	if n := a.ClearVPN("vpn2"); n != 1 {
		t.Fatalf("cleared %d Child SAs of vpn2, want 1", n)
	}
	oneSAWith(t, b, "b", "vpn1") // the DELETE came
	a.ClearVPN("vpn1")
	before := creates.count(p)
	traffic("vpn1")
	within(t, "vpn1 up again", func() bool { return len(childrenOf(a)["vpn1"]) == 1 })
	p.wg.Wait() // the answer's handler has asked for what it would next
	if n, cs := creates.count(p)-before, childrenOf(a); n != 1 || len(cs["vpn2"]) != 0 {
		t.Fatalf("%d CREATE_CHILD_SA requests after vpn1's traffic, %d Child SAs of vpn2: want vpn1's request alone, vpn2 down", n, len(cs["vpn2"]))
	}
	oneSAWith(t, a, "a", "vpn1")
	oneSAWith(t, b, "b", "vpn1")
	traffic("vpn2")
	oneSAWith(t, a, "a", "vpn1", "vpn2")
	oneSAWith(t, b, "b", "vpn1", "vpn2")
}

// addVPNFrom gives e the VPN named of configuration src (a commit that
// adds or changes it).
func addVPNFrom(t *testing.T, e *Engine, src, name string) {
	t.Helper()
	tr, err := config.Parse("gw.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range cfg.IPsec.VPNs {
		if v.Name != name {
			continue
		}
		peer, err := resolve.Peer(v, v.IKE.Gateway.LocalAddress)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.AddPeer(peer); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no VPN %s in the configuration", name)
}

// TestRefusedVPNAskedAgain: the peer refuses a's CREATE_CHILD_SA for
// vpn2 (TS_UNACCEPTABLE: its vpn2 wants other selectors), then a commit
// there mends vpn2. vpn2 kept up at a (establish-tunnels immediately) is
// asked for again ike.ReinitiateDelay after the refusal, on the same IKE
// SA, and comes up; before, a refusal was never asked again while the IKE
// SA lived, so a VPN a dedupe moved onto the IKE SA kept (dupvpns.go) and
// the peer refused stayed down. vpn2 on-traffic at a is not asked again
// until its traffic asks.
func TestRefusedVPNAskedAgain(t *testing.T) {
	ra := netip.MustParseAddr("192.0.2.2")
	for _, keptUp := range []bool{true, false} {
		t.Run(map[bool]string{true: "immediately", false: "on-traffic"}[keptUp], func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			confA := fmt.Sprintf(twoVPNs, 1, 2, "on-traffic", "2")
			if keptUp {
				confA = fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2")
			}
			a := sideClock(t, vpnSideConfig(1, 2, confA), p, newVPNInstalls(), clk)
			b := sideClock(t, vpnSideConfig(2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "9")), p, newVPNInstalls(), clk)
			creates := &createRequests{}
			p.mu.Lock()
			p.tap = creates.tap
			p.mu.Unlock()
			if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn1", !keptUp); err != nil {
				t.Fatal(err)
			}
			if !keptUp {
				oneSAWith(t, a, "a", "vpn1")
				if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn2", true); err != nil { // its traffic
					t.Fatal(err)
				}
			}
			within(t, "a's vpn2 refused", func() bool {
				up := liveSAs(a)
				return len(up) == 1 && strings.Contains(up[0].Failure.Message, "TS_UNACCEPTABLE")
			})
			p.wg.Wait()
			asked := creates.count(p)
			addVPNFrom(t, b, vpnSideConfig(2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1")), "vpn2")
			runClock(p, clk, ike.ReinitiateDelay-time.Second)
			if n := creates.count(p); n != asked {
				t.Fatalf("%d CREATE_CHILD_SA requests before ike.ReinitiateDelay passed, want none", n-asked)
			}
			before := oneSAWith(t, a, "a", "vpn1")
			runClock(p, clk, 5*time.Second)
			if !keptUp {
				if n, cs := creates.count(p), childrenOf(a); n != asked || len(cs["vpn2"]) != 0 {
					t.Fatalf("on-traffic vpn2 asked again %d times without traffic (%d Child SAs)", n-asked, len(cs["vpn2"]))
				}
				if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn2", true); err != nil {
					t.Fatal(err)
				}
			}
			after := oneSAWith(t, a, "a", "vpn1", "vpn2")
			oneSAWith(t, b, "b", "vpn1", "vpn2")
			if after.InitiatorSPI != before.InitiatorSPI || after.ResponderSPI != before.ResponderSPI {
				t.Fatalf("vpn2 came up on IKE SA %+v, want the one it was refused on, %+v", after, before)
			}
		})
	}
}
