package ikev2

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/iketest"
)

func (i *installs) counts() (installed, removed int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return len(i.children), i.removed
}

// eventually polls cond (real time; the exchanges run on goroutines).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestChildRekeyAtSoftLifetime: with lifetime-seconds 180 the initiator
// rekeys the Child SA before 180 s (make-before-break: new SA installed,
// then the old one deleted on both sides), and the new Child SA's keys
// pair up like the first one's.
func TestChildRekeyAtSoftLifetime(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ipsec proposal ip1 lifetime-seconds 180\n"
	a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", life, clk, nil}, p)
	b, ib, _ := newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", life, clk, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	clk.Advance(162 * time.Second) // past the initiator's soft lifetime (153-162 s), not the responder's
	eventually(t, "the rekey", func() bool {
		ni, nr := ia.counts()
		mi, mr := ib.counts()
		return ni == 2 && nr == 1 && mi == 2 && mr == 1
	})
	ca, cb := ia.get()[1], ib.get()[1]
	if ca.OutboundSPI != cb.InboundSPI || cb.OutboundSPI != ca.InboundSPI || string(ca.Outbound.Encryption) != string(cb.Inbound.Encryption) {
		t.Fatalf("rekeyed Child SAs do not pair: %+v %+v", ca, cb)
	}
	if string(ca.Outbound.Encryption) == string(ia.get()[0].Outbound.Encryption) {
		t.Fatal("the rekeyed Child SA reuses the old keys")
	}
	for _, e := range []*Engine{a, b} {
		if sas := e.SAs(); len(sas) != 1 || sas[0].Children != 1 {
			t.Fatalf("after the rekey: %+v", sas)
		}
	}
	a.Close()
	p.wg.Wait()
	b.Close()
}

// TestDeadPeerDetection: with dead-peer-detection interval 10 threshold 3,
// a peer that stops answering is declared dead after three unanswered
// probes, its Child SA removed; with establish-tunnels immediately the
// tunnel is negotiated again once the peer is back.
func TestDeadPeerDetection(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	dpd := "set security ike gateway gw dead-peer-detection always-send\n" +
		"set security ike gateway gw dead-peer-detection interval 10\n" +
		"set security ike gateway gw dead-peer-detection threshold 3\n" +
		"set security ipsec vpn vpn1 establish-tunnels immediately\n"
	a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", dpd, clk, nil}, p)
	_, _, _ = newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", "", clk, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	// An answered probe keeps the SA.
	clk.Advance(11 * time.Second)
	p.wg.Wait()
	if sas := a.SAs(); len(sas) != 1 || sas[0].State != "UP" {
		t.Fatalf("SA lost while the peer answers: %+v", sas)
	}
	// The peer goes silent.
	p.mu.Lock()
	p.drop = func([]byte) bool { return true }
	p.mu.Unlock()
	for i := 0; i < 6; i++ {
		clk.Advance(10 * time.Second)
		p.wg.Wait()
	}
	if _, removed := ia.counts(); removed != 1 {
		t.Fatalf("Child SA not removed after the peer died (removed %d): %+v", removed, a.SAs())
	}
	a.mu.Lock()
	reason := a.failures.List()[len(a.failures.List())-1].Failure.Message
	a.mu.Unlock()
	if reason != "peer dead: no answer to 3 dead peer detection probes" {
		t.Fatalf("reason %q", reason)
	}
	// The peer returns; a re-initiation brings the tunnel back.
	p.mu.Lock()
	p.drop = nil
	p.mu.Unlock()
	for i := 0; i < 20 && len(upSAs(a)) == 0; i++ {
		clk.Advance(4 * time.Second)
		p.wg.Wait()
		time.Sleep(5 * time.Millisecond)
	}
	if len(upSAs(a)) == 0 {
		t.Fatalf("tunnel not re-established: %+v", a.SAs())
	}
	if installed, _ := ia.counts(); installed < 2 {
		t.Fatalf("no new Child SA after re-initiation (%d installed)", installed)
	}
}

