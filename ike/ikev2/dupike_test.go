package ikev2

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/wire"
)

// TestSimultaneousInitiationPeerKeepsDuplicate: both sides initiate at
// once and both IKE SAs come up (each IKE_AUTH request is held until both
// are out, so neither side's IKE_SA_INIT is unanswered when the peer's
// IKE SA comes up: abandoninit.go), but the initiator of the one to go
// never gets its DELETE through (every INFORMATIONAL request an IKE SA's
// initiator sends is lost), as with a peer that keeps its duplicate
// (strongSwan). The other side deletes it itself after duplicateIKEWait:
// both end with the same single IKE SA and Child SA.
func TestSimultaneousInitiationPeerKeepsDuplicate(t *testing.T) {
	a, b, p := plainPair(t, nil) // abandoninit_test.go
	p.mu.Lock()
	p.drop = func(msg []byte) bool {
		h, err := wire.ParseHeader(msg)
		return err == nil && h.Exchange == wire.INFORMATIONAL && !h.IsResponse() && h.Flags&wire.FlagInitiator != 0
	}
	p.mu.Unlock()
	initiateBothAnswered(t, p, a, b) // abandoninit_test.go
	within(t, "one IKE SA each, the same", func() bool { return oneSameSA(a, b) })
}

// heldRequest is a request a pipe holds back (its holdIf), in the order
// of the pipe's held.
type heldRequest struct {
	exchange wire.ExchangeType
	from     netip.Addr
	spiI     uint64
}

// TestDedupeWaitsForExchangeOut: both sides keep two VPNs up and initiate
// at once, a for vpn1 and b for vpn2. The side whose IKE SA has the
// higher initiator SPI (x, whose IKE SA is the one to go) gets its
// IKE_AUTH answered first and asks at once for its other VPN's Child SA
// (held back), so its CREATE_CHILD_SA is out when the peer's IKE SA comes
// up there and dedupe cannot send the DELETE yet. Once the exchange ends,
// x deletes its IKE SA itself, well before the peer's duplicateIKEWait:
// both sides end with the same one IKE SA, carrying both VPNs. Before,
// dedupe did not look again, and only a peer that deletes our duplicate
// for us (duplicateIKEWait, not strongSwan) ended it.
func TestDedupeWaitsForExchangeOut(t *testing.T) {
	ra, rb := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	for run := range 4 { // the SPIs, random, pick x
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			a := sideClock(t, vpnSideConfig(1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2")), p, newVPNInstalls(), clk)
			b := sideClock(t, vpnSideConfig(2, 1, fmt.Sprintf(twoVPNs, 2, 1, "immediately", "1")), p, newVPNInstalls(), clk)
			var held []heldRequest // under p.mu
			var x netip.Addr       // under p.mu
			p.mu.Lock()
			p.holdIf = func(msg []byte, from, _ netip.AddrPort) bool {
				h, err := wire.ParseHeader(msg)
				if err != nil || h.IsResponse() || h.Exchange == wire.INFORMATIONAL ||
					h.Exchange == wire.CREATE_CHILD_SA && from.Addr() != x {
					return false
				}
				held = append(held, heldRequest{h.Exchange, from.Addr(), h.InitiatorSPI})
				return true
			}
			p.mu.Unlock()
			count := func(pick func(heldRequest) bool) int {
				p.mu.Lock()
				defer p.mu.Unlock()
				n := 0
				for _, r := range held {
					if pick(r) {
						n++
					}
				}
				return n
			}
			release := func(pick func(heldRequest) bool) {
				p.mu.Lock()
				var go_ []func()
				for i := 0; i < len(held); {
					if pick(held[i]) {
						go_ = append(go_, p.held[i])
						held, p.held = slices.Delete(held, i, i+1), slices.Delete(p.held, i, i+1)
						continue
					}
					i++
				}
				p.mu.Unlock()
				for _, f := range go_ {
					f()
				}
				p.wg.Wait()
			}
			of := func(ex wire.ExchangeType, from netip.Addr) func(heldRequest) bool {
				return func(r heldRequest) bool { return r.exchange == ex && (!from.IsValid() || r.from == from) }
			}
			if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn1", false); err != nil {
				t.Fatal(err)
			}
			if err := b.InitiateVPNFrom(netip.Addr{}, rb, "vpn2", false); err != nil {
				t.Fatal(err)
			}
			within(t, "both IKE_SA_INIT requests out", func() bool { return count(of(wire.IKE_SA_INIT, netip.Addr{})) == 2 })
			release(of(wire.IKE_SA_INIT, netip.Addr{}))
			within(t, "both IKE_AUTH requests out", func() bool { return count(of(wire.IKE_AUTH, netip.Addr{})) == 2 })
			p.mu.Lock()
			x, y := held[0].from, held[1].from
			if held[1].spiI > held[0].spiI {
				x, y = y, x
			}
			p.mu.Unlock()
			release(of(wire.IKE_AUTH, x))
			within(t, "x's CREATE_CHILD_SA out on its IKE SA", func() bool { return count(of(wire.CREATE_CHILD_SA, x)) == 1 })
			release(of(wire.IKE_AUTH, y)) // the peer's IKE SA comes up at x: dedupe
			p.mu.Lock()
			p.holdIf = nil
			p.mu.Unlock()
			release(func(heldRequest) bool { return true }) // x's exchange ends
			runClock(p, clk, duplicateIKEWait-2*time.Second)
			if la, lb := a.SAs(), b.SAs(); len(la) != 1 || len(lb) != 1 || la[0].InitiatorSPI != lb[0].InitiatorSPI {
				t.Fatalf("%v before duplicateIKEWait: a lists %+v, b %+v; want one IKE SA each, the same", duplicateIKEWait-2*time.Second, a.SAs(), b.SAs())
			}
			kept := oneSAWith(t, a, "a", "vpn1", "vpn2")
			oneSAWith(t, b, "b", "vpn1", "vpn2")
			if kept.Initiator != (y == rb) { // rb: a
				t.Fatalf("a keeps %+v, want the IKE SA of %s, the lower initiator SPI", kept, y)
			}
		})
	}
}
