package ikev2

import (
	"bytes"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
)

// pipe joins two engines: a message sent to an address is handled by the
// engine owning it, on a goroutine of its own (an engine sending while
// handling must not re-enter itself).
type pipe struct {
	mu      sync.Mutex
	engines map[netip.Addr]*Engine
	wg      sync.WaitGroup
	drop    func(b []byte) bool // optional: drop a message (loss)
	sent    int
	// hold, while set, keeps messages back until release (to make two
	// requests cross).
	hold bool
	held []func()
	// holdIf, while set, keeps back the messages it picks until release.
	holdIf func(b []byte, from, to netip.AddrPort) bool
	// tap, when set, sees every message sent, in the sender's goroutine
	// (transcript_test.go).
	tap func(b []byte, from, to netip.AddrPort)
}

// release delivers the messages held back.
func (p *pipe) release() {
	p.mu.Lock()
	held := p.held
	p.held, p.hold, p.holdIf = nil, false, nil
	p.mu.Unlock()
	for _, f := range held {
		f()
	}
}

func (p *pipe) Send(b []byte, from, to netip.AddrPort) error {
	p.mu.Lock()
	e := p.engines[to.Addr()]
	p.sent++
	drop := p.drop != nil && p.drop(b)
	if p.tap != nil {
		p.tap(b, from, to)
	}
	p.mu.Unlock()
	if e == nil || drop {
		return nil
	}
	msg := append([]byte(nil), b...)
	deliver := func() {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			e.HandleMessage(msg, from, to)
		}()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold || p.holdIf != nil && p.holdIf(msg, from, to) {
		p.held = append(p.held, deliver)
		return nil
	}
	deliver()
	return nil
}

// installs records what an engine installed.
type installs struct {
	mu       sync.Mutex
	next     uint32
	children []*ike.ChildSA
	removed  int
}

func (i *installs) AllocateSPI() (uint32, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.next++
	return 0xc0000000 + i.next, nil
}

func (i *installs) InstallChild(vpn string, c *ike.ChildSA) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.children = append(i.children, c)
	return nil
}

func (i *installs) RemoveChild(vpn string, c *ike.ChildSA) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.removed++
}

func (i *installs) get() []*ike.ChildSA {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]*ike.ChildSA(nil), i.children...)
}

const gatewayConfig = `set interfaces st0 unit 1 family inet
set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 dh-group %[3]s
set security ike proposal p1 authentication-algorithm sha-256
set security ike proposal p1 encryption-algorithm %[4]s
set security ike policy pol mode main
set security ike policy pol proposals p1
set security ike policy pol pre-shared-key ascii-text "%[5]s"
set security ike gateway gw ike-policy pol
set security ike gateway gw address 192.0.2.%[2]d
set security ike gateway gw version v2-only
set security ipsec proposal ip1 protocol esp
set security ipsec proposal ip1 encryption-algorithm %[6]s
set security ipsec policy ipol proposals ip1
set security ipsec vpn vpn1 bind-interface st0.1
set security ipsec vpn vpn1 ike gateway gw
set security ipsec vpn vpn1 ike ipsec-policy ipol
`

type side struct {
	me, peer           int
	group, ikeEnc, psk string
	espEnc             string
	extra              string      // more set commands
	clock              clock.Clock // nil: the real one
	traffic            *traffic    // set: the installer counts ESP packets (ike.TrafficCounter)
}

// traffic is the ESP packet count a test sets for a side's Child SAs.
type traffic struct{ in, out atomic.Uint64 }

// countingInstalls is installs that also answers ChildTraffic.
type countingInstalls struct {
	*installs
	t *traffic
}

func (c countingInstalls) ChildTraffic(*ike.ChildSA) (in, out uint64) {
	return c.t.in.Load(), c.t.out.Load()
}

func newSide(t testing.TB, s side, p *pipe) (*Engine, *installs, *ike.Peer) {
	t.Helper()
	src := fmt.Sprintf(gatewayConfig, s.me, s.peer, s.group, s.ikeEnc, s.psk, s.espEnc) + s.extra
	tr, err := config.Parse("gw.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	peer, err := resolve.Peer(cfg.IPsec.VPNs[0], netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", s.me)))
	if err != nil {
		t.Fatal(err)
	}
	inst := &installs{}
	var installer ike.Installer = inst
	if s.traffic != nil {
		installer = countingInstalls{installs: inst, t: s.traffic}
	}
	e := NewEngine(ike.Config{Transport: p, Installer: installer, Clock: s.clock})
	e.AddPeer(peer)
	p.mu.Lock()
	p.engines[peer.Local] = e
	p.mu.Unlock()
	return e, inst, peer
}

