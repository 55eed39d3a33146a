package ikev2

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// rekeyedFrom waits until e lists one IKE SA up, not old, and returns it:
// the IKE SA rekey is done and the old one gone.
func rekeyedFrom(t *testing.T, e *Engine, who string, old ike.SAInfo) ike.SAInfo {
	t.Helper()
	within(t, who+": the IKE SA rekeyed, the old one gone", func() bool {
		up := liveSAs(e)
		return len(e.SAs()) == 1 && len(up) == 1 && up[0].InitiatorSPI != old.InitiatorSPI
	})
	return liveSAs(e)[0]
}

// TestOnTrafficVPNWantedDuringIKERekey: a rekeys the IKE SA carrying
// vpn1, and traffic asks for vpn2 (on-traffic) while the rekey request is
// out. vpn2 waits for the rekey, then comes up on the new IKE SA with no
// more traffic, one Child SA of each VPN on each side. Before, the want
// stayed on the old IKE SA, which the rekey deleted, and vpn2 stayed down
// until its traffic asked again.
func TestOnTrafficVPNWantedDuringIKERekey(t *testing.T) {
	ra := netip.MustParseAddr("192.0.2.2")
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a := sideClock(t, vpnSideConfig(1, 2, fmt.Sprintf(twoVPNs, 1, 2, "on-traffic", "2")), p, newVPNInstalls(), clk)
	b := sideClock(t, vpnSideConfig(2, 1, fmt.Sprintf(twoVPNs, 2, 1, "on-traffic", "1")), p, newVPNInstalls(), clk)
	if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn1", true); err != nil {
		t.Fatal(err)
	}
	old := oneSAWith(t, a, "a", "vpn1")
	oneSAWith(t, b, "b", "vpn1")
	p.mu.Lock()
	p.holdIf = func(msg []byte, _, _ netip.AddrPort) bool { // the rekey request
		h, err := wire.ParseHeader(msg)
		return err == nil && !h.IsResponse() && h.Exchange == wire.CREATE_CHILD_SA
	}
	p.mu.Unlock()
	if n := a.RekeyIKE(func(ike.SAInfo) bool { return true }); n != 1 {
		t.Fatalf("%d IKE SA rekeys started, want 1", n)
	}
	within(t, "the IKE SA rekey request out", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.held) == 1
	})
	if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn2", true); err != nil { // its traffic, once
		t.Fatal(err)
	}
	p.release()
	rekeyedFrom(t, a, "a", old)
	runClock(p, clk, 3*vpnCreateRetry)
	now := oneSAWith(t, a, "a", "vpn1", "vpn2")
	oneSAWith(t, b, "b", "vpn1", "vpn2")
	if now.InitiatorSPI == old.InitiatorSPI {
		t.Fatalf("vpn2 came up on the old IKE SA %x, want the new one", old.InitiatorSPI)
	}
}

// TestKeptUpVPNMissingAtIKERekey: vpn2 is kept up at a (establish-tunnels
// immediately) and b refuses it (TS_UNACCEPTABLE), then a commit at b
// mends vpn2 and the IKE SA is rekeyed before a asks again
// (ike.ReinitiateDelay, createFailed). The new IKE SA asks for vpn2,
// which comes up on it: at once when a rekeyed (a is the new IKE SA's
// initiator), after responderVPNWait when b did. Before, only the old IKE
// SA would have asked again, and it was gone: vpn2 stayed down while the
// IKE SA lived.
func TestKeptUpVPNMissingAtIKERekey(t *testing.T) {
	ra := netip.MustParseAddr("192.0.2.2")
	for _, aRekeys := range []bool{true, false} {
		t.Run(map[bool]string{true: "a-rekeys", false: "b-rekeys"}[aRekeys], func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			a := sideClock(t, vpnSideConfig(1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2")), p, newVPNInstalls(), clk)
			b := sideClock(t, vpnSideConfig(2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "9")), p, newVPNInstalls(), clk)
			if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn1", false); err != nil {
				t.Fatal(err)
			}
			within(t, "a's vpn2 refused", func() bool {
				up := liveSAs(a)
				return len(up) == 1 && strings.Contains(up[0].Failure.Message, "TS_UNACCEPTABLE")
			})
			p.wg.Wait()
			old := oneSAWith(t, a, "a", "vpn1")
			addVPNFrom(t, b, vpnSideConfig(2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1")), "vpn2")
			rekeying := a
			if !aRekeys {
				rekeying = b
			}
			if n := rekeying.RekeyIKE(func(ike.SAInfo) bool { return true }); n != 1 {
				t.Fatalf("%d IKE SA rekeys started, want 1", n)
			}
			rekeyedFrom(t, a, "a", old)
			rekeyedFrom(t, b, "b", old)
			runClock(p, clk, ike.ReinitiateDelay+responderVPNWait)
			now := oneSAWith(t, a, "a", "vpn1", "vpn2")
			oneSAWith(t, b, "b", "vpn1", "vpn2")
			if now.InitiatorSPI == old.InitiatorSPI {
				t.Fatalf("vpn2 came up on the old IKE SA %x, want the new one", old.InitiatorSPI)
			}
		})
	}
}
