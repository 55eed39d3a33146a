package ikev2

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// TestSimultaneousIKERekey: both sides rekey the IKE SA at once, without
// additional key exchanges (each starts before it has seen the other's
// request). RFC 7296 §2.8.2: the new IKE SA with the lowest of the four
// nonces is deleted by its creator, the other takes every Child SA, and
// the old one is deleted; both sides end with one IKE SA, the same one,
// new, carrying the Child SA whose keys never changed. Even runs hold both
// requests back until both are sent, so each answers the other's first;
// odd runs also hold the answers, so both see the collision before either
// settles it.
func TestSimultaneousIKERekey(t *testing.T) {
	for run := range 12 {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		p := &pipe{engines: map[netip.Addr]*Engine{}}
		a, ia, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
		b, ib, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
		if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
			t.Fatal(err)
		}
		first := waitUp(t, a)
		waitUp(t, b)
		eventually(t, "the first Child SA", func() bool { n, _ := ib.counts(); return n == 1 })
		ca0, cb0 := ia.get()[0], ib.get()[0]

		var held [][]byte
		p.mu.Lock()
		p.hold = true
		if run%2 == 1 {
			// The answers to the two rekeys wait until both are made.
			p.drop = func(msg []byte) bool {
				m, err := wire.Parse(msg)
				if err != nil || m.Header.Exchange != wire.CREATE_CHILD_SA || !m.Header.IsResponse() || len(held) >= 2 {
					return false
				}
				held = append(held, bytes.Clone(msg))
				return true
			}
		}
		p.mu.Unlock()
		startIKERekeys(a, b)
		p.release()
		if run%2 == 1 {
			eventually(t, "both answers", func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(held) == 2 })
			p.mu.Lock()
			p.drop = nil
			answers := held
			p.mu.Unlock()
			addrA, addrB := netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500")
			for _, msg := range answers {
				m, _ := wire.Parse(msg)
				// The I flag says the original initiator (a) sent it.
				if m.Header.Flags&wire.FlagInitiator != 0 {
					b.HandleMessage(msg, addrA, addrB)
				} else {
					a.HandleMessage(msg, addrB, addrA)
				}
			}
		}
		settledBoth := func() bool {
			for _, e := range []*Engine{a, b} {
				e.mu.Lock()
				n, busy := 0, false
				for spi, sa := range e.sas {
					if spi != sa.localSPI() {
						busy = true
						continue
					}
					n++
					busy = busy || sa.pending != nil || sa.ikeRekey != nil || sa.state != stateEstablished || len(sa.children) != 1
				}
				e.mu.Unlock()
				if n != 1 || busy {
					return false
				}
			}
			sa, sb := a.SAs(), b.SAs()
			return sa[0].InitiatorSPI == sb[0].InitiatorSPI && sa[0].ResponderSPI == sb[0].ResponderSPI
		}
		// The side that yields deletes its redundant IKE SA, the other the
		// old one, at once. When the old one's DELETE overtakes the answer
		// to the yielding side's request (the pipe does not keep order),
		// that side never makes its redundant SA: the peer deletes its copy
		// collisionGrace later, retransmitting the DELETE until it gives up.
		deadline, advanced := time.Now().Add(10*time.Second), time.Duration(0)
		for i := 0; !settledBoth(); i++ {
			if time.Now().After(deadline) {
				t.Fatalf("run %d: not settled: %+v / %+v", run, a.SAs(), b.SAs())
			}
			if i > 40 && advanced < collisionGrace+time.Minute {
				clk.Advance(5 * time.Second)
				advanced += 5 * time.Second
			}
			time.Sleep(5 * time.Millisecond)
		}
		if advanced > 0 {
			t.Logf("run %d: settled after %v on the fake clock (the DELETE of the old IKE SA came first)", run, advanced)
		}
		p.wg.Wait()
		sa := a.SAs()[0]
		if sa.InitiatorSPI == first.InitiatorSPI || sa.ResponderSPI == first.ResponderSPI {
			t.Fatalf("run %d: the old IKE SA survived: %+v", run, sa)
		}
		// The Child SA is the one from the start, on both sides, with its
		// keys: an IKE SA rekey does not touch it.
		for _, in := range []*installs{ia, ib} {
			if n, removed := in.counts(); n != 1 || removed != 0 {
				t.Fatalf("run %d: installed %d, removed %d Child SAs", run, n, removed)
			}
		}
		ca, cb := live(a), live(b)
		if ca != ca0 || cb != cb0 || ca.OutboundSPI != cb.InboundSPI || !bytes.Equal(ca.Outbound.Encryption, cb.Inbound.Encryption) {
			t.Fatalf("run %d: the Child SAs changed or no longer pair", run)
		}
		// The survivor works: a Child SA rekey on it completes.
		a.mu.Lock()
		for spi, s := range a.sas {
			if spi == s.localSPI() {
				s.startRekey(s.children[0])
			}
		}
		a.mu.Unlock()
		eventually(t, "a Child SA rekey on the new IKE SA", func() bool {
			n, removed := ib.counts()
			return n == 2 && removed == 1 && settledBoth()
		})
		a.Close()
		b.Close()
		p.wg.Wait()
	}
}