func waitUp(t *testing.T, e *Engine) ike.SAInfo {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, sa := range e.SAs() {
			if sa.State == "UP" && sa.Children == 1 {
				return sa
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no IKE SA up: %+v; failures %+v", e.SAs(), e.failures.List())
	return ike.SAInfo{}
}

// TestHandshake: two engines negotiate IKE_SA_INIT and IKE_AUTH with a
// pre-shared key and install matching Child SAs: what one sends with, the
// other receives with.
func TestHandshake(t *testing.T) {
	for _, tc := range []struct{ group, ikeEnc, espEnc string }{
		{"group19", "aes-256-gcm", "aes-256-gcm"},
		{"group14", "aes-256-cbc", "aes-128-gcm"},
		{"group31", "chacha20-poly1305", "chacha20-poly1305"},
	} {
		p := &pipe{engines: map[netip.Addr]*Engine{}}
		a, ia, _ := newSide(t, side{me: 1, peer: 2, group: tc.group, ikeEnc: tc.ikeEnc, psk: "secret", espEnc: tc.espEnc}, p)
		b, ib, _ := newSide(t, side{me: 2, peer: 1, group: tc.group, ikeEnc: tc.ikeEnc, psk: "secret", espEnc: tc.espEnc}, p)
		if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
			t.Fatal(err)
		}
		sa, sb := waitUp(t, a), waitUp(t, b)
		if sa.InitiatorSPI != sb.InitiatorSPI || sa.ResponderSPI != sb.ResponderSPI || sa.InitiatorSPI == 0 || sa.ResponderSPI == 0 {
			t.Fatalf("%s: SPIs differ: %+v %+v", tc.ikeEnc, sa, sb)
		}
		ca, cb := ia.get()[0], ib.get()[0]
		if ca.OutboundSPI != cb.InboundSPI || cb.OutboundSPI != ca.InboundSPI {
			t.Fatalf("%s: child SPIs do not pair: %+v %+v", tc.ikeEnc, ca, cb)
		}
		if !bytes.Equal(ca.Outbound.Encryption, cb.Inbound.Encryption) || !bytes.Equal(cb.Outbound.Encryption, ca.Inbound.Encryption) ||
			bytes.Equal(ca.Outbound.Encryption, ca.Inbound.Encryption) {
			t.Fatalf("%s: child keys do not pair", tc.ikeEnc)
		}
		if ca.Encryption.IPsecKeyword != tc.espEnc || len(ca.LocalTS) == 0 {
			t.Fatalf("%s: child %+v", tc.ikeEnc, ca)
		}
		a.Close()
		p.wg.Wait()
		b.Close()
	}
}

func TestWrongPSKFails(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "right", espEnc: "aes-256-gcm"}, p)
	b, ib, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "wrong", espEnc: "aes-256-gcm"}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the initiator's failure", func() bool { return len(a.Failures()) > 0 })
	p.wg.Wait()
	if len(ia.get())+len(ib.get()) != 0 {
		t.Fatal("a Child SA was installed with a wrong key")
	}
	a.mu.Lock()
	reason := a.failures.List()[0].Failure.Message
	a.mu.Unlock()
	if reason == "" {
		t.Fatal("no reason recorded")
	}
	t.Logf("initiator: %s", reason)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.failures.List()) == 0 || b.failures.List()[0].Failure.Message == "" {
		t.Fatal("responder recorded no failure")
	}
}

func TestNoCommonProposal(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	b, _, _ := newSide(t, side{me: 2, peer: 1, group: "group20", ikeEnc: "aes-128-cbc", psk: "k", espEnc: "aes-256-gcm"}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the initiator's failure", func() bool { return len(a.Failures()) > 0 })
	p.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.failures.List()) == 0 {
		t.Fatal("responder recorded no failure")
	}
	t.Logf("responder: %s", b.failures.List()[0].Failure.Message)
}

// TestClosedEngineIgnoresPeers: once closed (the daemon is stopping), an
// engine answers nothing, so a peer that re-initiates at once cannot make
// it install into a data plane that is going away.
func TestClosedEngineIgnoresPeers(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	b, ib, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	b.Close()
	if err := b.Initiate(netip.MustParseAddr("192.0.2.1")); err == nil {
		t.Fatal("a closed engine initiated")
	}
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	time.Sleep(50 * time.Millisecond)
	p.wg.Wait()
	if len(b.SAs()) != 0 || len(ib.get()) != 0 {
		t.Fatalf("closed engine answered: %+v", b.SAs())
	}
	a.Close()
}

