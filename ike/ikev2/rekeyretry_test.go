package ikev2

import (
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/wire"
)

// TestChildRekeyRetriedAfterTemporaryFailure: a Child SA rekey of ours that
// the peer answers TEMPORARY_FAILURE (strongSwan does while it rekeys the
// IKE SA) is tried again one to two seconds later, and that rekey replaces
// the SA; before, nothing was sent until the SA's hard lifetime removed it.
// Other refusals are not retried.
func TestChildRekeyRetriedAfterTemporaryFailure(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ipsec proposal ip1 lifetime-kilobytes 64\n"
	a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", life, clk, nil}, p)
	b, ib, _ := newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", life, clk, nil}, p)
	defer p.wg.Wait()
	defer b.Close()
	defer a.Close()
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	eventually(t, "the first Child SA", func() bool { n, _ := ib.counts(); return n == 1 })
	first := ia.get()[0]

	// refuse answers a's rekey of first as the peer would, with t.
	refuse := func(t wire.NotifyType) {
		a.mu.Lock()
		defer a.mu.Unlock()
		for spi, sa := range a.sas {
			if spi == sa.localSPI() && sa.hasChild(first) {
				sa.rekey = &childRekey{old: first, vpn: sa.peer.vpnOf(first)}
				sa.handleRekeyResponse([]wire.Payload{&wire.Notify{Type: t}})
			}
		}
	}
	refuse(wire.NO_PROPOSAL_CHOSEN)
	clk.Advance(3 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if n, _ := ia.counts(); n != 1 {
		t.Fatalf("a refusal other than TEMPORARY_FAILURE was retried: %d Child SAs installed", n)
	}
	refuse(wire.TEMPORARY_FAILURE)
	clk.Advance(999 * time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	if n, _ := ia.counts(); n != 1 {
		t.Fatalf("retried before a second: %d Child SAs installed", n)
	}
	clk.Advance(time.Second + time.Millisecond)
	eventually(t, "the retried rekey", func() bool {
		ni, nr := ia.counts()
		mi, mr := ib.counts()
		return ni == 2 && nr == 1 && mi == 2 && mr == 1
	})
}
