package ikev2

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// followupConf has ML-KEM after x25519 in the IKE proposal and in
// perfect-forward-secrecy: every rekey runs IKE_FOLLOWUP_KE.
const followupConf = "set security ike proposal p1 additional-key-exchange ke1 mlkem768\n" +
	"set security ipsec policy ipol perfect-forward-secrecy keys group31\n" +
	"set security ipsec policy ipol perfect-forward-secrecy additional-key-exchange ke1 mlkem512\n"

func followupPair(t *testing.T, clk clock.Clock) (a, b *Engine, ia, ib *installs, p *pipe) {
	t.Helper()
	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia, _ = newSide(t, side{me: 1, peer: 2, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: followupConf, clock: clk}, p)
	b, ib, _ = newSide(t, side{me: 2, peer: 1, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: followupConf, clock: clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	eventually(t, "the first Child SA", func() bool { n, _ := ib.counts(); return n == 1 })
	return a, b, ia, ib, p
}

// settled reports whether the engine has one IKE SA, up, with one Child
// SA, and nothing in flight.
func settled(e *Engine) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for spi, sa := range e.sas {
		if spi != sa.localSPI() {
			return false // an SPI reserved for a rekey
		}
		n++
		if sa.state != stateEstablished || len(sa.children) != 1 || sa.pending != nil || sa.followup != nil ||
			sa.peerFollowup != nil || sa.rekey != nil || sa.ikeRekey != nil {
			return false
		}
	}
	return n == 1
}

// TestFollowupRekeyCollisions: both sides rekey the same SA at once with
// additional key exchanges (their CREATE_CHILD_SA requests cross). RFC
// 9370 §2.2.4 with RFC 7296 §2.8.1/§2.8.2: the exchange with the lowest
// nonce stops before its IKE_FOLLOWUP_KE (or, when one side's answer came
// before the other's request, that request gets TEMPORARY_FAILURE), so
// exactly one new SA is made, the same on both sides, and no state is
// left waiting.
func TestFollowupRekeyCollisions(t *testing.T) {
	for _, ikeSA := range []bool{true, false} {
		name := map[bool]string{true: "ike-sa", false: "child-sa"}[ikeSA]
		t.Run(name, func(t *testing.T) {
			for run := range 8 { // the nonces decide who yields: both ways
				clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
				a, b, ia, ib, p := followupPair(t, clk)
				first := a.SAs()[0]
				firstChild := ia.get()[0]
				// Even runs hold each side's answer back until both have
				// answered (both then see the collision and the nonces
				// decide); odd runs let the exchanges race (one side may
				// start its follow-ups first and refuse the other's).
				var answers [][]byte
				p.mu.Lock()
				p.hold = true
				if run%2 == 0 {
					p.drop = func(msg []byte) bool {
						m, err := wire.Parse(msg)
						if err != nil || m.Header.Exchange != wire.CREATE_CHILD_SA || !m.Header.IsResponse() {
							return false
						}
						answers = append(answers, append([]byte(nil), msg...))
						return true
					}
				}
				p.mu.Unlock()
				for _, e := range []*Engine{a, b} {
					if ikeSA {
						e.RekeyIKE(func(ike.SAInfo) bool { return true })
					} else {
						e.RekeyChildren(func(string) bool { return true })
					}
				}
				p.release()
				if run%2 == 0 {
					eventually(t, "both answers", func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(answers) == 2 })
					p.wg.Wait()
					p.mu.Lock()
					p.drop = nil
					held := answers
					p.mu.Unlock()
					for _, msg := range held {
						// a initiated the IKE SA: its messages carry the I flag.
						from, to, e := netip.MustParseAddrPort("192.0.2.2:500"), netip.MustParseAddrPort("192.0.2.1:500"), a
						if m, _ := wire.Parse(msg); m.Header.Flags&wire.FlagInitiator != 0 {
							from, to, e = to, from, b
						}
						e.HandleMessage(msg, from, to)
					}
				}
				eventually(t, "one SA of each after the collision", func() bool { return settled(a) && settled(b) })
				sa, sb := a.SAs()[0], b.SAs()[0]
				ca, cb := live(a), live(b)
				if sa.InitiatorSPI != sb.InitiatorSPI || sa.ResponderSPI != sb.ResponderSPI ||
					ca.OutboundSPI != cb.InboundSPI || cb.OutboundSPI != ca.InboundSPI {
					t.Fatalf("run %d: the sides kept different SAs: %+v / %+v, %+v / %+v", run, sa, sb, ca, cb)
				}
				if !slices.Equal(sa.AdditionalKE, first.AdditionalKE) || !slices.Equal(sb.AdditionalKE, first.AdditionalKE) {
					t.Fatalf("run %d: additional key exchanges %v / %v, first %v", run, sa.AdditionalKE, sb.AdditionalKE, first.AdditionalKE)
				}
				if ikeSA {
					if sa.InitiatorSPI == first.InitiatorSPI || ca != firstChild {
						t.Fatalf("run %d: the IKE SA was not rekeyed (%+v) or its Child SA changed", run, sa)
					}
				} else if ca.InboundSPI == firstChild.InboundSPI {
					t.Fatalf("run %d: the old Child SA survived", run)
				}
				// One new Child SA at most: the loser's never existed.
				want := map[bool]int{true: 1, false: 2}[ikeSA]
				for _, in := range []*installs{ia, ib} {
					if n, removed := in.counts(); n != want || removed != n-1 {
						t.Fatalf("run %d: installed %d and removed %d Child SAs, want %d installed", run, n, removed, want)
					}
				}
				a.Close()
				b.Close()
				p.wg.Wait()
			}
		})
	}
}