// TestChildRefusedInAuth: the IKE SA comes up but its Child SA is refused
// (traffic selectors the responder does not accept). The failure is
// reported as an event with its cause, kept as the IKE SA's last error,
// and a kept-up tunnel tries again by negotiating the IKE SA anew.
func TestChildRefusedInAuth(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	var mu sync.Mutex
	var events []ike.Event
	a, ia, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk,
		extra: "set security ipsec vpn vpn1 traffic-selector t local-ip 198.18.1.0/24\n" +
			"set security ipsec vpn vpn1 traffic-selector t remote-ip 198.18.2.0/24\n" +
			"set security ipsec vpn vpn1 establish-tunnels immediately\n"}, p)
	a.events = func(e ike.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	_, _, _ = newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk,
		extra: "set security ipsec vpn vpn1 traffic-selector t local-ip 203.0.113.0/24\n" +
			"set security ipsec vpn vpn1 traffic-selector t remote-ip 198.51.100.0/24\n"}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	var info ike.SAInfo
	eventually(t, "the IKE SA", func() bool {
		for _, s := range a.SAs() {
			if s.State == "UP" && s.Failure.Message != "" {
				info = s
				return true
			}
		}
		return false
	})
	p.wg.Wait()
	if n, _ := ia.counts(); n != 0 {
		t.Fatalf("%d Child SAs installed with mismatched selectors", n)
	}
	for _, s := range a.SAs() {
		if s.Children == 0 && s.Failure.Message == "Child SA refused: TS_UNACCEPTABLE" {
			goto reported
		}
	}
	t.Fatalf("IKE SA's last error: %+v", a.SAs())
reported:
	mu.Lock()
	found := false
	for _, e := range events {
		found = found || e.Kind == ike.NegotiationFailed && e.Failure.Cause.Label() == ike.LabelTSUnacceptable
	}
	mu.Unlock()
	if !found {
		t.Fatalf("no negotiation-failed event with cause %s: %+v", ike.LabelTSUnacceptable, events)
	}
	// Kept up: the IKE SA is deleted and negotiated anew.
	for i := 0; i < 10; i++ {
		clk.Advance(ike.ReinitiateDelay)
		p.wg.Wait()
		time.Sleep(2 * time.Millisecond)
	}
	for _, s := range a.SAs() {
		if s.InitiatorSPI == info.InitiatorSPI {
			t.Fatalf("the IKE SA without a Child SA was kept: %+v", a.SAs())
		}
	}
	a.Close()
	p.wg.Wait()
}

// TestSimultaneousInitiation: both sides of a kept-up tunnel initiate at
// once (their IKE_SA_INIT requests cross). Either both are answered before
// either IKE_AUTH arrives, both IKE SAs come up, and the one with the
// higher initiator SPI is deleted by its initiator (dedupe); or one side
// gets the peer's IKE_AUTH before the answer to its own IKE_SA_INIT and
// gives its own up (abandoninit.go), and the peer's half-open SA of it
// goes after givenUpWait. Either way both sides end with the same single
// IKE SA and Child SA.
func TestSimultaneousInitiation(t *testing.T) {
	given := 0
	for range 4 {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		p := &pipe{engines: map[netip.Addr]*Engine{}}
		a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
		b, _, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
		p.mu.Lock()
		p.hold = true
		p.mu.Unlock()
		a.Initiate(netip.MustParseAddr("192.0.2.2"))
		b.Initiate(netip.MustParseAddr("192.0.2.1"))
		p.release()
		withinAdvancing(t, "one IKE SA each, the same", clk, func() bool {
			sa, sb := upSAs(a), upSAs(b)
			return len(a.SAs()) == 1 && len(b.SAs()) == 1 && len(sa) == 1 && len(sb) == 1 &&
				sa[0].InitiatorSPI == sb[0].InitiatorSPI && sa[0].Children == 1 && sb[0].Children == 1
		})
		given += int(a.AbandonedInitiations() + b.AbandonedInitiations())
		a.Close()
		b.Close()
		p.wg.Wait()
	}
	t.Logf("%d of 4 runs settled by one side giving its initiation up, the others by dedupe", given)
}

// withinAdvancing is within, moving clk on by a second whenever cond has
// not held for 100 ms.
func withinAdvancing(t *testing.T, what string, clk *clock.Fake, cond func() bool) {
	t.Helper()
	last := time.Now()
	within(t, what, func() bool {
		if cond() {
			return true
		}
		if time.Since(last) > 100*time.Millisecond {
			clk.Advance(time.Second)
			last = time.Now()
		}
		return false
	})
}