// TestSimultaneousIKERekeyWithoutChildSA: an IKE SA without a Child SA
// (vpn1, on-traffic, cleared) is rekeyed by both sides at once, and b's
// rekey finishes first: a answered it while its own was out, and b then
// answers a's TEMPORARY_FAILURE (its old IKE SA is being deleted), so b's
// new IKE SA survives at a. It gets what a new IKE SA gets there as when
// it takes Child SAs: dead peer detection (a probes, always-send) and its
// lifetime (a rekeys it at its soft lifetime, lifetime-seconds 600 at a
// only). Before, a handed over only an old IKE SA with Child SAs, and
// the survivor never probed nor rekeyed.
func TestSimultaneousIKERekeyWithoutChildSA(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	conf := func(me, peer int) string { return fmt.Sprintf(twoVPNs, me, peer, "on-traffic", fmt.Sprint(peer)) }
	extraA := "set security ike proposal p1 lifetime-seconds 600\n" +
		"set security ike gateway gw dead-peer-detection always-send\n" +
		"set security ike gateway gw dead-peer-detection interval 10\n" +
		"set security ike gateway gw dead-peer-detection threshold 3\n"
	a := sideClock(t, vpnSideConfig(1, 2, conf(1, 2)+extraA), p, newVPNInstalls(), clk)
	b := sideClock(t, vpnSideConfig(2, 1, conf(2, 1)), p, newVPNInstalls(), clk)
	if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn1", true); err != nil {
		t.Fatal(err)
	}
	old := oneSAWith(t, a, "a", "vpn1")
	oneSAWith(t, b, "b", "vpn1")
	a.ClearVPN("vpn1")
	within(t, "no Child SA on either side", func() bool { return len(childrenOf(a)) == 0 && len(childrenOf(b)) == 0 })
	p.wg.Wait()

	rekeys := p.catch(func(h wire.Header) bool {
		return h.InitiatorSPI == old.InitiatorSPI && h.Exchange == wire.CREATE_CHILD_SA && !h.IsResponse() ||
			h.InitiatorSPI == old.InitiatorSPI && h.Exchange == wire.INFORMATIONAL && !h.IsResponse() && !h.FromInitiator()
	})
	startIKERekeys(a, b)
	fromA, fromB := rekeyRequests(t, p, rekeys)
	if fromA == nil || fromB == nil {
		t.Fatal("want one rekey request from each side")
	}
	deliver(p, a, fromB, addrB, addrA) // a answers, its own out: the collision held
	del := rekeys.next(t, p, 2, "b's DELETE of the old IKE SA (its rekey done)")
	deliver(p, b, fromA, addrA, addrB) // TEMPORARY_FAILURE: b's old IKE SA is being deleted
	deliver(p, a, del, addrB, addrA)
	p.mu.Lock()
	p.drop = nil
	p.mu.Unlock()
	var survivor ike.SAInfo
	within(t, "one IKE SA, b's, on both sides", func() bool {
		sa, sb := a.SAs(), b.SAs()
		if len(sa) != 1 || len(sb) != 1 || sa[0].State != "UP" || sa[0].InitiatorSPI != sb[0].InitiatorSPI || sa[0].ResponderSPI != sb[0].ResponderSPI {
			return false
		}
		survivor = sa[0]
		return true
	})
	if survivor.InitiatorSPI == old.InitiatorSPI || survivor.Initiator {
		t.Fatalf("a kept %+v, want b's new IKE SA", survivor)
	}

	probes := &requestsOn{spi: survivor.InitiatorSPI, x: wire.INFORMATIONAL}
	p.mu.Lock()
	p.tap = func(b []byte, from, to netip.AddrPort) { // a's, as the survivor's responder
		if h, err := wire.ParseHeader(b); err == nil && from.Addr() == addrA && h.InitiatorSPI == probes.spi && h.Exchange == probes.x && !h.IsResponse() {
			probes.n++
		}
	}
	p.mu.Unlock()
	runClock(p, clk, 25*time.Second)
	if n := probes.count(p); n < 2 {
		t.Fatalf("a sent %d dead peer detection probes on the surviving IKE SA in 25 s (interval 10), want 2", n)
	}
	runClock(p, clk, 600*time.Second)
	within(t, "the survivor rekeyed by a at its soft lifetime", func() bool {
		sa, sb := a.SAs(), b.SAs()
		return len(sa) == 1 && len(sb) == 1 && sa[0].State == "UP" && sa[0].Initiator && sa[0].InitiatorSPI != survivor.InitiatorSPI &&
			sa[0].InitiatorSPI == sb[0].InitiatorSPI && sa[0].ResponderSPI == sb[0].ResponderSPI
	})
}