func upSAs(e *Engine) []ike.SAInfo {
	var out []ike.SAInfo
	for _, s := range e.SAs() {
		if s.State == "UP" && s.Children == 1 {
			out = append(out, s)
		}
	}
	return out
}

// TestIKERekeyAtSoftLifetime: with an IKE lifetime-seconds of 180 the
// initiator rekeys the IKE SA; both sides end with one IKE SA under new
// SPIs that still carries the Child SA, and the old IKE SA is deleted
// without taking the Child SA with it.
func TestIKERekeyAtSoftLifetime(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ike proposal p1 lifetime-seconds 180\n"
	a, ia, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: life, clock: clk}, p)
	b, ib, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: life, clock: clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	first := waitUp(t, a)
	waitUp(t, b)
	clk.Advance(162 * time.Second)
	eventually(t, "the IKE rekey", func() bool {
		sas, sbs := a.SAs(), b.SAs()
		return len(sas) == 1 && len(sbs) == 1 && sas[0].InitiatorSPI != first.InitiatorSPI &&
			sas[0].InitiatorSPI == sbs[0].InitiatorSPI && sas[0].ResponderSPI == sbs[0].ResponderSPI
	})
	p.wg.Wait()
	for _, e := range []*Engine{a, b} {
		if sas := e.SAs(); sas[0].Children != 1 || sas[0].State != "UP" {
			t.Fatalf("after the IKE rekey: %+v", sas)
		}
	}
	for _, i := range []*installs{ia, ib} {
		if installed, removed := i.counts(); installed != 1 || removed != 0 {
			t.Fatalf("the IKE rekey touched the Child SA: installed %d removed %d", installed, removed)
		}
	}
	// The new IKE SA works: a DELETE of it is answered and removes all.
	a.Close()
	p.wg.Wait()
	b.Close()
}

// TestSimultaneousChildRekey: both sides rekey the same Child SA at once
// (their requests cross; one of them is the original responder, whose
// requests the original initiator must take). RFC 7296 §2.8.1: each answers the other, then
// the new SA made with the lowest of the four nonces is deleted by its
// creator and the replaced SA by the other; one Child SA pair is left, the
// same on both sides, and it is neither the old one nor made of old keys.
func TestSimultaneousChildRekey(t *testing.T) {
	for run := range 8 { // the nonces decide who yields: run it both ways
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		p := &pipe{engines: map[netip.Addr]*Engine{}}
		a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", "", clk, nil}, p)
		b, ib, _ := newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", "", clk, nil}, p)
		a.Initiate(netip.MustParseAddr("192.0.2.2"))
		waitUp(t, a)
		waitUp(t, b)
		eventually(t, "the first Child SA", func() bool { n, _ := ib.counts(); return n == 1 })
		first := ia.get()[0]

		p.mu.Lock()
		p.hold = true
		p.mu.Unlock()
		for _, e := range []*Engine{a, b} {
			e.mu.Lock()
			for spi, sa := range e.sas {
				if spi == sa.localSPI() && len(sa.children) == 1 {
					sa.startRekey(sa.children[0])
				}
			}
			e.mu.Unlock()
		}
		p.release()

		eventually(t, "one Child SA pair after the collision", func() bool {
			for _, e := range []*Engine{a, b} {
				sas := e.SAs()
				if len(sas) != 1 || sas[0].Children != 1 {
					return false
				}
				e.mu.Lock()
				pending := false
				for _, sa := range e.sas {
					pending = pending || sa.pending != nil
				}
				e.mu.Unlock()
				if pending {
					return false
				}
			}
			return true
		})
		ca, cb := live(a), live(b)
		if ca.OutboundSPI != cb.InboundSPI || cb.OutboundSPI != ca.InboundSPI {
			t.Fatalf("run %d: the sides kept different Child SAs: %+v / %+v", run, ca, cb)
		}
		if ca.InboundSPI == first.InboundSPI || string(ca.Outbound.Encryption) == string(first.Outbound.Encryption) {
			t.Fatalf("run %d: the old Child SA survived", run)
		}
		// Three Child SAs were made when both requests met an SA to rekey;
		// two when one side's rekey finished first and the other's then met
		// an SA being deleted (TEMPORARY_FAILURE) or gone
		// (CHILD_SA_NOT_FOUND). Either way one is left.
		for _, in := range []*installs{ia, ib} {
			if n, removed := in.counts(); n < 2 || n > 3 || removed != n-1 {
				t.Fatalf("run %d: installed %d and removed %d Child SAs", run, n, removed)
			}
		}
		a.Close()
		b.Close()
		p.wg.Wait()
	}
}

