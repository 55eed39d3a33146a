package ikev1

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
)

// countingInstalls is installs that also answers ChildTraffic with the
// ESP packet counts a test sets.
type countingInstalls struct {
	*installs
	in, out atomic.Uint64
}

func (c *countingInstalls) ChildTraffic(*ike.ChildSA) (in, out uint64) {
	return c.in.Load(), c.out.Load()
}

// probeCounter drops every message once the peer is gone and counts the
// R-U-THERE probes among them (each alone in an Informational exchange).
type probeCounter struct {
	mu     sync.Mutex
	gone   bool
	probes int
}

func (c *probeCounter) drop(b []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.gone {
		return false
	}
	if m, err := v1.Parse(b); err == nil && m.Header.Exchange == v1.Informational {
		c.probes++
	}
	return true
}

func (c *probeCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probes
}

// TestDPDModes: IKEv1 honours dead-peer-detection's modes as IKEv2 does.
// With the data plane's packet counts, optimized probes only when ESP
// goes out and nothing comes back, probe-idle-tunnel also when the tunnel
// is idle, always-send every interval even while the peer is heard; with
// no mode configured a quiet peer is probed (as before the modes).
func TestDPDModes(t *testing.T) {
	for _, tc := range []struct {
		mode      string // "" for none configured
		sending   bool   // ESP keeps going out while the peer is silent
		wantProbe bool
	}{
		{"optimized", false, false},
		{"optimized", true, true},
		{"probe-idle-tunnel", false, true},
		{"probe-idle-tunnel", true, true},
		{"always-send", false, true},
		{"", false, true},
	} {
		t.Run(fmt.Sprintf("%s-sending=%v", tc.mode, tc.sending), func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			pc := &probeCounter{}
			p.drop = pc.drop
			dpd := "set security ike gateway gw dead-peer-detection interval 10\n" +
				"set security ike gateway gw dead-peer-detection threshold 3\n"
			if tc.mode != "" {
				dpd += "set security ike gateway gw dead-peer-detection " + tc.mode + "\n"
			}
			inst := &countingInstalls{installs: &installs{next: 1 << 16}}
			a := newSideWith(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", dpd, clk}, p, inst)
			b, _ := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", clk}, p)
			a.Initiate(netip.MustParseAddr("192.0.2.2"))
			eventually(t, "up", func() bool { return up(a) && up(b) })
			p.wg.Wait()
			pc.mu.Lock()
			pc.gone = true // the peer is gone
			pc.mu.Unlock()
			for range 8 {
				if tc.sending {
					inst.out.Add(10)
				}
				clk.Advance(10 * time.Second)
				p.wg.Wait()
				time.Sleep(time.Millisecond)
			}
			probes := pc.count()
			_, removed := inst.counts()
			dead := len(a.Failures()) > 0 && a.Failures()[0].Failure.Cause == ike.CausePeerDead
			if tc.wantProbe && (probes == 0 || removed != 1 || !dead) {
				t.Fatalf("%d probes sent, %d pairs removed, failures %+v: the dead peer went unnoticed", probes, removed, a.Failures())
			}
			if !tc.wantProbe && (probes != 0 || removed != 0) {
				t.Fatalf("%d probes sent, %d pairs removed on an idle tunnel in optimized mode", probes, removed)
			}
			a.Close()
			b.Close()
			p.wg.Wait()
		})
	}
}

// TestDPDAlwaysSendProbesLivePeer: always-send probes every interval even
// while ESP comes in, a peer that answers stays up, and the ISAKMP SA does
// not keep every DPD timer it armed.
func TestDPDAlwaysSendProbesLivePeer(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	var mu sync.Mutex
	probes := 0
	p.drop = func(b []byte) bool {
		if m, err := v1.Parse(b); err == nil && m.Header.Exchange == v1.Informational {
			mu.Lock()
			probes++
			mu.Unlock()
		}
		return false
	}
	dpd := "set security ike gateway gw dead-peer-detection always-send\n" +
		"set security ike gateway gw dead-peer-detection interval 10\n"
	inst := &countingInstalls{installs: &installs{next: 1 << 16}}
	a := newSideWith(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", dpd, clk}, p, inst)
	b, _ := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "up", func() bool { return up(a) && up(b) })
	p.wg.Wait()
	const intervals = 40
	for range intervals {
		inst.in.Add(10)
		inst.out.Add(10)
		clk.Advance(10 * time.Second)
		p.wg.Wait()
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	n := probes
	mu.Unlock()
	// Each interval a R-U-THERE and its R-U-THERE-ACK.
	if n < intervals || !up(a) || len(a.Failures()) != 0 {
		t.Fatalf("%d DPD messages in %d intervals; up %v; failures %+v", n, intervals, up(a), a.Failures())
	}
	// The ISAKMP SA keeps the timers still to fire, not one per interval
	// it ever armed (clock.Group).
	a.mu.Lock()
	for _, sa := range a.sas {
		if sa.timers.Len() > 16 {
			t.Errorf("an ISAKMP SA holds %d timers after %d DPD intervals", sa.timers.Len(), intervals)
		}
	}
	a.mu.Unlock()
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestResponderOnlyNoRekey: with establish-tunnels responder-only-no-rekey
// an IKEv1 gateway leaves every rekey to its peer, as an IKEv2 one does:
// past its soft lifetimes (IPsec SA and ISAKMP SA) it sends nothing, and
// the pair goes at the hard lifetime.
func TestResponderOnlyNoRekey(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	var mu sync.Mutex
	sent := 0
	p.drop = func([]byte) bool { mu.Lock(); sent++; mu.Unlock(); return false }
	cfg := "set security ipsec proposal ip1 lifetime-seconds 180\n" +
		"set security ike proposal p1 lifetime-seconds 180\n" +
		"set security ipsec vpn vpn1 establish-tunnels responder-only-no-rekey\n"
	a, ia := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", cfg, clk}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", cfg, clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "up", func() bool { return up(a) && up(b) })
	p.wg.Wait()
	mu.Lock()
	before := sent
	mu.Unlock()
	clk.Advance(179 * time.Second) // past every soft lifetime
	p.wg.Wait()
	time.Sleep(time.Millisecond)
	mu.Lock()
	after := sent - before
	mu.Unlock()
	na, _ := ia.counts()
	nb, _ := ib.counts()
	if after != 0 || na != 1 || nb != 1 {
		t.Fatalf("%d messages sent and %d/%d pairs made past the soft lifetime", after, na, nb)
	}
	clk.Advance(2 * time.Second)
	eventually(t, "the hard lifetime's removal", func() bool { _, r := ia.counts(); return r == 1 })
	a.Close()
	b.Close()
	p.wg.Wait()
}
