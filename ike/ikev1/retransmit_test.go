package ikev1

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
)

// TestMessage1Retransmitted: the responder's message 2 is lost once; the
// initiator's retransmission of message 1 (still without the responder's
// cookie) is answered with the same message 2 and phase 1 completes, in
// Main Mode and Aggressive Mode. strongSwan re-authenticating on port 4500
// drops a message 2 that comes before its new ISAKMP SA is registered and
// then depends on this.
func TestMessage1Retransmitted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		extra    string
		exchange v1.ExchangeType
	}{
		{"main-mode", "", v1.MainMode},
		{"aggressive-mode", "set security ike policy pol mode aggressive\n", v1.AggressiveMode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			var dropped, answers atomic.Int32
			var first []byte
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			p.drop = func(b []byte) bool {
				// Message 2: the exchange's first message with both cookies.
				if len(b) < 28 || v1.ExchangeType(b[18]) != tc.exchange || binary.BigEndian.Uint64(b[8:16]) == 0 ||
					binary.BigEndian.Uint32(b[20:24]) != 0 || v1.PayloadType(b[16]) != v1.PayloadSA {
					return false
				}
				answers.Add(1)
				if first == nil {
					first = append([]byte(nil), b...)
					dropped.Add(1)
					return true
				}
				if string(b) != string(first) {
					t.Errorf("the retransmission was answered with another message 2")
				}
				return false
			}
			s := side{1, 2, "group14", "sha-256", "aes-256-cbc", "k", "aes-256-cbc", "hmac-sha-256-128", tc.extra, clk}
			a, _ := newSide(t, s, p)
			s.me, s.peer = 2, 1
			b, _ := newSide(t, s, p)
			if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 10 && !(up(a) && up(b)); i++ {
				p.wg.Wait()
				clk.Advance(ike.FirstRetransmit)
				p.wg.Wait()
				time.Sleep(2 * time.Millisecond)
			}
			p.wg.Wait()
			if !up(a) || !up(b) {
				t.Fatalf("phase 1 did not complete after message 2 was lost once (%d message 2s sent): %+v / %+v",
					answers.Load(), a.SAs(), a.Failures())
			}
			if dropped.Load() != 1 || answers.Load() != 2 {
				t.Fatalf("%d message 2s dropped, %d sent; want 1 and 2", dropped.Load(), answers.Load())
			}
			if len(b.SAs()) != 1 {
				t.Fatalf("the responder holds %d ISAKMP SAs, want 1: %+v", len(b.SAs()), b.SAs())
			}
			a.Close()
			b.Close()
			p.wg.Wait()
		})
	}
}