// live is the engine's one Child SA.
func live(e *Engine) *ike.ChildSA {
	e.mu.Lock()
	defer e.mu.Unlock()
	for spi, sa := range e.sas {
		if spi == sa.localSPI() && len(sa.children) == 1 {
			return sa.children[0]
		}
	}
	return nil
}

// TestDPDModes: with the data plane's packet counts, optimized probes only
// a peer we send to and hear nothing from, probe-idle-tunnel also an idle
// one; a dead peer is found by the probes either way.
func TestDPDModes(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		sending   bool // ESP keeps going out while the peer is silent
		wantProbe bool
	}{
		{"optimized", false, false},
		{"optimized", true, true},
		{"probe-idle-tunnel", false, true},
		{"probe-idle-tunnel", true, true},
	} {
		t.Run(fmt.Sprintf("%s-sending=%v", tc.mode, tc.sending), func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			dpd := "set security ike gateway gw dead-peer-detection " + tc.mode + "\n" +
				"set security ike gateway gw dead-peer-detection interval 10\n" +
				"set security ike gateway gw dead-peer-detection threshold 3\n"
			tr := &traffic{}
			a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", dpd, clk, tr}, p)
			_, _, _ = newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", "", clk, nil}, p)
			a.Initiate(netip.MustParseAddr("192.0.2.2"))
			waitUp(t, a)
			p.wg.Wait()
			p.mu.Lock()
			p.drop = func([]byte) bool { return true } // the peer is gone
			sentBefore := p.sent
			p.mu.Unlock()
			for range 8 {
				if tc.sending {
					tr.out.Add(10)
				}
				clk.Advance(10 * time.Second)
				p.wg.Wait()
			}
			p.mu.Lock()
			probes := p.sent - sentBefore
			p.mu.Unlock()
			_, removed := ia.counts()
			if tc.wantProbe && (probes == 0 || removed != 1) {
				t.Fatalf("%d probes sent, %d Child SAs removed: the dead peer went unnoticed", probes, removed)
			}
			if !tc.wantProbe && (probes != 0 || removed != 0) {
				t.Fatalf("%d probes sent, %d Child SAs removed on an idle tunnel in optimized mode", probes, removed)
			}
		})
	}
}

