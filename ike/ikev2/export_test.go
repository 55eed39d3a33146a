package ikev2

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

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

// TestExportImport: A negotiates with B. X, one of them (both are tried),
// exports its IKE SA, then sends one more request (the survivor cannot
// know it was answered) while Y, the other, sends two (X's export does not
// have their IDs); X dies. X2, with X's configuration, imports the export:
// its first request is the one in doubt, which Y answers from its cache;
// Y's next request is above the ID X2 expects and is taken; the Child SA,
// without ESN, is rekeyed on the same IKE SA. Y never sees a new IKE SA
// nor a DELETE.
func TestExportImport(t *testing.T) {
	for _, resumeInitiator := range []bool{true, false} {
		name := map[bool]string{true: "initiator", false: "responder"}[resumeInitiator]
		t.Run(name, func(t *testing.T) { testExportImport(t, resumeInitiator) })
	}
}

func testExportImport(t *testing.T, resumeInitiator bool) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	sides := [2]side{{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"},
		{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"}}
	a, _, _ := newSide(t, sides[0], p)
	b, _, _ := newSide(t, sides[1], p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	x, y, xs := a, b, sides[0]
	if !resumeInitiator {
		x, y, xs = b, a, sides[1]
	}
	all := func(netip.Addr) bool { return true }
	states := x.Export(all)
	if len(states) != 1 || len(states[0].Children) != 1 {
		t.Fatalf("exported %d states", len(states))
	}
	st := states[0]
	if s := st.String() + st.GoString(); strings.Contains(s, string(st.SKd)) || !strings.Contains(s, st.Name()[:16]) {
		t.Fatalf("String shows %q", s)
	}
	st.Children[0].OutSeq, st.Children[0].InTop = 1<<20, 77
	xSA, ySA := only(t, x), only(t, y)
	// The ID in doubt: Y answered it, the export says it is next. The
	// daemon records the request as sent (daemon/hasync.go).
	var inDoubt []byte
	p.mu.Lock()
	p.drop = func(b []byte) bool {
		if h, err := wire.ParseHeader(b); err == nil && !h.IsResponse() && (h.Flags&wire.FlagInitiator != 0) == resumeInitiator {
			inDoubt = append([]byte(nil), b...)
		}
		return false
	}
	p.mu.Unlock()
	exchange(t, p, x, xSA)
	p.mu.Lock()
	p.drop = nil
	st.InDoubt = [][]byte{inDoubt}
	p.mu.Unlock()
	if h, _ := wire.ParseHeader(inDoubt); h.MessageID != st.NextID {
		t.Fatalf("the request in doubt has ID %d, the export %d", h.MessageID, st.NextID)
	}
	exchange(t, p, y, ySA)
	exchange(t, p, y, ySA)
	ySPIs := ySA.ikeSPIs()
	yInstalled := func() int {
		y.mu.Lock()
		defer y.mu.Unlock()
		return len(ySA.children)
	}

	// X dies silently (Forget sends nothing); X2 takes its address.
	if n := x.Forget(all); n != 1 {
		t.Fatalf("Forget ended %d SAs", n)
	}
	x2, ix2, _ := newSide(t, xs, p)
	ri := resumeInstalls{installs: ix2, seq: map[uint32][2]uint64{}}
	x2.installer = ri
	if err := x2.Import(st); err != nil {
		t.Fatal(err)
	}
	if err := x2.Import(st); err == nil {
		t.Fatal("the same SA imported twice")
	}
	if got := ri.seq[st.Children[0].InSPI]; got != [2]uint64{1 << 20, 77} {
		t.Fatalf("resumed with sequences %v", got)
	}
	x2SA := only(t, x2)
	eventually(t, "the resumed SA's first request answered from Y's cache", func() bool {
		x2.mu.Lock()
		defer x2.mu.Unlock()
		return x2SA.pending == nil && x2SA.nextID > st.NextID
	})
	exchange(t, p, y, ySA) // above the ID X2 expects
	if ySA.state != stateEstablished || ySA.ikeSPIs() != ySPIs {
		t.Fatalf("Y's IKE SA changed: %s %v", ySA.ikeSPIs(), ySA.state)
	}
	// The Child SA without ESN is rekeyed on the resumed IKE SA: both
	// sides hold one Child SA again, a new one.
	eventually(t, "the Child SA rekeyed on the resumed IKE SA", func() bool {
		x2.mu.Lock()
		defer x2.mu.Unlock()
		return len(ix2.get()) == 2 && len(x2SA.children) == 1 && x2SA.children[0].OutboundSPI != st.Children[0].OutSPI && yInstalled() == 1
	})
	exchange(t, p, x2, x2SA)
	if sas := y.SAs(); len(sas) != 1 || sas[0].State != "UP" {
		t.Fatalf("Y's SAs after the resume: %+v", sas)
	}
	x2.Close()
	p.wg.Wait()
	y.Close()
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

// FuzzImport: a State that does not make sense (a record of another build,
// a corrupt one that still opened) is refused, never a panic.
func FuzzImport(f *testing.F) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(f, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"}, p)
	b, _, _ := newSide(f, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	for deadline := time.Now().Add(5 * time.Second); len(upSAs(a)) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	for _, st := range a.Export(func(netip.Addr) bool { return true }) {
		good, _ := json.Marshal(st)
		f.Add(good)
	}
	a.Close()
	b.Close()
	p.wg.Wait()
	f.Add([]byte(`{"Version":1,"Gateway":"gw","PeerAddr":"192.0.2.2","Encryption":{"Type":1,"ID":20,"KeyBits":256},"PRF":{"Type":2,"ID":5}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var st State
		if json.Unmarshal(data, &st) != nil {
			return
		}
		q := &pipe{engines: map[netip.Addr]*Engine{}}
		e, inst, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-128-gcm"}, q)
		e.installer = resumeInstalls{installs: inst, seq: map[uint32][2]uint64{}}
		e.Import(st)
		e.Close()
		q.wg.Wait()
	})
}
