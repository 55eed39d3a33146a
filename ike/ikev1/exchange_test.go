package ikev1

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
)

// pipe joins engines: a message sent to an address is handled by the
// engine owning it, on a goroutine of its own.
type pipe struct {
	mu      sync.Mutex
	engines map[netip.Addr]*Engine
	wg      sync.WaitGroup
	drop    func([]byte) bool
	// hold, while set, keeps messages back until release (to make two
	// exchanges cross).
	hold bool
	held []func()
}

func (p *pipe) Send(b []byte, from, to netip.AddrPort) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.engines[to.Addr()]
	if e == nil || p.drop != nil && p.drop(b) {
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
	if p.hold {
		p.held = append(p.held, deliver)
		return nil
	}
	deliver()
	return nil
}

// release delivers the messages held back.
func (p *pipe) release() {
	p.mu.Lock()
	held := p.held
	p.held, p.hold = nil, false
	p.mu.Unlock()
	for _, f := range held {
		f()
	}
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
	return 0xc1000000 + i.next, nil
}

func (i *installs) InstallChild(vpn string, c *ike.ChildSA) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.children = append(i.children, c)
	return nil
}

func (i *installs) RemoveChild(string, *ike.ChildSA) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.removed++
}

func (i *installs) counts() (int, int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return len(i.children), i.removed
}

func (i *installs) get() []*ike.ChildSA {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]*ike.ChildSA(nil), i.children...)
}

const gatewayConfig = `set interfaces st0 unit 1 family inet
set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 dh-group %[3]s
set security ike proposal p1 authentication-algorithm %[4]s
set security ike proposal p1 encryption-algorithm %[5]s
set security ike policy pol mode main
set security ike policy pol proposals p1
set security ike policy pol pre-shared-key ascii-text "%[6]s"
set security ike gateway gw ike-policy pol
set security ike gateway gw address 192.0.2.%[2]d
set security ike gateway gw version v1-only
set security ipsec proposal ip1 protocol esp
set security ipsec proposal ip1 encryption-algorithm %[7]s
set security ipsec proposal ip1 authentication-algorithm %[8]s
set security ipsec policy ipol proposals ip1
set security ipsec vpn vpn1 bind-interface st0.1
set security ipsec vpn vpn1 ike gateway gw
set security ipsec vpn vpn1 ike ipsec-policy ipol
`

type side struct {
	me, peer               int
	group, hash, enc, psk  string
	espEnc, espAuth, extra string
	clock                  clock.Clock
}

func newSide(t testing.TB, s side, p *pipe) (*Engine, *installs) {
	t.Helper()
	inst := &installs{next: uint32(s.me) << 16} // SPIs differ per side, as on real gateways
	return newSideWith(t, s, p, inst), inst
}

// newSideWith is newSide with the installer given.
func newSideWith(t testing.TB, s side, p *pipe, inst ike.Installer) *Engine {
	t.Helper()
	src := fmt.Sprintf(gatewayConfig, s.me, s.peer, s.group, s.hash, s.enc, s.psk, s.espEnc, s.espAuth) + s.extra
	if s.espAuth == "" {
		src = fmt.Sprintf(gatewayConfig, s.me, s.peer, s.group, s.hash, s.enc, s.psk, s.espEnc, "hmac-sha1-96")
		src = bytes.NewBufferString(src).String()
		src = replaceLine(src, "authentication-algorithm hmac-sha1-96") + s.extra
	}
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
	e := NewEngine(ike.Config{Transport: p, Installer: inst, Clock: s.clock, Logger: testLogger()})
	if err := e.AddPeer(peer); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.engines[peer.Local] = e
	p.mu.Unlock()
	return e
}

// replaceLine drops the line holding what (an AEAD proposal has no
// authentication-algorithm).
func replaceLine(src, what string) string {
	var out bytes.Buffer
	for _, l := range bytes.Split([]byte(src), []byte("\n")) {
		if !bytes.Contains(l, []byte(what)) && len(l) > 0 {
			out.Write(l)
			out.WriteByte('\n')
		}
	}
	return out.String()
}