// TestAbandonedFollowupExpires: an initiator that stops after the
// CREATE_CHILD_SA (its IKE_FOLLOWUP_KE never arrives) leaves the responder
// holding the exchange; the responder keeps it while the initiator could
// still be retransmitting and drops it after followupTimeout. A late
// IKE_FOLLOWUP_KE then makes nothing.
func TestAbandonedFollowupExpires(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b, _, ib, p := followupPair(t, clk)
	defer func() { a.Close(); b.Close(); p.wg.Wait() }()
	var late []byte
	p.mu.Lock()
	p.drop = func(msg []byte) bool {
		m, err := wire.Parse(msg)
		if err != nil || m.Header.Exchange != wire.IKE_FOLLOWUP_KE || m.Header.IsResponse() {
			return false
		}
		if late == nil {
			late = append([]byte(nil), msg...)
		}
		return true
	}
	p.mu.Unlock()
	if n := a.RekeyChildren(func(string) bool { return true }); n != 1 {
		t.Fatalf("RekeyChildren started %d rekeys", n)
	}
	waiting := func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, sa := range b.sas {
			if sa.peerFollowup != nil {
				return true
			}
		}
		return false
	}
	eventually(t, "the responder waiting for IKE_FOLLOWUP_KE", waiting)
	p.wg.Wait()
	// One-second steps, each one's messages delivered before the next
	// (the responder's timer is set when it answers, after its clock read).
	var waited time.Duration
	for ; waiting(); waited += time.Second {
		if waited > 2*followupTimeout {
			t.Fatalf("the responder still waits after %v", waited)
		}
		clk.Advance(time.Second)
		p.wg.Wait()
	}
	var retransmitting time.Duration // the initiator's sends of one request
	for n := 1; n <= ike.MaxSends; n++ {
		retransmitting += ike.Backoff(n)
	}
	if waited < retransmitting {
		t.Fatalf("the responder dropped the exchange after %v, while the initiator may retransmit for %v", waited, retransmitting)
	}
	p.mu.Lock()
	msg := late
	p.drop = nil
	p.mu.Unlock()
	if msg == nil {
		t.Fatal("no IKE_FOLLOWUP_KE was sent")
	}
	b.HandleMessage(msg, netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500"))
	p.wg.Wait()
	if n, _ := ib.counts(); n != 1 || waiting() {
		t.Fatalf("a late IKE_FOLLOWUP_KE made a Child SA (%d installed) or state", n)
	}
}
