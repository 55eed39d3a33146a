package ikev1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"ipsecgw/transform"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
)

// resumeInstalls is installs that can also resume a pair another node
// ran (ResumeInstaller), recording where its sequence numbers continue.
type resumeInstalls struct {
	*installs
	mu      sync.Mutex
	resumed map[uint32][2]uint64 // inbound SPI → outSeq, inTop
	fail    error
}

func (r *resumeInstalls) ResumeChild(vpn string, c *ike.ChildSA, outSeq, inTop uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if r.resumed == nil {
		r.resumed = map[uint32][2]uint64{}
	}
	r.resumed[c.InboundSPI] = [2]uint64{outSeq, inTop}
	return r.installs.InstallChild(vpn, c)
}

const resumeConfig = "set security ike gateway gw dead-peer-detection always-send\n" +
	"set security ike gateway gw dead-peer-detection interval 10\n" +
	"set security ike gateway gw dead-peer-detection threshold 3\n" +
	"set security ipsec proposal ip1 lifetime-seconds 600\n" +
	"set security ike proposal p1 lifetime-seconds 3600\n"

// muted is a transport that can be silenced, as a node killed.
type muted struct {
	p   *pipe
	off atomic.Bool
}

func (m *muted) Send(b []byte, from, to netip.AddrPort) error {
	if m.off.Load() {
		return nil
	}
	return m.p.Send(b, from, to)
}

// settle lets the pipe's deliveries finish.
func settle(p *pipe) {
	p.wg.Wait()
	time.Sleep(time.Millisecond)
}

// theSA is an engine's one ISAKMP SA (the test's), under its lock.
func theSA(t *testing.T, e *Engine, f func(sa *isakmpSA)) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var found *isakmpSA
	for _, sa := range e.sas {
		if sa.state == stateEstablished {
			found = sa
		}
	}
	if found == nil {
		t.Fatal("no established ISAKMP SA")
	}
	f(found)
}

// pairs reports whether every pair a holds matches one b holds (SPIs and
// keys, each direction the other's opposite), and how many a holds.
func pairs(a, b *Engine) (int, bool) {
	var ca, cb []*ike.ChildSA
	a.mu.Lock()
	for _, sa := range a.sas {
		ca = append(ca, sa.children...)
	}
	a.mu.Unlock()
	b.mu.Lock()
	for _, sa := range b.sas {
		cb = append(cb, sa.children...)
	}
	b.mu.Unlock()
	for _, x := range ca {
		ok := false
		for _, y := range cb {
			if x.OutboundSPI == y.InboundSPI && x.InboundSPI == y.OutboundSPI &&
				bytes.Equal(x.Outbound.Encryption, y.Inbound.Encryption) && bytes.Equal(x.Inbound.Integrity, y.Outbound.Integrity) {
				ok = true
			}
		}
		if !ok {
			return len(ca), false
		}
	}
	return len(ca), len(ca) == len(cb)
}

// TestExportImportResume: an ISAKMP SA and its IPsec SAs exported by one
// engine (then silenced, as a node killed) and imported by a fresh one
// carry on with the peer, which negotiates nothing: the same cookies and
// pair; the survivor rekeys the pair at once (its sequence numbers
// jumped); the peer's DPD is answered and the survivor's own probes
// continue above the stored sequence number; a Quick Mode of the peer is
// answered; the phase 1 deadlines are the exported ones and phase 1 is
// renegotiated in time. The node that dies initiated the ISAKMP SA, or
// answered it.
func TestExportImportResume(t *testing.T) {
	for _, initiator := range []bool{true, false} {
		t.Run(fmt.Sprintf("initiator=%v", initiator), func(t *testing.T) { testExportImportResume(t, initiator) })
	}
}

