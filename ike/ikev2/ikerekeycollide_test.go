package ikev2

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
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
		for _, e := range []*Engine{a, b} {
			e.mu.Lock()
			for spi, sa := range e.sas {
				if spi == sa.localSPI() && sa.state == stateEstablished {
					sa.startIKERekey()
				}
			}
			e.mu.Unlock()
		}
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