// startIKERekeys has every IKE SA up at a and at b start a rekey at
// once, so that the two requests cross.
func startIKERekeys(a, b *Engine) {
	for _, e := range []*Engine{a, b} {
		e.mu.Lock()
		for spi, sa := range e.sas {
			if spi == sa.localSPI() && sa.state == stateEstablished {
				sa.startIKERekey()
			}
		}
		e.mu.Unlock()
	}
}

// rekeyRequests takes the first two messages c caught, the crossing rekey
// requests, and tells a's (the original initiator's) from b's.
func rekeyRequests(t *testing.T, p *pipe, c *caught) (fromA, fromB []byte) {
	t.Helper()
	for i := range 2 {
		if msg := c.next(t, p, i, "both rekey requests"); isFromInitiator(msg) {
			fromA = msg
		} else {
			fromB = msg
		}
	}
	return fromA, fromB
}

// isFromInitiator: msg was sent by its IKE SA's original initiator.
func isFromInitiator(msg []byte) bool {
	h, err := wire.ParseHeader(msg)
	return err == nil && h.FromInitiator()
}

// TestSimultaneousIKERekeyHeldCarriesNothing: both sides rekey the IKE SA
// at once and each answers the other's before its own answer comes, so a
// holds b's new IKE SA until the collision is settled. Traffic asks for
// vpn2 meanwhile, again and again (either IKE SA may be listed first):
// the want goes on the old IKE SA, never on the held one, and vpn2 comes
// up on the survivor with one Child SA on each side, whichever new IKE SA
// the nonces keep. Before, the held SA took the want, lost with it when
// it was the redundant one.
func TestSimultaneousIKERekeyHeldCarriesNothing(t *testing.T) {
	conf := func(me, peer int) string { return fmt.Sprintf(twoVPNs, me, peer, "on-traffic", fmt.Sprint(peer)) }
	for run := range 6 {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		p := &pipe{engines: map[netip.Addr]*Engine{}}
		a := sideClock(t, vpnSideConfig(1, 2, conf(1, 2)), p, newVPNInstalls(), clk)
		b := sideClock(t, vpnSideConfig(2, 1, conf(2, 1)), p, newVPNInstalls(), clk)
		if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn1", true); err != nil {
			t.Fatal(err)
		}
		old := oneSAWith(t, a, "a", "vpn1")
		oneSAWith(t, b, "b", "vpn1")
		p.wg.Wait()

		rekeys := p.catch(func(h wire.Header) bool {
			return h.InitiatorSPI == old.InitiatorSPI && h.Exchange == wire.CREATE_CHILD_SA
		})
		startIKERekeys(a, b)
		fromA, fromB := rekeyRequests(t, p, rekeys)
		if fromA == nil || fromB == nil {
			t.Fatal("want one rekey request from each side")
		}
		deliver(p, a, fromB, addrB, addrA) // a answers, its own out: b's new IKE SA held
		deliver(p, b, fromA, addrA, addrB) // and b likewise
		answers := [][]byte{rekeys.next(t, p, 2, "a's answer"), rekeys.next(t, p, 3, "b's answer")}

		for range 20 {
			if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn2", true); err != nil {
				t.Fatal(err)
			}
		}
		p.wg.Wait()
		a.mu.Lock()
		heldSeen := false
		for spi, sa := range a.sas {
			if spi != sa.localSPI() || sa.state != stateEstablished || sa.spiI == old.InitiatorSPI {
				continue
			}
			heldSeen = true
			if sa.wanted["vpn2"] {
				a.mu.Unlock()
				t.Fatalf("run %d: a put vpn2's want on b's new IKE SA, held until the collision is settled", run)
			}
		}
		a.mu.Unlock()
		if !heldSeen {
			t.Fatalf("run %d: a holds no new IKE SA of b's", run)
		}

		p.mu.Lock()
		p.drop = nil
		p.mu.Unlock()
		for _, msg := range answers {
			if isFromInitiator(msg) {
				deliver(p, b, msg, addrA, addrB)
			} else {
				deliver(p, a, msg, addrB, addrA)
			}
		}
		// The last answer may come after the peer's DELETE of the old IKE
		// SA, which settles the collision without it: the other side then
		// deletes the redundant SA itself, unanswered (collisionGrace, then
		// its retransmissions).
		runClock(p, clk, responderVPNWait+collisionGrace+40*time.Second)
		sa := oneSAWith(t, a, "a", "vpn1", "vpn2")
		sb := oneSAWith(t, b, "b", "vpn1", "vpn2")
		if sa.InitiatorSPI != sb.InitiatorSPI || sa.ResponderSPI != sb.ResponderSPI || sa.InitiatorSPI == old.InitiatorSPI {
			t.Fatalf("run %d: a kept %x/%x, b %x/%x, want the same new IKE SA", run, sa.InitiatorSPI, sa.ResponderSPI, sb.InitiatorSPI, sb.ResponderSPI)
		}
		for who, e := range map[string]*Engine{"a": a, "b": b} {
			if made, _, _, _ := e.installer.(*vpnInstalls).counts("vpn2"); made != 1 {
				t.Fatalf("run %d: %s made %d Child SAs of vpn2, want 1", run, who, made)
			}
		}
	}
}