func testExportImportResume(t *testing.T, initiator bool) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia := newSide(t, side{1, 2, "group14", "sha-256", "aes-256-cbc", "k", "aes-256-cbc", "hmac-sha-256-128", resumeConfig, clk}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha-256", "aes-256-cbc", "k", "aes-256-cbc", "hmac-sha-256-128", resumeConfig, clk}, p)
	mute := &muted{p: p}
	a.transport = mute
	var err error
	if initiator {
		err = a.Initiate(netip.MustParseAddr("192.0.2.2"))
	} else {
		err = b.Initiate(netip.MustParseAddr("192.0.2.1"))
	}
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "up", func() bool { return up(a) && up(b) })
	settle(p)
	clk.Advance(10 * time.Second) // a DPD round each way before the export
	settle(p)

	sts := a.Export(func(netip.Addr) bool { return true })
	if len(sts) != 1 || len(sts[0].Children) != 1 {
		t.Fatalf("exported %d SAs", len(sts))
	}
	if none := a.Export(func(netip.Addr) bool { return false }); len(none) != 0 {
		t.Fatal("Export ignored its match")
	}
	st := sts[0]
	if st.Initiator != initiator {
		t.Fatalf("exported as initiator %v", st.Initiator)
	}
	if st.DPDSeq == 0 || st.RekeyAt.IsZero() || st.ExpireAt.IsZero() || st.Children[0].RekeyAt.IsZero() {
		t.Fatalf("exported without DPD sequence or deadlines: dpd %d, phase 1 %v/%v, pair %v", st.DPDSeq, st.RekeyAt, st.ExpireAt, st.Children[0].RekeyAt)
	}
	for _, s := range []string{st.String(), st.GoString()} {
		if strings.Contains(s, string(st.SKEYIDa)) || !strings.Contains(s, "IKEv1 SA") {
			t.Fatalf("State prints %q", s)
		}
	}
	// Through JSON, as the daemon stores it, with the DPD sequence number
	// moved ahead as the daemon does.
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	back.DPDSeq += 1000
	back.Children[0].OutSeq, back.Children[0].InTop = 1<<20, 7
	old := ia.get()[0]

	// The owner dies: it sends nothing more, and a fresh engine takes its
	// address.
	mute.off.Store(true)
	ic := &resumeInstalls{installs: &installs{next: 3 << 16}}
	c := newSideWith(t, side{1, 2, "group14", "sha-256", "aes-256-cbc", "k", "aes-256-cbc", "hmac-sha-256-128", resumeConfig, clk}, p, ic)
	if err := c.Import(back); err != nil {
		t.Fatal(err)
	}
	if err := c.Import(back); err == nil {
		t.Fatal("the same SA imported twice")
	}
	sas := c.SAs()
	if len(sas) != 1 || sas[0].InitiatorSPI != st.CkyI || sas[0].ResponderSPI != st.CkyR || sas[0].State != "UP" {
		t.Fatalf("resumed SAs %+v", sas)
	}
	ic.mu.Lock()
	marks := ic.resumed[old.InboundSPI]
	ic.mu.Unlock()
	if marks != [2]uint64{1 << 20, 7} {
		t.Fatalf("pair resumed with marks %v", marks)
	}
	theSA(t, c, func(sa *isakmpSA) {
		if !sa.rekeyAt.Equal(st.RekeyAt) || !sa.expireAt.Equal(st.ExpireAt) {
			t.Errorf("phase 1 deadlines %v/%v, exported %v/%v", sa.rekeyAt, sa.expireAt, st.RekeyAt, st.ExpireAt)
		}
	})

	// The survivor's Quick Mode rekey (at once: no extended sequence
	// numbers), and the old pair deleted a second later on both sides.
	eventually(t, "the survivor's rekeyed pair", func() bool { n, _ := ib.counts(); m, _ := ic.counts(); return n == 2 && m == 2 })
	clk.Advance(2 * time.Second)
	settle(p)
	if n, ok := pairs(c, b); n != 1 || !ok {
		t.Fatalf("after the survivor's rekey: %d pairs, matching %v", n, ok)
	}
	if nc := ic.get()[1]; nc.InboundSPI == old.InboundSPI {
		t.Fatal("the rekey kept the old SPI")
	}

	// DPD both ways for several intervals: the peer's probes are answered
	// (or its threshold of 3 would end the SA), and ours come from above
	// the stored sequence number and are answered.
	for range 6 {
		clk.Advance(10 * time.Second)
		settle(p)
	}
	if !up(b) || !up(c) || len(b.Failures()) != 0 {
		t.Fatalf("after DPD: peer up %v, survivor up %v, peer's failures %+v", up(b), up(c), b.Failures())
	}
	theSA(t, c, func(sa *isakmpSA) {
		if sa.dpdSeq <= back.DPDSeq || sa.dpdUnanswered != 0 {
			t.Errorf("survivor's DPD sequence %d (stored %d), %d unanswered", sa.dpdSeq, back.DPDSeq, sa.dpdUnanswered)
		}
	})
	theSA(t, b, func(sa *isakmpSA) {
		if sa.ckyI != st.CkyI || sa.dpdUnanswered != 0 {
			t.Errorf("peer's SA %016x with %d probes unanswered", sa.ckyI, sa.dpdUnanswered)
		}
	})

	// The peer's Quick Mode rekey, answered by the survivor.
	cur := ib.get()[len(ib.get())-1]
	b.ChildBytesReached(cur, false)
	eventually(t, "the peer's rekeyed pair", func() bool { n, _ := ib.counts(); m, _ := ic.counts(); return n == 3 && m == 3 })
	clk.Advance(2 * time.Second)
	settle(p)
	if n, ok := pairs(c, b); n != 1 || !ok {
		t.Fatalf("after the peer's rekey: %d pairs, matching %v", n, ok)
	}
	if len(b.SAs()) != 1 || b.SAs()[0].InitiatorSPI != st.CkyI {
		t.Fatalf("the peer negotiated a new ISAKMP SA: %+v", b.SAs())
	}

	// Phase 1 is renegotiated by its initiator at its deadline (the
	// survivor's: the one the old owner set), in DPD-sized steps of the
	// clock.
	rekeyAt := st.RekeyAt
	if !initiator {
		theSA(t, b, func(sa *isakmpSA) { rekeyAt = sa.rekeyAt })
	}
	for i := 0; i < 400 && clk.Now().Add(10*time.Second).Before(rekeyAt); i++ {
		clk.Advance(10 * time.Second)
		settle(p)
	}
	// Just past it, and no further: Main Mode's retransmissions run on the
	// same clock.
	clk.Advance(rekeyAt.Sub(clk.Now()) + time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		sas, got := b.SAs(), c.SAs()
		if len(sas) == 1 && sas[0].State == "UP" && sas[0].InitiatorSPI != st.CkyI && sas[0].Children > 0 &&
			len(got) == 1 && got[0].State == "UP" && got[0].InitiatorSPI == sas[0].InitiatorSPI {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no phase 1 rekey: the peer has %+v, the survivor %+v, failures %+v", sas, c.SAs(), c.Failures())
		}
		time.Sleep(2 * time.Millisecond)
	}
	settle(p)
	if n, ok := pairs(c, b); n < 1 || !ok {
		t.Fatalf("after the phase 1 rekey: %d pairs, matching %v", n, ok)
	}

	// Forget: the group moves on; nothing is said to the peer.
	var sent int
	var mu sync.Mutex
	p.mu.Lock()
	p.drop = func([]byte) bool { mu.Lock(); sent++; mu.Unlock(); return true }
	p.mu.Unlock()
	if n := c.Forget(func(netip.Addr) bool { return true }); n != 1 || len(c.SAs()) != 0 {
		t.Fatalf("Forget ended %d SAs, %d left", n, len(c.SAs()))
	}
	mu.Lock()
	if sent != 0 {
		t.Fatalf("Forget sent %d messages", sent)
	}
	mu.Unlock()
	a.Close()
	c.Close()
	b.Close()
	settle(p)
}

