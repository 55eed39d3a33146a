package ikev2

import (
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// resumeInstalls is installs that can also resume Child SAs.
type resumeInstalls struct {
	*installs
	seq map[uint32][2]uint64 // inbound SPI → outSeq, inTop
}

func (r resumeInstalls) ResumeChild(vpn string, c *ike.ChildSA, outSeq, inTop uint64) error {
	r.mu.Lock()
	r.seq[c.InboundSPI] = [2]uint64{outSeq, inTop}
	r.mu.Unlock()
	return r.InstallChild(vpn, c)
}

// only is an engine's one live IKE SA; the test holds no lock after.
func only(t *testing.T, e *Engine) *ikeSA {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var found *ikeSA
	for spi, sa := range e.sas {
		if spi == sa.localSPI() && sa.state != stateDead {
			if found != nil {
				t.Fatalf("more than one IKE SA")
			}
			found = sa
		}
	}
	if found == nil {
		t.Fatalf("no IKE SA")
	}
	return found
}

// exchange has e's SA send a liveness check and waits for its answer.
func exchange(t *testing.T, p *pipe, e *Engine, sa *ikeSA) {
	t.Helper()
	e.mu.Lock()
	sa.probe()
	e.mu.Unlock()
	eventually(t, "the liveness check answered", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return sa.pending == nil
	})
	p.wg.Wait()
}

// TestExportImport: A negotiates with B and exports its IKE SA; A then
// sends one more request (the survivor cannot know it was answered) and B
// two (A's export does not have their IDs); A dies. A2, with A's
// configuration, imports the export: its first request reuses the ID in
// doubt and B answers it from its cache, B's next request is above the ID
// A2 expects and is taken, and the Child SA, without ESN, is rekeyed on the
// same IKE SA. B never sees a new IKE SA nor a DELETE.
func TestExportImport(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"}, p)
	b, ib, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	all := func(netip.Addr) bool { return true }
	states := a.Export(all)
	if len(states) != 1 || len(states[0].Children) != 1 {
		t.Fatalf("exported %d states", len(states))
	}
	st := states[0]
	if s := st.String() + st.GoString(); strings.Contains(s, string(st.SKd)) || !strings.Contains(s, st.Name()[:16]) {
		t.Fatalf("String shows %q", s)
	}
	st.Children[0].OutSeq, st.Children[0].InTop = 1<<20, 77
	aSA, bSA := only(t, a), only(t, b)
	// The ID in doubt: B answered it, the export says it is next. The
	// daemon records the request as sent (daemon/hasync.go).
	var inDoubt []byte
	p.mu.Lock()
	p.drop = func(b []byte) bool {
		if h, err := wire.ParseHeader(b); err == nil && !h.IsResponse() && h.Flags&wire.FlagInitiator != 0 {
			inDoubt = append([]byte(nil), b...)
		}
		return false
	}
	p.mu.Unlock()
	exchange(t, p, a, aSA)
	p.mu.Lock()
	p.drop = nil
	st.InDoubt = inDoubt
	p.mu.Unlock()
	if h, _ := wire.ParseHeader(inDoubt); h.MessageID != st.NextID {
		t.Fatalf("the request in doubt has ID %d, the export %d", h.MessageID, st.NextID)
	}
	exchange(t, p, b, bSA)
	exchange(t, p, b, bSA)
	bSPIs := bSA.ikeSPIs()

	// A dies silently (Forget sends nothing); A2 takes its address.
	if n := a.Forget(all); n != 1 {
		t.Fatalf("Forget ended %d SAs", n)
	}
	a2, ia2, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"}, p)
	ri := resumeInstalls{installs: ia2, seq: map[uint32][2]uint64{}}
	a2.installer = ri
	if err := a2.Import(st); err != nil {
		t.Fatal(err)
	}
	if err := a2.Import(st); err == nil {
		t.Fatal("the same SA imported twice")
	}
	if got := ri.seq[st.Children[0].InSPI]; got != [2]uint64{1 << 20, 77} {
		t.Fatalf("resumed with sequences %v", got)
	}
	a2SA := only(t, a2)
	eventually(t, "the resumed SA's first request answered from B's cache", func() bool {
		a2.mu.Lock()
		defer a2.mu.Unlock()
		return a2SA.pending == nil && a2SA.nextID > st.NextID
	})
	exchange(t, p, b, bSA) // above the ID A2 expects
	if bSA.state != stateEstablished || bSA.ikeSPIs() != bSPIs {
		t.Fatalf("B's IKE SA changed: %s %v", bSA.ikeSPIs(), bSA.state)
	}
	// The Child SA without ESN is rekeyed on the resumed IKE SA.
	eventually(t, "the Child SA rekeyed on the resumed IKE SA", func() bool {
		return len(ia2.get()) == 2 && len(ib.get()) == 2
	})
	exchange(t, p, a2, a2SA)
	if sas := b.SAs(); len(sas) != 1 || sas[0].State != "UP" {
		t.Fatalf("B's SAs after the resume: %+v", sas)
	}
	a2.Close()
	p.wg.Wait()
	b.Close()
}

// TestImportRefusesUnknown: a state of another layout or of a gateway not
// configured is refused.
func TestImportRefusesUnknown(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"}, p)
	a.installer = resumeInstalls{installs: ia, seq: map[uint32][2]uint64{}}
	if err := a.Import(State{Version: 99}); err == nil {
		t.Fatal("a state of layout 99 imported")
	}
	err := a.Import(State{Version: stateVersion, Gateway: "gw", PeerAddr: netip.MustParseAddr("192.0.2.9")})
	if err == nil {
		t.Fatal("a state of an unknown peer imported")
	}
}
