package ikev2

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// caught keeps back the messages pick chooses, for the test to deliver
// itself in the order it wants (deliver). Its methods run under the
// pipe's lock but deliver.
type caught struct {
	pick func(h wire.Header) bool
	msgs [][]byte
}

// catch has the pipe keep back the messages pick chooses; nil pick stops.
func (p *pipe) catch(pick func(h wire.Header) bool) *caught {
	c := &caught{pick: pick}
	p.mu.Lock()
	p.drop = func(b []byte) bool {
		h, err := wire.ParseHeader(b)
		if err != nil || !c.pick(h) {
			return false
		}
		c.msgs = append(c.msgs, bytes.Clone(b))
		return true
	}
	p.mu.Unlock()
	return c
}

// next waits for the i-th message caught (from 0) and returns it.
func (c *caught) next(t *testing.T, p *pipe, i int, what string) []byte {
	t.Helper()
	within(t, what, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(c.msgs) > i })
	p.mu.Lock()
	defer p.mu.Unlock()
	return c.msgs[i]
}

// deliver hands msg, sent by the engine at from, to e, the engine at to,
// and waits for what that sent to be handled.
func deliver(p *pipe, e *Engine, msg []byte, from, to netip.Addr) {
	e.HandleMessage(msg, netip.AddrPortFrom(from, 500), netip.AddrPortFrom(to, 500))
	p.wg.Wait()
}

// requestsOn counts the requests of one exchange that the original
// initiator of the IKE SA of initiator SPI spi sent on it, from a pipe's
// tap.
type requestsOn struct {
	spi uint64
	x   wire.ExchangeType
	n   int
}

func (r *requestsOn) tap(b []byte, _, _ netip.AddrPort) {
	if h, err := wire.ParseHeader(b); err == nil && h.InitiatorSPI == r.spi && h.Exchange == r.x && !h.IsResponse() && h.FromInitiator() {
		r.n++
	}
}

func (r *requestsOn) count(p *pipe) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.n
}

var addrA, addrB = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")

// peerRekeyWindow brings vpn1 up on an IKE SA a initiates, has b rekey
// it, and returns with a's old IKE SA replaced and still up: b's DELETE
// of it is caught (returned). confA and confB are twoVPNs' extras;
// before runs on the old IKE SA up, before the rekey (nil: nothing);
// after, the pipe's tap counts a's CREATE_CHILD_SA requests on the old
// IKE SA (creates).
func peerRekeyWindow(t *testing.T, confA, confB string, before func(a, b *Engine, p *pipe, old ike.SAInfo)) (a, b *Engine,
	p *pipe, clk *clock.Fake, old ike.SAInfo, del []byte, creates *requestsOn) {
	t.Helper()
	clk = clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a = sideClock(t, vpnSideConfig(1, 2, confA), p, newVPNInstalls(), clk)
	b = sideClock(t, vpnSideConfig(2, 1, confB), p, newVPNInstalls(), clk)
	if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn1", strings.Contains(confA, "on-traffic")); err != nil {
		t.Fatal(err)
	}
	within(t, "a's IKE SA up with vpn1", func() bool { return len(childrenOf(a)["vpn1"]) == 1 && len(childrenOf(b)["vpn1"]) == 1 })
	p.wg.Wait()
	old = liveSAs(a)[0]
	if before != nil {
		before(a, b, p, old)
	}
	deletes := p.catch(func(h wire.Header) bool {
		return h.InitiatorSPI == old.InitiatorSPI && h.Exchange == wire.INFORMATIONAL && !h.IsResponse() && !h.FromInitiator()
	})
	if n := b.RekeyIKE(func(ike.SAInfo) bool { return true }); n != 1 {
		t.Fatalf("%d IKE SA rekeys started at b, want 1", n)
	}
	del = deletes.next(t, p, 0, "b's DELETE of the old IKE SA")
	within(t, "a: the new IKE SA up beside the old", func() bool { return len(liveSAs(a)) == 2 })
	creates = &requestsOn{spi: old.InitiatorSPI, x: wire.CREATE_CHILD_SA}
	p.mu.Lock()
	p.tap = creates.tap
	p.mu.Unlock()
	return a, b, p, clk, old, del, creates
}

// onNewSA checks that e has one IKE SA, not old, with one Child SA of
// each VPN named, and that vpnInstalls made each of them once.
func onNewSA(t *testing.T, e *Engine, who string, old ike.SAInfo, vpns ...string) {
	t.Helper()
	now := oneSAWith(t, e, who, vpns...)
	if now.InitiatorSPI == old.InitiatorSPI {
		t.Fatalf("%s: the Child SAs are on the old IKE SA %x", who, old.InitiatorSPI)
	}
	for _, v := range vpns {
		if made, _, _, _ := e.installer.(*vpnInstalls).counts(v); made != 1 {
			t.Fatalf("%s: %d Child SAs of %s made, want 1", who, made, v)
		}
	}
}