// TestImportRefused: a State that is malformed or does not fit this node
// is refused with an error, leaving no SA and no IPsec SA behind.
func TestImportRefused(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", resumeConfig, clk}, p)
	b, _ := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", resumeConfig, clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "up", func() bool { return up(a) && up(b) })
	settle(p)
	good := a.Export(func(netip.Addr) bool { return true })[0]
	for _, tc := range []struct {
		name   string
		change func(*State)
		fail   error // the installer's
		want   string
	}{
		{"another layout", func(s *State) { s.Version = 99 }, nil, "layout 99"},
		{"unknown gateway", func(s *State) { s.Gateway = "other" }, nil, "not configured here"},
		{"unknown peer", func(s *State) { s.PeerAddr = netip.MustParseAddr("198.51.100.9") }, nil, "not configured here"},
		{"no cookies", func(s *State) { s.CkyR = 0 }, nil, "cookies"},
		{"unknown cipher", func(s *State) { s.Encryption.ID = 9999 }, nil, "no transform"},
		{"no cipher", func(s *State) { s.Encryption = transform.Ref{} }, nil, "no cipher"},
		{"no group", func(s *State) { s.Group = transform.Ref{} }, nil, "group"},
		{"a cipher as the hash", func(s *State) { s.Hash = s.Encryption }, nil, "PRF"},
		{"no SKEYID_a", func(s *State) { s.SKEYIDa = nil }, nil, "missing"},
		{"short IV", func(s *State) { s.IV = s.IV[:5] }, nil, "IV"},
		{"pair without SPI", func(s *State) { s.Children[0].InSPI = 0 }, nil, "SPI"},
		{"pair's unknown cipher", func(s *State) { s.Children[0].Encryption.ID = 9999 }, nil, "no transform"},
		{"installer refuses", func(*State) {}, errors.New("no room"), "no room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := good
			st.Children = append([]ChildState(nil), good.Children...)
			st.IV = clone(good.IV)
			tc.change(&st)
			pc := &pipe{engines: map[netip.Addr]*Engine{}}
			ic := &resumeInstalls{installs: &installs{next: 3 << 16}, fail: tc.fail}
			c := newSideWith(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", resumeConfig, clk}, pc, ic)
			err := c.Import(st)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Import: %v, want an error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), string(st.SKEYIDe)) {
				t.Fatal("the error shows a key")
			}
			if n, _ := ic.counts(); len(c.SAs()) != 0 || n != 0 && tc.fail == nil {
				t.Fatalf("after a refused import: %d SAs, %d pairs", len(c.SAs()), n)
			}
			c.Close()
			settle(pc)
		})
	}
	// An installer that cannot resume.
	pc := &pipe{engines: map[netip.Addr]*Engine{}}
	c, _ := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", resumeConfig, clk}, pc)
	if err := c.Import(good); err == nil {
		t.Fatal("imported without a ResumeInstaller")
	}
	c.Close()
	a.Close()
	b.Close()
	settle(p)
	settle(pc)
}