// testLogger logs to stderr with IKEV1_DEBUG set.
func testLogger() *slog.Logger {
	if os.Getenv("IKEV1_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

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

func up(e *Engine) bool {
	for _, s := range e.SAs() {
		if s.State == "UP" && s.Children > 0 {
			return true
		}
	}
	return false
}

// TestMainModeAndQuickMode: two engines negotiate Main Mode and Quick Mode
// with the seed 001 defaults and stronger suites, with and without PFS; the
// IPsec SAs pair up (one side's outbound keys are the other's inbound).
func TestMainModeAndQuickMode(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		group, hash, enc       string
		espEnc, espAuth, extra string
	}{
		{"3des-sha1-group2", "group2", "sha1", "3des-cbc", "3des-cbc", "hmac-sha1-96", ""},
		{"aes256-sha256-group14", "group14", "sha-256", "aes-256-cbc", "aes-256-cbc", "hmac-sha-256-128", ""},
		{"aes128-sha1-group19-pfs", "group19", "sha1", "aes-128-cbc", "aes-128-cbc", "hmac-sha1-96",
			"set security ipsec policy ipol perfect-forward-secrecy keys group14\n"},
		{"aes256-gcm-esp", "group14", "sha-256", "aes-256-cbc", "aes-256-gcm", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			a, ia := newSide(t, side{1, 2, tc.group, tc.hash, tc.enc, "secret", tc.espEnc, tc.espAuth, tc.extra, nil}, p)
			b, ib := newSide(t, side{2, 1, tc.group, tc.hash, tc.enc, "secret", tc.espEnc, tc.espAuth, tc.extra, nil}, p)
			if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
				t.Fatal(err)
			}
			eventually(t, "both sides up", func() bool { return up(a) && up(b) })
			ca, cb := ia.get()[0], ib.get()[0]
			if ca.OutboundSPI != cb.InboundSPI || cb.OutboundSPI != ca.InboundSPI {
				t.Fatalf("SPIs do not pair: %+v %+v", ca, cb)
			}
			if !bytes.Equal(ca.Outbound.Encryption, cb.Inbound.Encryption) || !bytes.Equal(ca.Inbound.Integrity, cb.Outbound.Integrity) {
				t.Fatal("keys do not pair")
			}
			if bytes.Equal(ca.Outbound.Encryption, ca.Inbound.Encryption) {
				t.Fatal("both directions have the same key")
			}
			if ca.Encryption.IPsecKeyword != tc.espEnc {
				t.Fatalf("ESP cipher %s, want %s", ca.Encryption.IPsecKeyword, tc.espEnc)
			}
			a.Close()
			p.wg.Wait()
			eventually(t, "the DELETE to remove b's SAs", func() bool { _, r := ib.counts(); return r == 1 })
			b.Close()
		})
	}
}