// TestTrafficInPeerRekeyWindow: b rekeyed the IKE SA, and a, which
// answered, still has the old one up (b's DELETE of it not yet come) when
// traffic asks for vpn2 (on-traffic). vpn2 is asked for on the new IKE
// SA, never on the old: before, InitiateVPNFrom took either IKE SA up,
// and a Child SA made on the old one went with it a moment later.
func TestTrafficInPeerRekeyWindow(t *testing.T) {
	conf := func(me, peer int) string { return fmt.Sprintf(twoVPNs, me, peer, "on-traffic", fmt.Sprint(peer)) }
	a, b, p, clk, old, del, creates := peerRekeyWindow(t, conf(1, 2), conf(2, 1), nil)
	for range 10 { // its traffic, again and again: either IKE SA may be listed first
		if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn2", true); err != nil {
			t.Fatal(err)
		}
	}
	p.wg.Wait()
	if n := creates.count(p); n != 0 {
		t.Fatalf("a asked %d times for a Child SA on the IKE SA b's rekey replaced", n)
	}
	deliver(p, a, del, addrB, addrA)
	runClock(p, clk, responderVPNWait+time.Second)
	onNewSA(t, a, "a", old, "vpn1", "vpn2")
	onNewSA(t, b, "b", old, "vpn1", "vpn2")
}

// TestRetryInPeerRekeyWindow: vpn2, kept up at a, was refused on the IKE
// SA (createFailed's retry armed for ike.ReinitiateDelay), b's vpn2 is
// mended, and b rekeys the IKE SA; b's DELETE of the old one is late.
// The new IKE SA asks for vpn2 (responderVPNWait); the old one's retry
// fires meanwhile and asks for nothing. Before, it asked, for every VPN
// kept up (it had no Child SA left), and each Child SA it made went with
// it when the DELETE came.
func TestRetryInPeerRekeyWindow(t *testing.T) {
	refused := func(a, b *Engine, p *pipe, _ ike.SAInfo) {
		within(t, "a's vpn2 refused", func() bool {
			up := liveSAs(a)
			return len(up) == 1 && strings.Contains(up[0].Failure.Message, "TS_UNACCEPTABLE")
		})
		p.wg.Wait()
		addVPNFrom(t, b, vpnSideConfig(2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1")), "vpn2")
	}
	a, b, p, clk, old, del, creates := peerRekeyWindow(t, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2"),
		fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "9"), refused)
	runClock(p, clk, ike.ReinitiateDelay+time.Second)
	if n := creates.count(p); n != 0 {
		t.Fatalf("a asked %d times for a Child SA on the IKE SA b's rekey replaced", n)
	}
	deliver(p, a, del, addrB, addrA)
	onNewSA(t, a, "a", old, "vpn1", "vpn2")
	onNewSA(t, b, "b", old, "vpn1", "vpn2")
}

// TestIKERekeyWhileCreateOut: a asks for vpn2 on the IKE SA, b answers
// (its Child SA made there), and the answer is held back while b rekeys
// the IKE SA. a answers the rekey TEMPORARY_FAILURE (§2.25: its own
// CREATE_CHILD_SA is out), the answer then comes, and b rekeys again a
// moment later (retryIKERekeyLater): vpn1 and vpn2 on the new IKE SA with
// one Child SA each, none asked for twice. Before, a accepted the rekey,
// b's DELETE of the old IKE SA overtook the answer, and a's new IKE SA
// asked for vpn2 again: b held two Child SAs of it, one without a partner.
func TestIKERekeyWhileCreateOut(t *testing.T) {
	clk, p, a, b, old := vpn1UpByTraffic(t)
	answers := p.catch(func(h wire.Header) bool {
		return h.InitiatorSPI == old.InitiatorSPI && h.Exchange == wire.CREATE_CHILD_SA && h.IsResponse() && !h.FromInitiator()
	})
	if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn2", true); err != nil {
		t.Fatal(err)
	}
	answer := answers.next(t, p, 0, "b's answer to a's CREATE_CHILD_SA for vpn2")
	p.catch(func(wire.Header) bool { return false })
	if n := b.RekeyIKE(func(ike.SAInfo) bool { return true }); n != 1 {
		t.Fatalf("%d IKE SA rekeys started at b, want 1", n)
	}
	p.wg.Wait()
	if up := liveSAs(a); len(up) != 1 || up[0].InitiatorSPI != old.InitiatorSPI {
		t.Fatalf("a: IKE SAs %v after b's rekey while a's CREATE_CHILD_SA was out, want the old one alone", up)
	}
	if up := liveSAs(b); len(up) != 1 {
		t.Fatalf("b: %d IKE SAs up after its rekey was refused, want 1", len(up))
	}
	deliver(p, a, answer, addrB, addrA)
	runClock(p, clk, 2*rekeyRetryDelay+time.Second)
	onNewSA(t, a, "a", old, "vpn1", "vpn2")
	onNewSA(t, b, "b", old, "vpn1", "vpn2")
	runClock(p, clk, responderVPNWait+time.Second)
	onNewSA(t, a, "a", old, "vpn1", "vpn2")
	onNewSA(t, b, "b", old, "vpn1", "vpn2")
}