// TestSimultaneousIKERekeyChildOnHeld: as above, but b's answer to a's
// rekey comes last, after what b sent once a's answer settled the
// collision at b: when b's new IKE SA survives, b asks for vpn2 on it
// (wanted at b during the rekey), and a makes that Child SA on the SA it
// still holds. The answer then hands the old IKE SA's Child SAs to it,
// beside vpn2's. Before, the hand-over replaced the held SA's Child SAs
// with the old one's: a lost vpn2's, which b kept.
func TestSimultaneousIKERekeyChildOnHeld(t *testing.T) {
	conf := func(me, peer int) string { return fmt.Sprintf(twoVPNs, me, peer, "on-traffic", fmt.Sprint(peer)) }
	for run := range 8 {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		p := &pipe{engines: map[netip.Addr]*Engine{}}
		a := sideClock(t, vpnSideConfig(1, 2, conf(1, 2)), p, newVPNInstalls(), clk)
		b := sideClock(t, vpnSideConfig(2, 1, conf(2, 1)), p, newVPNInstalls(), clk)
		if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn1", true); err != nil {
			t.Fatal(err)
		}
		old := oneSAWith(t, a, "a", "vpn1")
		oneSAWith(t, b, "b", "vpn1")
		p.wg.Wait()
		sent := p.catch(func(wire.Header) bool { return true })
		startIKERekeys(a, b)
		fromA, fromB := rekeyRequests(t, p, sent)
		deliver(p, a, fromB, addrB, addrA)
		deliver(p, b, fromA, addrA, addrB)
		answers := [][]byte{sent.next(t, p, 2, "an answer"), sent.next(t, p, 3, "the other answer")}
		if err := b.InitiateVPNFrom(netip.Addr{}, addrA, "vpn2", true); err != nil {
			t.Fatal(err)
		}
		p.wg.Wait()
		toB, toA := answers[0], answers[1]
		if !isFromInitiator(toB) {
			toB, toA = toA, toB
		}
		deliver(p, b, toB, addrA, addrB) // b settles; its messages to a are kept back
		p.mu.Lock()
		later := sent.msgs[4:]
		p.drop = nil
		p.mu.Unlock()
		var creates, rest [][]byte
		for _, msg := range later {
			if h, err := wire.ParseHeader(msg); err == nil && h.Exchange == wire.CREATE_CHILD_SA {
				creates = append(creates, msg)
			} else {
				rest = append(rest, msg)
			}
		}
		for _, msg := range append(append(creates, toA), rest...) {
			deliver(p, a, msg, addrB, addrA)
		}
		runClock(p, clk, responderVPNWait+collisionGrace+40*time.Second)
		if sa := oneSAWith(t, a, "a", "vpn1", "vpn2"); sa.InitiatorSPI == old.InitiatorSPI {
			t.Fatalf("run %d: a kept the old IKE SA", run)
		}
		oneSAWith(t, b, "b", "vpn1", "vpn2")
		for who, e := range map[string]*Engine{"a": a, "b": b} {
			if made, _, _, _ := e.installer.(*vpnInstalls).counts("vpn2"); made != 1 {
				t.Fatalf("run %d: %s made %d Child SAs of vpn2, want 1", run, who, made)
			}
		}
	}
}
