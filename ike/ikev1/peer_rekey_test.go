package ikev1

import (
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
	v1 "ipsecgw/ike/wire/v1"
)

// TestPeerRekeyReplacesOldPair: a peer that rekeys with a plain Quick Mode
// for the same traffic (as strongSwan does; IKEv1 has no rekey marker)
// replaces the pair it had: the responder takes the new pair as the old
// one's rekey and deletes the old one a moment later, telling the peer,
// so both end with one pair and no one negotiates a third at the old
// pair's soft lifetime.
func TestPeerRekeyReplacesOldPair(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "up", func() bool { return up(a) && up(b) })
	old := ib.get()[0]
	// a's Quick Mode is no rekey in a's eyes: just a new pair.
	a.mu.Lock()
	for _, sa := range a.sas {
		sa.startQuickMode(nil)
	}
	a.mu.Unlock()
	eventually(t, "the new pair on both sides", func() bool { n, _ := ia.counts(); m, _ := ib.counts(); return n == 2 && m == 2 })
	eventually(t, "the old pair deleted on both sides", func() bool {
		_, ra := ia.counts()
		_, rb := ib.counts()
		return ra == 1 && rb == 1
	})
	for name, e := range map[string]*Engine{"initiator": a, "responder": b} {
		e.mu.Lock()
		for _, sa := range e.sas {
			if len(sa.children) != 1 || sa.children[0].InboundSPI == old.InboundSPI || sa.children[0].OutboundSPI == old.InboundSPI {
				t.Errorf("%s holds %d pairs after the rekey, or the old one", name, len(sa.children))
			}
		}
		e.mu.Unlock()
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestPeerRekeyThenPhase1Rekey: the old pair a peer's rekey replaced goes
// a second later even when a phase 1 rekey in that second hands it to the
// new ISAKMP SA and closes the old one (the removal was one of the old
// ISAKMP SA's timers, and stopped with it: the pair lived on). The
// responder deletes the old ISAKMP SA right after message 6, and the
// initiator may handle that DELETE first: its pairs then wait under the
// new ISAKMP SA still in Main Mode (they were removed, and a fresh Quick
// Mode followed).
func TestPeerRekeyThenPhase1Rekey(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", clk}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "up", func() bool { return up(a) && up(b) })
	a.mu.Lock()
	for _, sa := range a.sas {
		sa.startQuickMode(nil)
	}
	a.mu.Unlock()
	eventually(t, "the new pair on both sides", func() bool { n, _ := ia.counts(); m, _ := ib.counts(); return n == 2 && m == 2 })
	// A new Main Mode within the second: b takes the pairs over and
	// deletes the old ISAKMP SA.
	first := b.SAs()[0].InitiatorSPI
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "only the new ISAKMP SA on b, with both pairs", func() bool {
		sas := b.SAs()
		return len(sas) == 1 && sas[0].InitiatorSPI != first && sas[0].State == "UP" && sas[0].Children == 2
	})
	// The clock moves on in small steps until both removals happened: a
	// may still be handling b's DELETE (and setting its removal timer)
	// when b is done, and a timer set after a single Advance would never
	// fire.
	for i := 0; ; i++ {
		_, ra := ia.counts()
		_, rb := ib.counts()
		if ra == 1 && rb == 1 {
			break
		}
		if i == 600 {
			t.Fatalf("the old pair not deleted on both sides within 60 s of clock: removed %d and %d", ra, rb)
		}
		clk.Advance(100 * time.Millisecond)
		time.Sleep(10 * time.Millisecond)
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestAnsweredIDs: the Quick Mode initiator installs the responder's
// identities when they are ours or narrower (strongSwan narrows), and
// refuses wider ones.
func TestAnsweredIDs(t *testing.T) {
	pfx := netip.MustParsePrefix
	mine := func(l, r string) *quickMode {
		li, ri := v1.IDFromPrefix(pfx(l)), v1.IDFromPrefix(pfx(r))
		return &quickMode{idci: &li, idcr: &ri}
	}
	answer := func(ids ...string) *v1.Chain {
		ps := []v1.Payload{&v1.Nonce{Data: make([]byte, 16)}}
		for _, id := range ids {
			x := v1.IDFromPrefix(pfx(id))
			ps = append(ps, &x)
		}
		c, err := v1.BuildChain(ps)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name          string
		qm            *quickMode
		answer        *v1.Chain
		local, remote string
		fails         bool
	}{
		{"the same", mine("198.18.1.0/24", "198.18.2.0/24"), answer("198.18.1.0/24", "198.18.2.0/24"), "198.18.1.0/24", "198.18.2.0/24", false},
		{"narrowed", mine("0.0.0.0/0", "0.0.0.0/0"), answer("198.18.1.0/24", "198.18.2.0/24"), "198.18.1.0/24", "198.18.2.0/24", false},
		{"none answered", mine("0.0.0.0/0", "0.0.0.0/0"), answer(), "0.0.0.0/0", "0.0.0.0/0", false},
		{"wider", mine("198.18.1.0/24", "198.18.2.0/24"), answer("198.18.0.0/16", "198.18.2.0/24"), "", "", true},
		{"elsewhere", mine("198.18.1.0/24", "198.18.2.0/24"), answer("198.18.1.0/24", "203.0.113.0/24"), "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, r, err := answeredIDs(tc.answer, tc.qm)
			if tc.fails {
				if err == nil {
					t.Fatalf("accepted %s ↔ %s", l, r)
				}
				return
			}
			if err != nil || l != pfx(tc.local) || r != pfx(tc.remote) {
				t.Fatalf("answeredIDs = %s, %s, %v; want %s, %s", l, r, err, tc.local, tc.remote)
			}
		})
	}
}