// notFollowing225 has e's IKE SA of local SPI spi forget that its
// CREATE_CHILD_SA is out, so that it accepts the peer's IKE SA rekey as a
// peer that does not follow RFC 7296 §2.25 does (refuseRekeyWhileCreating
// refuses it); the func returned has it remember, and moves that VPN's
// want to the new IKE SA as the hand-over would have had it remembered
// (takeWants moves a want whose request is out).
func notFollowing225(e *Engine, spi uint64) (remember func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sa := e.sas[spi]
	create := sa.create
	sa.create = nil
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		sa.create = create
		if n := sa.replacedBy; n != nil {
			n.takeWants(sa)
		}
	}
}

// TestLateCreateAnswerAfterPeerRekey: a asks for vpn2 on the IKE SA, b
// answers (its Child SA made there) and then rekeys the IKE SA, which
// moves that Child SA to the new IKE SA at b; the answer reaches a after
// a answered the rekey, and b's DELETE of the old IKE SA after that. a's
// Child SA goes to the new IKE SA too, and vpn2 stays up on both sides
// with one Child SA, none asked for again. Before, a installed it on the
// old IKE SA, the DELETE took it, and b's was left without a partner. a
// answers the rekey as a peer that does not follow §2.25 would
// (notFollowing225): it refuses it now (TestIKERekeyWhileCreateOut).
func TestLateCreateAnswerAfterPeerRekey(t *testing.T) {
	conf := func(me, peer int) string { return fmt.Sprintf(twoVPNs, me, peer, "on-traffic", fmt.Sprint(peer)) }
	var answer []byte
	var remember func()
	asked := func(a, b *Engine, p *pipe, old ike.SAInfo) {
		answers := p.catch(func(h wire.Header) bool {
			return h.InitiatorSPI == old.InitiatorSPI && h.Exchange == wire.CREATE_CHILD_SA && h.IsResponse() && !h.FromInitiator()
		})
		if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn2", true); err != nil {
			t.Fatal(err)
		}
		answer = answers.next(t, p, 0, "b's answer to a's CREATE_CHILD_SA for vpn2")
		within(t, "b: vpn2's Child SA made", func() bool { return len(childrenOf(b)["vpn2"]) == 1 })
		remember = notFollowing225(a, old.InitiatorSPI)
	}
	a, b, p, clk, old, del, creates := peerRekeyWindow(t, conf(1, 2), conf(2, 1), asked)
	remember()
	deliver(p, a, answer, addrB, addrA)
	deliver(p, a, del, addrB, addrA)
	if cs := childrenOf(a); len(cs["vpn2"]) != 1 {
		t.Fatalf("a: %d Child SAs of vpn2 once the old IKE SA is gone, want the one b answered for", len(cs["vpn2"]))
	}
	onNewSA(t, a, "a", old, "vpn1", "vpn2")
	onNewSA(t, b, "b", old, "vpn1", "vpn2")
	runClock(p, clk, responderVPNWait+time.Second)
	onNewSA(t, a, "a", old, "vpn1", "vpn2")
	onNewSA(t, b, "b", old, "vpn1", "vpn2")
	if n := creates.count(p); n != 0 {
		t.Fatalf("a asked %d times for a Child SA on the old IKE SA after the rekey", n)
	}
}

