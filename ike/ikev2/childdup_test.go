package ikev2

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"ipsecgw/ike"
	"ipsecgw/test/syncbuf"
)

// vpnInstalls tracks the Child SAs installed per VPN, and whether one
// VPN's went from some to none (traffic stopped).
type vpnInstalls struct {
	installs
	live    map[string]int
	made    map[string]int
	stopped map[string]bool
}

func newVPNInstalls() *vpnInstalls {
	return &vpnInstalls{live: map[string]int{}, made: map[string]int{}, stopped: map[string]bool{}}
}

func (i *vpnInstalls) InstallChild(vpn string, c *ike.ChildSA) error {
	i.mu.Lock()
	i.live[vpn]++
	i.made[vpn]++
	i.mu.Unlock()
	return i.installs.InstallChild(vpn, c)
}

func (i *vpnInstalls) RemoveChild(vpn string, c *ike.ChildSA) {
	i.mu.Lock()
	if i.live[vpn]--; i.live[vpn] == 0 {
		i.stopped[vpn] = true
	}
	i.mu.Unlock()
	i.installs.RemoveChild(vpn, c)
}

// counts are the VPN's Child SAs made, removed and live, and whether they
// ever went to none.
func (i *vpnInstalls) counts(vpn string) (made, removed, live int, stopped bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.made[vpn], i.removed, i.live[vpn], i.stopped[vpn]
}

// TestSimultaneousChildCreation: both sides ask for vpn2's Child SA on
// the IKE SA at once (the peer initiates it while we do); the two
// CREATE_CHILD_SA requests cross, each side answers the other's, and each
// holds two Child SA pairs for vpn2. RFC 7296 §2.8.1's rule settles it:
// one pair is deleted, by the side that created it, and both sides end
// with the same one pair, vpn2's traffic never without an SA on either
// side; vpn1's is left alone. Run twice (the nonces pick either side's),
// and with additional key exchanges (IKE_FOLLOWUP_KE) after each
// CREATE_CHILD_SA. And with a peer that keeps its redundant Child SA
// (its DELETEs never get through): the other side deletes it itself after
// duplicateChildWait (childdupkept.go).
func TestSimultaneousChildCreation(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		peerKeeps   bool
	}{{"0", "", false}, {"1", "", false}, {"addke", pfsAddKE, false}, {"peer-keeps", "", true}} {
		t.Run(tc.name, func(t *testing.T) { testSimultaneousChildCreation(t, tc.extra, tc.peerKeeps) })
	}
}

func testSimultaneousChildCreation(t *testing.T, extra string, peerKeeps bool) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	ia, ib := newVPNInstalls(), newVPNInstalls()
	a := sideWith(t, vpnSideConfig(1, 2, fmt.Sprintf(twoVPNs, 1, 2, "responder-only", "2")+extra), p, ia)
	b := sideWith(t, vpnSideConfig(2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1")+extra), p, ib)
	var la, lb syncbuf.Buffer
	a.log, b.log = slog.New(slog.NewTextHandler(&la, nil)), slog.New(slog.NewTextHandler(&lb, nil))
	ra, rb := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn1", false); err != nil {
		t.Fatal(err)
	}
	oneSAWith(t, a, "initiator", "vpn1")
	oneSAWith(t, b, "responder", "vpn1")
	vpn1 := childrenOf(a)["vpn1"][0]

	// Every message waits until both sides have sent their request (the
	// IKE SA's responder asks after responderVPNWait), so they cross.
	var mu sync.Mutex
	sent := map[netip.Addr]bool{}
	p.mu.Lock()
	p.hold = true
	p.tap = func(_ []byte, from, _ netip.AddrPort) { mu.Lock(); sent[from.Addr()] = true; mu.Unlock() }
	if peerKeeps {
		p.drop = keepsRedundantChild(&la, &lb)
	}
	p.mu.Unlock()
	if err := a.InitiateVPNFrom(netip.Addr{}, ra, "vpn2", false); err != nil {
		t.Fatal(err)
	}
	if err := b.InitiateVPNFrom(netip.Addr{}, rb, "vpn2", false); err != nil {
		t.Fatal(err)
	}
	within(t, "both sides' CREATE_CHILD_SA requests sent", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(sent) == 2
	})
	p.release()

	within(t, "two vpn2 Child SAs made on each side, then one removed on each", func() bool {
		madeA, goneA, _, _ := ia.counts("vpn2")
		madeB, goneB, _, _ := ib.counts("vpn2")
		return madeA == 2 && madeB == 2 && goneA == 1 && goneB == 1
	})
	// Whatever the engines were doing is done (they hold their lock while
	// sending), and whatever they sent is handled: a second DELETE (both
	// sides deleting) would show.
	childrenOf(a)
	childrenOf(b)
	p.wg.Wait()
	for who, i := range map[string]*vpnInstalls{"a": ia, "b": ib} {
		if _, _, live, stopped := i.counts("vpn2"); live != 1 || stopped {
			t.Fatalf("%s: %d vpn2 Child SAs live (want 1); went to none on the way: %v", who, live, stopped)
		}
	}
	// Both sides saw both Child SAs and agreed which is redundant.
	ours, theirs := "ours is redundant; deleting it", "the peer's is redundant; it deletes it"
	if la, lb := la.String(), lb.String(); !(strings.Contains(la, ours) && strings.Contains(lb, theirs) ||
		strings.Contains(lb, ours) && strings.Contains(la, theirs)) {
		t.Fatalf("the sides did not agree on the redundant Child SA:\na: %s\nb: %s", la, lb)
	}
	if kept := "that the peer kept; deleting it"; peerKeeps && !strings.Contains(la.String()+lb.String(), kept) {
		t.Fatalf("neither side deleted the redundant Child SA the peer kept:\na: %s\nb: %s", la.String(), lb.String())
	}
	ca, cb := childrenOf(a), childrenOf(b)
	if len(ca["vpn2"]) != 1 || len(cb["vpn2"]) != 1 {
		t.Fatalf("vpn2 Child SAs: %d on a, %d on b, want one each", len(ca["vpn2"]), len(cb["vpn2"]))
	}
	x, y := ca["vpn2"][0], cb["vpn2"][0]
	if x.OutboundSPI != y.InboundSPI || y.OutboundSPI != x.InboundSPI {
		t.Fatalf("the sides kept different vpn2 Child SAs: a %s/%s, b %s/%s",
			spiHex(x.InboundSPI), spiHex(x.OutboundSPI), spiHex(y.InboundSPI), spiHex(y.OutboundSPI))
	}
	if extra != "" && (len(x.AddKE) == 0 || len(y.AddKE) == 0) {
		t.Fatalf("vpn2's Child SAs ran no additional key exchange: %v, %v", x.AddKE, y.AddKE)
	}
	if len(ca["vpn1"]) != 1 || ca["vpn1"][0] != vpn1 {
		t.Fatalf("vpn1's Child SA changed: %v", ca["vpn1"])
	}
	for _, e := range []*Engine{a, b} {
		if up := liveSAs(e); len(up) != 1 || up[0].Children != 2 {
			t.Fatalf("IKE SAs %+v, want one with two Child SAs", up)
		}
	}
}