func TestWrongPSK(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "right", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "wrong", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the failure", func() bool { return len(b.Failures()) > 0 })
	if f := b.Failures()[0]; f.Failure.Message != "authentication of the peer failed: message 5 does not decrypt (wrong pre-shared key)" {
		t.Fatalf("responder's reason %q", f.Failure.Message)
	}
	eventually(t, "the initiator's failure", func() bool { return len(a.Failures()) > 0 })
	if f := a.Failures()[0]; !strings.Contains(f.Failure.Message, "AUTHENTICATION") {
		t.Fatalf("initiator's reason %q", f.Failure.Message)
	}
	if n, _ := ib.counts(); n != 0 || up(a) {
		t.Fatal("SAs with a wrong key")
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}

func TestNoCommonProposal(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
	b, _ := newSide(t, side{2, 1, "group2", "sha-256", "3des-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the failures", func() bool { return len(a.Failures()) > 0 && len(b.Failures()) > 0 })
	if f := b.Failures()[0].Failure.Message; !bytes.Contains([]byte(f), []byte("no proposal chosen: peer offered [aes128-cbc")) {
		t.Fatalf("responder's reason %q", f)
	}
	if f := a.Failures()[0].Failure.Message; f != "peer refused Main Mode: NO-PROPOSAL-CHOSEN" && f != "peer refused Main Mode: NO_PROPOSAL_CHOSEN" {
		t.Fatalf("initiator's reason %q", f)
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestQuickModeRekey: at the soft lifetime the initiator runs a new Quick
// Mode; the new pair comes in before the old one is deleted on both sides.
func TestQuickModeRekey(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ipsec proposal ip1 lifetime-seconds 180\n"
	a, ia := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", life, clk}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", life, clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "up", func() bool { return up(a) && up(b) })
	clk.Advance(162 * time.Second) // past the initiator's soft lifetime only
	eventually(t, "the new pair", func() bool { n, _ := ib.counts(); m, _ := ia.counts(); return n == 2 && m == 2 })
	clk.Advance(2 * time.Second) // the old pair is deleted a second later
	eventually(t, "the old pair gone", func() bool {
		_, ra := ia.counts()
		_, rb := ib.counts()
		return ra == 1 && rb == 1
	})
	na, nb := ia.get()[1], ib.get()[1]
	if na.OutboundSPI != nb.InboundSPI || !bytes.Equal(na.Outbound.Encryption, nb.Inbound.Encryption) {
		t.Fatal("the rekeyed pair does not match")
	}
	for _, e := range []*Engine{a, b} {
		if sas := e.SAs(); len(sas) != 1 || sas[0].Children != 1 {
			t.Fatalf("after the rekey: %+v", sas)
		}
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestAggressiveMode: with mode aggressive both sides negotiate phase 1 in
// three messages and Quick Mode follows; a wrong key fails; a Main Mode
// responder refuses Aggressive Mode.
func TestAggressiveMode(t *testing.T) {
	aggr := "set security ike policy pol mode aggressive\n"
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia := newSide(t, side{1, 2, "group14", "sha-256", "aes-256-cbc", "secret", "aes-256-cbc", "hmac-sha-256-128", aggr, nil}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha-256", "aes-256-cbc", "secret", "aes-256-cbc", "hmac-sha-256-128", aggr, nil}, p)
	if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both sides up", func() bool { return up(a) && up(b) })
	ca, cb := ia.get()[0], ib.get()[0]
	if ca.OutboundSPI != cb.InboundSPI || !bytes.Equal(ca.Outbound.Encryption, cb.Inbound.Encryption) {
		t.Fatal("the pair does not match")
	}
	a.Close()
	b.Close()
	p.wg.Wait()

	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ = newSide(t, side{1, 2, "group14", "sha-256", "aes-256-cbc", "right", "aes-256-cbc", "hmac-sha-256-128", aggr, nil}, p)
	b, _ = newSide(t, side{2, 1, "group14", "sha-256", "aes-256-cbc", "wrong", "aes-256-cbc", "hmac-sha-256-128", aggr, nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the initiator's failure", func() bool { return len(a.Failures()) > 0 })
	if f := a.Failures()[0].Failure.Message; !strings.Contains(f, "HASH_R does not verify") {
		t.Fatalf("wrong key: %q", f)
	}
	a.Close()
	b.Close()
	p.wg.Wait()

	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ = newSide(t, side{1, 2, "group14", "sha-256", "aes-256-cbc", "k", "aes-256-cbc", "hmac-sha-256-128", aggr, nil}, p)
	b, ib = newSide(t, side{2, 1, "group14", "sha-256", "aes-256-cbc", "k", "aes-256-cbc", "hmac-sha-256-128", "", nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	time.Sleep(100 * time.Millisecond)
	if n, _ := ib.counts(); n != 0 || len(b.SAs()) != 0 {
		t.Fatal("a Main Mode responder answered Aggressive Mode")
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestSimultaneousInitiation: both sides initiate at once (their Main Mode
// message 1s cross); both ISAKMP SAs come up, then the one with the higher
// initiator cookie is deleted by its initiator: one ISAKMP SA is left, the
// same on both sides, carrying the IPsec SAs.
func TestSimultaneousInitiation(t *testing.T) {
	for range 4 {
		p := &pipe{engines: map[netip.Addr]*Engine{}}
		a, _ := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
		b, _ := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
		p.mu.Lock()
		p.hold = true
		p.mu.Unlock()
		a.Initiate(netip.MustParseAddr("192.0.2.2"))
		b.Initiate(netip.MustParseAddr("192.0.2.1"))
		p.release()
		eventually(t, "one ISAKMP SA each, the same, with IPsec SAs", func() bool {
			sa, sb := a.SAs(), b.SAs()
			return len(sa) == 1 && len(sb) == 1 && sa[0].State == "UP" && sb[0].State == "UP" &&
				sa[0].InitiatorSPI == sb[0].InitiatorSPI && sa[0].Children > 0 && sb[0].Children > 0
		})
		a.Close()
		b.Close()
		p.wg.Wait()
	}
}

// TestBackupGateway: the primary gateway does not answer; once the
// initiation gives up, the next one goes to the backup address (services
// backup-remote-gateway, or a gateway's second address), which answers.
func TestBackupGateway(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	kept := "set security ike gateway gw address [ 192.0.2.2 192.0.2.3 ]\nset security ipsec vpn vpn1 establish-tunnels immediately\n"
	a, ia := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", kept, clk}, p)
	// The backup, at 192.0.2.3, configured for a peer at 192.0.2.1.
	b, _ := newSide(t, side{3, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	for i := 0; i < 20 && !up(a); i++ {
		clk.Advance(4 * time.Second) // retransmissions, the give-up, the re-initiation
		p.wg.Wait()
		time.Sleep(2 * time.Millisecond)
	}
	if !up(a) || !up(b) {
		t.Fatalf("no tunnel to the backup: %+v / %+v", a.SAs(), a.Failures())
	}
	if sas := a.SAs(); sas[0].Remote != netip.MustParseAddr("192.0.2.3") {
		t.Fatalf("the tunnel is up with %s, want the backup 192.0.2.3", sas[0].Remote)
	}
	if f := a.Failures(); len(f) == 0 || !strings.HasPrefix(f[0].Failure.Message, "peer unreachable") {
		t.Fatalf("the primary's failure: %+v", f)
	}
	if n, _ := ia.counts(); n != 1 {
		t.Fatalf("%d pairs installed", n)
	}
	a.Close()
	b.Close()
	p.wg.Wait()
}
