package ikev2

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/wire"
)

// TestRetransmittedInit: the responder's answer to IKE_SA_INIT is lost and
// the initiator retransmits its request (the same SPIi, the same bytes).
// RFC 7296 §2.1 and §2.4: the responder recognises the retransmission and
// resends the same answer; it makes no second half-open SA. Also after a
// COOKIE exchange (the request that carries the cookie is the one
// retransmitted) and after INVALID_KE_PAYLOAD (the retry in the group the
// responder asked for is).
func TestRetransmittedInit(t *testing.T) {
	const group14First = "set security ike proposal p2 authentication-method pre-shared-keys\n" +
		"set security ike proposal p2 dh-group group14\n" +
		"set security ike proposal p2 authentication-algorithm sha-256\n" +
		"set security ike proposal p2 encryption-algorithm aes-256-gcm\n" +
		"set security ike policy pol proposals [ p1 p2 ]\n"
	for _, tc := range []struct {
		name           string
		groupB, extraA string
		cookie         bool
		wantNotify     wire.NotifyType // the stateless answer before the one lost
	}{
		{name: "plain", groupB: "group19"},
		{name: "after-cookie", groupB: "group19", cookie: true, wantNotify: wire.COOKIE},
		{name: "after-invalid-ke", groupB: "group14", extraA: group14First, wantNotify: wire.INVALID_KE_PAYLOAD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm",
				extra: tc.extraA, clock: clk}, p)
			b, _, _ := newSide(t, side{me: 2, peer: 1, group: tc.groupB, ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
			if tc.cookie {
				b.mu.Lock()
				b.halfOpen = cookieThreshold // as if flooded
				b.mu.Unlock()
			}
			var requests, answers [][]byte // IKE_SA_INIT requests, and the answers that make an SA
			var notifies []wire.NotifyType
			p.mu.Lock()
			p.drop = func(msg []byte) bool {
				m, err := wire.Parse(msg)
				if err != nil || m.Header.Exchange != wire.IKE_SA_INIT {
					return false
				}
				if !m.Header.IsResponse() {
					requests = append(requests, bytes.Clone(msg))
					return false
				}
				if _, ok := wire.Find[*wire.SA](m.Payloads); !ok {
					for _, pl := range m.Payloads {
						if n, ok := pl.(*wire.Notify); ok {
							notifies = append(notifies, n.Type)
						}
					}
					return false
				}
				answers = append(answers, bytes.Clone(msg))
				return len(answers) == 1 // the first is lost
			}
			p.mu.Unlock()
			locked := func(f func()) { p.mu.Lock(); f(); p.mu.Unlock() }
			if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the first answer (lost)", func() bool {
				n := 0
				locked(func() { n = len(answers) })
				return n == 1
			})
			p.wg.Wait()
			if n := len(b.SAs()); n != 1 {
				t.Fatalf("responder holds %d SAs after one IKE_SA_INIT: %+v", n, b.SAs())
			}
			// The initiator retransmits after 1 s.
			for i := 0; i < 20 && len(upSAs(a)) == 0; i++ {
				clk.Advance(time.Second)
				p.wg.Wait()
				time.Sleep(time.Millisecond)
			}
			waitUp(t, a)
			waitUp(t, b)
			p.wg.Wait()
			p.mu.Lock()
			p.drop = nil
			p.mu.Unlock()
			if len(answers) != 2 || !bytes.Equal(answers[0], answers[1]) {
				t.Fatalf("%d answers that make an SA; the retransmission's %s the first's", len(answers),
					map[bool]string{true: "is", false: "is not"}[len(answers) == 2 && bytes.Equal(answers[0], answers[1])])
			}
			last := requests[len(requests)-1]
			if !bytes.Equal(requests[len(requests)-2], last) {
				t.Fatal("the initiator's retransmission differs from its request")
			}
			if tc.wantNotify != 0 && (len(notifies) != 1 || notifies[0] != tc.wantNotify) {
				t.Fatalf("stateless answers %v, want one %v", notifies, tc.wantNotify)
			}
			sa, sb := a.SAs(), b.SAs()
			if len(sa) != 1 || len(sb) != 1 || sa[0].InitiatorSPI != sb[0].InitiatorSPI || sa[0].ResponderSPI != sb[0].ResponderSPI {
				t.Fatalf("IKE SAs after the retransmission: %+v / %+v", sa, sb)
			}
			b.mu.Lock()
			half := b.halfOpen
			b.mu.Unlock()
			if want := map[bool]int{true: cookieThreshold, false: 0}[tc.cookie]; half != want {
				t.Fatalf("responder counts %d half-open SAs, want %d", half, want)
			}
			a.Close()
			b.Close()
		})
	}
}