// TestLateCreateRequestAfterRekey: a asks for vpn2 on the IKE SA as b
// rekeys it, and a's request reaches b after b's rekey is done (b's
// DELETE of the old IKE SA out). b answers TEMPORARY_FAILURE rather than
// make a Child SA on an IKE SA it is deleting, and a's new IKE SA asks
// for vpn2 (takeWants): one Child SA of vpn2 on each side, on the new
// IKE SA. Before, b made the Child SA on the old IKE SA, and a, which
// moves a late answer's Child SA to the new IKE SA, kept one b had not.
// a answers the rekey as a peer that does not follow §2.25 would
// (notFollowing225): it refuses it now (TestIKERekeyWhileCreateOut).
func TestLateCreateRequestAfterRekey(t *testing.T) {
	conf := func(me, peer int) string { return fmt.Sprintf(twoVPNs, me, peer, "on-traffic", fmt.Sprint(peer)) }
	var request []byte
	var remember func()
	asked := func(a, b *Engine, p *pipe, old ike.SAInfo) {
		requests := p.catch(func(h wire.Header) bool {
			return h.InitiatorSPI == old.InitiatorSPI && h.Exchange == wire.CREATE_CHILD_SA && !h.IsResponse() && h.FromInitiator()
		})
		if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn2", true); err != nil {
			t.Fatal(err)
		}
		request = requests.next(t, p, 0, "a's CREATE_CHILD_SA for vpn2")
		remember = notFollowing225(a, old.InitiatorSPI)
	}
	a, b, p, clk, old, del, _ := peerRekeyWindow(t, conf(1, 2), conf(2, 1), asked)
	remember()
	deliver(p, b, request, addrA, addrB)
	if cs := childrenOf(b); len(cs["vpn2"]) != 0 {
		t.Fatalf("b made %d Child SAs of vpn2 on the IKE SA it is deleting", len(cs["vpn2"]))
	}
	deliver(p, a, del, addrB, addrA)
	runClock(p, clk, responderVPNWait+time.Second)
	onNewSA(t, a, "a", old, "vpn1", "vpn2")
	onNewSA(t, b, "b", old, "vpn1", "vpn2")
}

// TestRefusedForMinutesOutOfSync: a peer that answers every IKE SA rekey
// of ours with TEMPORARY_FAILURE is retried for refusedFor, and then
// taken as out of sync (§2.25): the IKE SA is deleted on both sides, not
// retried every second or two for its life.
func TestRefusedForMinutesOutOfSync(t *testing.T) {
	clk, p, a, b, old := vpn1UpByTraffic(t)
	// b's CREATE_CHILD_SA for vpn2 stays out for good, as far as b's
	// refuseRekeyWhileCreating can tell: every rekey of a's is refused.
	b.mu.Lock()
	for spi, sa := range b.sas {
		if spi == sa.localSPI() {
			sa.create = &childCreate{vpn: sa.peer.vpnNamed("vpn2")}
		}
	}
	b.mu.Unlock()
	if n := a.RekeyIKE(func(ike.SAInfo) bool { return true }); n != 1 {
		t.Fatalf("%d IKE SA rekeys started at a, want 1", n)
	}
	runClock(p, clk, refusedFor-30*time.Second)
	if up := liveSAs(a); len(up) != 1 || up[0].InitiatorSPI != old.InitiatorSPI {
		t.Fatalf("a: IKE SAs %v after %v of refused rekeys, want the old one still up", up, refusedFor-30*time.Second)
	}
	runClock(p, clk, time.Minute)
	if up := liveSAs(a); len(up) != 0 {
		t.Fatalf("a: IKE SAs %v after %v of refused rekeys, want none (out of sync, deleted)", up, refusedFor+30*time.Second)
	}
	if up := liveSAs(b); len(up) != 0 {
		t.Fatalf("b: IKE SAs %v after a deleted the IKE SA, want none", up)
	}
}

// vpn1UpByTraffic is a and b on a fake clock, vpn1 and vpn2 on-traffic,
// vpn1 up on the IKE SA a's traffic made (old).
func vpn1UpByTraffic(t *testing.T) (clk *clock.Fake, p *pipe, a, b *Engine, old ike.SAInfo) {
	t.Helper()
	conf := func(me, peer int) string { return fmt.Sprintf(twoVPNs, me, peer, "on-traffic", fmt.Sprint(peer)) }
	clk = clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a = sideClock(t, vpnSideConfig(1, 2, conf(1, 2)), p, newVPNInstalls(), clk)
	b = sideClock(t, vpnSideConfig(2, 1, conf(2, 1)), p, newVPNInstalls(), clk)
	if err := a.InitiateVPNFrom(netip.Addr{}, addrB, "vpn1", true); err != nil {
		t.Fatal(err)
	}
	within(t, "the IKE SA up with vpn1", func() bool { return len(childrenOf(a)["vpn1"]) == 1 && len(childrenOf(b)["vpn1"]) == 1 })
	p.wg.Wait()
	return clk, p, a, b, liveSAs(a)[0]
}