// TestTimersStayFew: an IKE SA keeps the timers still to fire, not every
// one it ever armed (clock.Group): DPD arms one per interval, and a day's
// IKE SA held thousands.
func TestTimersStayFew(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	dpd := "set security ike gateway gw dead-peer-detection probe-idle-tunnel\n" +
		"set security ike gateway gw dead-peer-detection interval 10\n"
	a, _, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", dpd, clk, &traffic{}}, p)
	_, _, _ = newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", "", clk, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	p.wg.Wait()
	sentBefore := p.sent
	const intervals = 300
	for range intervals {
		clk.Advance(10 * time.Second)
		p.wg.Wait()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if p.sent-sentBefore < intervals {
		t.Fatalf("%d messages in %d DPD intervals: the probes did not run", p.sent-sentBefore, intervals)
	}
	for spi, sa := range a.sas {
		if spi == sa.localSPI() && sa.timers.Len() > 16 {
			t.Fatalf("the IKE SA holds %d timers after %d DPD intervals; want the few still to fire", sa.timers.Len(), intervals)
		}
	}
}

// TestChildRekeyAtLifetimeKilobytes: the data plane's report that a Child
// SA carried its soft lifetime in bytes starts a rekey; the hard one
// removes it.
func TestChildRekeyAtLifetimeKilobytes(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ipsec proposal ip1 lifetime-kilobytes 64\n"
	a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", life, clk, nil}, p)
	b, ib, _ := newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", life, clk, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	eventually(t, "the first Child SA", func() bool { n, _ := ib.counts(); return n == 1 })
	first := ia.get()[0]
	if first.HardBytes != 64*1024 || first.SoftBytes < 64*1024*85/100 || first.SoftBytes >= first.HardBytes {
		t.Fatalf("byte lifetimes soft %d hard %d for lifetime-kilobytes 64", first.SoftBytes, first.HardBytes)
	}
	a.ChildBytesReached(first, false)
	eventually(t, "the rekey", func() bool {
		ni, nr := ia.counts()
		mi, mr := ib.counts()
		return ni == 2 && nr == 1 && mi == 2 && mr == 1
	})
	second := ia.get()[1]
	a.ChildBytesReached(second, true)
	eventually(t, "the removal", func() bool { _, nr := ia.counts(); return nr == 2 })
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestResponderOnlyNoRekey: with establish-tunnels responder-only-no-rekey
// a gateway leaves the rekey to its peer: past its own soft lifetime it
// sends nothing, and the Child SA goes at the hard lifetime.
func TestResponderOnlyNoRekey(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ipsec proposal ip1 lifetime-seconds 180\n"
	a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", life + "set security ipsec vpn vpn1 establish-tunnels responder-only-no-rekey\n", clk, nil}, p)
	b, _, _ := newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", life + "set security ipsec vpn vpn1 establish-tunnels responder-only-no-rekey\n", clk, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	p.wg.Wait()
	p.mu.Lock()
	before := p.sent
	p.mu.Unlock()
	clk.Advance(179 * time.Second) // past every soft lifetime
	p.wg.Wait()
	p.mu.Lock()
	sent := p.sent - before
	p.mu.Unlock()
	if n, _ := ia.counts(); sent != 0 || n != 1 {
		t.Fatalf("%d messages sent and %d Child SAs made past the soft lifetime", sent, n)
	}
	clk.Advance(2 * time.Second)
	eventually(t, "the hard lifetime's removal", func() bool { _, r := ia.counts(); return r == 1 })
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestResponderOnlyNoRekeyBytes: the soft lifetime in bytes likewise
// starts no rekey under responder-only-no-rekey.
func TestResponderOnlyNoRekeyBytes(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", "set security ipsec vpn vpn1 establish-tunnels responder-only-no-rekey\n", clk, nil}, p)
	b, _, _ := newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", "", clk, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	p.wg.Wait()
	p.mu.Lock()
	before := p.sent
	p.mu.Unlock()
	a.ChildBytesReached(ia.get()[0], false)
	p.wg.Wait()
	time.Sleep(20 * time.Millisecond)
	p.wg.Wait()
	p.mu.Lock()
	sent := p.sent - before
	p.mu.Unlock()
	if n, _ := ia.counts(); sent != 0 || n != 1 {
		t.Fatalf("%d messages sent and %d Child SAs made at the soft byte lifetime", sent, n)
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestBackupGateway: with address [ primary backup ] and the primary
// silent, the negotiation gives up and the next one goes to the backup.
func TestBackupGateway(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	kept := "set security ike gateway gw address [ 192.0.2.2 192.0.2.3 ]\nset security ipsec vpn vpn1 establish-tunnels immediately\n"
	a, _, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", kept, clk, nil}, p)
	b, _, _ := newSide(t, side{3, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", "", clk, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	for i := 0; i < 20 && len(upSAs(a)) == 0; i++ {
		clk.Advance(4 * time.Second)
		p.wg.Wait()
		time.Sleep(2 * time.Millisecond)
	}
	sas := upSAs(a)
	if len(sas) != 1 || sas[0].Remote != netip.MustParseAddr("192.0.2.3") || len(upSAs(b)) != 1 {
		t.Fatalf("no tunnel to the backup 192.0.2.3: %+v, failures %+v", a.SAs(), a.Failures())
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestChildLifetimesAreTheScheduledOnes: ChildLifetimes reports the
// moments the Child SA's timers are armed for: the initiator rekeys at its
// RekeyAt (not a moment before), within 85-90 % of lifetime-seconds, the
// hard lifetime at 100 %; the Child SA the rekey makes counts from its own
// birth, and the old one is no longer listed once removed. An IKE SA
// rekey in between keeps the moments.
func TestChildLifetimesAreTheScheduledOnes(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ipsec proposal ip1 lifetime-seconds 180\n"
	a, ia, _ := newSide(t, side{1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm", life, clk, nil}, p)
	b, ib, _ := newSide(t, side{2, 1, "group19", "aes-256-gcm", "k", "aes-256-gcm", life, clk, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	eventually(t, "both Child SAs", func() bool { n, _ := ib.counts(); return len(b.ChildLifetimes()) == 1 && n == 1 })

	within := func(who string, got ike.ScheduledChild, c *ike.ChildSA, born time.Time, lo, hi float64) {
		t.Helper()
		if err := iketest.CheckScheduled(got, c, "vpn1", born, 180*time.Second, lo, hi); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
	}
	la, lb := a.ChildLifetimes(), b.ChildLifetimes()
	if len(la) != 1 || len(lb) != 1 {
		t.Fatalf("lifetimes: initiator %+v, responder %+v", la, lb)
	}
	within("initiator", la[0], ia.get()[0], start, 0.85, 0.90)
	within("responder", lb[0], ib.get()[0], start, 0.90, 0.95)

	// An IKE SA rekey hands the Child SA over and re-arms its timers: for
	// the same moments, not a rekey drawn again.
	first := a.SAs()[0].InitiatorSPI
	if a.RekeyIKE(func(ike.SAInfo) bool { return true }) != 1 {
		t.Fatal("no IKE SA to rekey")
	}
	eventually(t, "the IKE SA rekey", func() bool {
		sas := a.SAs()
		return len(sas) == 1 && sas[0].InitiatorSPI != first && sas[0].Children == 1
	})
	if l := a.ChildLifetimes(); len(l) != 1 || l[0] != la[0] {
		t.Fatalf("after the IKE SA rekey, lifetimes %+v, want %+v", l, la[0])
	}

	rekeyAt := la[0].RekeyAt
	clk.Advance(rekeyAt.Sub(start) - time.Millisecond)
	time.Sleep(50 * time.Millisecond) // an exchange started would complete
	if n, _ := ia.counts(); n != 1 {
		t.Fatalf("rekeyed before the reported moment: %d Child SAs installed", n)
	}
	clk.Advance(time.Millisecond)
	eventually(t, "the rekey at the reported moment", func() bool {
		ni, nr := ia.counts()
		mi, mr := ib.counts()
		return ni == 2 && nr == 1 && mi == 2 && mr == 1
	})
	la, lb = a.ChildLifetimes(), b.ChildLifetimes()
	if len(la) != 1 || len(lb) != 1 {
		t.Fatalf("after the rekey, lifetimes: initiator %+v, responder %+v", la, lb)
	}
	within("initiator's new Child SA", la[0], ia.get()[1], rekeyAt, 0.85, 0.90)
	within("responder's new Child SA", lb[0], ib.get()[1], rekeyAt, 0.90, 0.95)
	a.Close()
	p.wg.Wait()
	b.Close()
}
