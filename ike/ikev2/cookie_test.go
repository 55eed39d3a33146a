package ikev2

import (
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/wire"
)

// TestCookieUnderLoad: past the half-open threshold the responder answers
// IKE_SA_INIT with a COOKIE and keeps no state; the initiator echoes it and
// the SA comes up.
func TestCookieUnderLoad(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	b, _, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	b.mu.Lock()
	b.halfOpen = cookieThreshold // as if flooded
	b.mu.Unlock()
	var cookies int
	p.mu.Lock()
	p.drop = func(msg []byte) bool {
		if m, err := wire.Parse(msg); err == nil && m.Header.IsResponse() {
			if _, ok := wire.FindNotify(m.Payloads, wire.COOKIE); ok {
				cookies++
			}
		}
		return false
	}
	p.mu.Unlock()
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	p.wg.Wait()
	if cookies != 1 {
		t.Fatalf("%d COOKIE answers, want 1", cookies)
	}
}

// TestHalfOpenExpires: a responder SA whose IKE_AUTH never arrives is
// removed after halfOpenTimeout and stops counting as half-open.
func TestHalfOpenExpires(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
	b, _, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
	p.mu.Lock()
	p.drop = func(msg []byte) bool {
		m, err := wire.Parse(msg)
		return err == nil && m.Header.Exchange == wire.IKE_AUTH
	}
	p.mu.Unlock()
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the half-open SA", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.halfOpen == 1 })
	// The clock moves in one-second steps: the responder may set its
	// expiry timer a moment after it counts the SA half-open, and a timer
	// set after a single Advance would never fire.
	expired := func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.halfOpen == 0 && len(b.sas) == 0
	}
	for waited := time.Duration(0); !expired(); waited += time.Second {
		if waited > 2*halfOpenTimeout {
			b.mu.Lock()
			defer b.mu.Unlock()
			t.Fatalf("half-open SA not expired after %v: %d half-open, %d SAs", waited, b.halfOpen, len(b.sas))
		}
		clk.Advance(time.Second)
		time.Sleep(time.Millisecond)
	}
}
