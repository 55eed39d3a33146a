package ikev2

import (
	"fmt"
	"net/netip"
	"testing"

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