// FuzzImport: any record, once decoded, is imported or refused; nothing
// panics.
func FuzzImport(f *testing.F) {
	f.Add([]byte(`{"Version":1,"Gateway":"gw","PeerAddr":"192.0.2.2","CkyI":1,"CkyR":2,"Local":"192.0.2.1:500","Remote":"192.0.2.2:500",` +
		`"Encryption":{"Type":1,"ID":12,"KeyBits":128},"Hash":{"Type":2,"ID":2,"KeyBits":0},"SKEYIDd":"AQ==","SKEYIDa":"AQ==","SKEYIDe":"AQID",` +
		`"Group":{"Type":4,"ID":14,"KeyBits":0},"IV":"AAAAAAAAAAAAAAAAAAAAAA==","Children":[{"InSPI":1,"OutSPI":2,"Encryption":{"Type":1,"ID":12,"KeyBits":128},"InEncr":"AA=="}]}`))
	f.Add([]byte(`{"Version":1}`))
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st State
		if json.Unmarshal(b, &st) != nil {
			return
		}
		pc := &pipe{engines: map[netip.Addr]*Engine{}}
		ic := &resumeInstalls{installs: &installs{}}
		c := newSideWith(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", clk}, pc, ic)
		c.Import(st)
		c.Close()
		settle(pc)
	})
}
