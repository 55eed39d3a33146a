package ikev2

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/fragment"
	"ipsecgw/ike/wire"
)

// fragWire records what crosses a pipe and can hold back chosen messages.
type fragWire struct {
	mu   sync.Mutex
	sent [][]byte // every message, in order
	// hold, when set, says which messages to keep back instead of
	// delivering (kept in held).
	hold func(h wire.Header, f *wire.EncryptedFragment) bool
	held [][]byte
}

func (w *fragWire) watch(b []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = append(w.sent, append([]byte(nil), b...))
	m, err := wire.Parse(b)
	if err != nil || w.hold == nil {
		return false
	}
	f, _ := skf(m)
	if w.hold(m.Header, f) {
		w.held = append(w.held, append([]byte(nil), b...))
		return true
	}
	return false
}

// skfs returns the fragments sent that match: requests (from the
// initiator) or responses.
func (w *fragWire) skfs(response bool) []*wire.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*wire.Message
	for _, b := range w.sent {
		m, err := wire.Parse(append([]byte(nil), b...))
		if err != nil {
			continue
		}
		if _, ok := skf(m); ok && m.Header.IsResponse() == response {
			out = append(out, m)
		}
	}
	return out
}

func (w *fragWire) heldCopy() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.held)
}

// fragPair is two engines whose peers cut messages for datagram-byte
// datagrams, joined by a pipe watched by a fragWire.
func fragPair(t *testing.T, ikeEnc string, datagram int, clk clock.Clock, noFragA bool) (a, b *Engine, w *fragWire, p *pipe) {
	t.Helper()
	p = &pipe{engines: map[netip.Addr]*Engine{}}
	w = &fragWire{}
	p.drop = w.watch
	a, _, pa := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: ikeEnc, psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
	b, _, pb := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: ikeEnc, psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
	pa.FragmentSize, pb.FragmentSize = datagram, datagram
	pa.NoFragmentation = noFragA
	t.Cleanup(func() {
		a.Close()
		b.Close()
		p.wg.Wait()
	})
	return a, b, w, p
}

// TestFragmentedHandshake: with 200-byte datagrams both IKE_AUTH messages
// go as SKF fragments, each fitting its datagram, and the SAs come up
// with fragmentation shown as negotiated; with an AEAD and with CBC.
func TestFragmentedHandshake(t *testing.T) {
	for _, enc := range []string{"aes-256-gcm", "aes-128-cbc"} {
		t.Run(enc, func(t *testing.T) {
			a, b, w, _ := fragPair(t, enc, 200, nil, false)
			if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
				t.Fatal(err)
			}
			sa, sb := waitUp(t, a), waitUp(t, b)
			for _, m := range append(w.skfs(false), w.skfs(true)...) {
				if len(m.Raw)+28 > 200 || m.Header.Exchange != wire.IKE_AUTH {
					t.Fatalf("fragment of %d bytes in %v", len(m.Raw), m.Header.Exchange)
				}
			}
			req, resp := w.skfs(false), w.skfs(true)
			if len(req) < 2 || len(resp) < 2 {
				t.Fatalf("%d request and %d response fragments, want IKE_AUTH cut both ways", len(req), len(resp))
			}
			fa, fb := a.FragmentStats(), b.FragmentStats()
			if fa.MessagesSent != 1 || fb.MessagesSent != 1 || fa.FragmentsSent != uint64(len(req)) || fb.FragmentsSent != uint64(len(resp)) ||
				fa.Reassembled != 1 || fb.Reassembled != 1 || fb.Received != uint64(len(req)) || fa.Received != uint64(len(resp)) {
				t.Fatalf("initiator %+v, responder %+v (%d and %d fragments on the wire)", fa, fb, len(req), len(resp))
			}
			if !sa.Fragmentation || !sb.Fragmentation || sa.FragmentSize != 200 || sa.OutFragments != uint64(len(req)) || sb.InFragments != uint64(len(req)) {
				t.Fatalf("SA info %+v / %+v", sa, sb)
			}
			// An established SA fragments what does not fit: a DELETE is
			// small and goes whole.
			if n := len(w.skfs(false)); n != len(req) {
				t.Fatalf("more fragments after the handshake: %d", n)
			}
		})
	}
}

// TestFragmentationNotNegotiated: with fragmentation disable on one side
// nobody says IKEV2_FRAGMENTATION_SUPPORTED; the too-large IKE_AUTH
// messages go whole (RFC 7383 §2.4: never fragments the peer cannot
// read), and are counted as such.
func TestFragmentationNotNegotiated(t *testing.T) {
	a, b, w, _ := fragPair(t, "aes-256-gcm", 200, nil, true)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	sa, sb := waitUp(t, a), waitUp(t, b)
	if sa.Fragmentation || sb.Fragmentation {
		t.Fatalf("fragmentation negotiated: %+v %+v", sa, sb)
	}
	if n := len(w.skfs(false)) + len(w.skfs(true)); n != 0 {
		t.Fatalf("%d fragments sent without fragmentation negotiated", n)
	}
	w.mu.Lock()
	for _, b := range w.sent {
		m, _ := wire.Parse(append([]byte(nil), b...))
		if _, ok := wire.FindNotify(m.Payloads, wire.IKEV2_FRAGMENTATION_SUPPORTED); ok {
			t.Errorf("IKEV2_FRAGMENTATION_SUPPORTED sent in %v", m.Header.Exchange)
		}
	}
	w.mu.Unlock()
	if fa, fb := a.FragmentStats(), b.FragmentStats(); fa.WholeTooBig != 1 || fb.WholeTooBig != 1 || fa.MessagesSent+fb.MessagesSent != 0 {
		t.Fatalf("initiator %+v, responder %+v", fa, fb)
	}
}

// TestFragmentRetransmission: the last fragment of the IKE_AUTH request is
// lost once, then the first of the response: each time the initiator
// resends every fragment of its request, and the responder answers a
// retransmission with every fragment of its response.
func TestFragmentRetransmission(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b, w, p := fragPair(t, "aes-256-gcm", 200, clk, false)
	lostReq, lostResp := false, false
	w.hold = func(h wire.Header, f *wire.EncryptedFragment) bool {
		switch {
		case f == nil:
		case !h.IsResponse() && f.Number == f.Total && !lostReq:
			lostReq = true
			return true
		case h.IsResponse() && f.Number == 1 && !lostResp:
			lostResp = true
			return true
		}
		return false
	}
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	lost := func(which *bool) func() bool {
		return func() bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			return *which
		}
	}
	eventually(t, "the request's last fragment lost", lost(&lostReq))
	p.wg.Wait()
	clk.Advance(ike.Backoff(1))
	eventually(t, "the response's first fragment lost", lost(&lostResp))
	p.wg.Wait()
	clk.Advance(ike.Backoff(2))
	waitUp(t, a)
	waitUp(t, b)
	req, resp := w.skfs(false), w.skfs(true)
	n := int(req[0].Payloads[0].(*wire.EncryptedFragment).Total)
	m := int(resp[0].Payloads[0].(*wire.EncryptedFragment).Total)
	// The pipe delivers each datagram on a goroutine of its own, so a
	// resent fragment 1 may come after the others made the message whole
	// and draw the answer again at once (then the third request is not
	// needed); every send is a whole set either way.
	if len(req)%n != 0 || len(req) < 2*n || len(req) > 3*n || len(resp)%m != 0 || len(resp) < 2*m || len(resp) > 3*m {
		t.Fatalf("%d request fragments sent (of %d, want 2 or 3 sends), %d response fragments (of %d, want 2 or 3 sends)", len(req), n, len(resp), m)
	}
	fb := b.FragmentStats()
	if fb.Reassembled != 1 || fb.FragmentsSent != uint64(len(resp)) {
		t.Fatalf("responder %+v", fb)
	}
}

// TestFragmentsOutOfOrder: the request's fragments arrive in reverse
// order, each twice; the message is made whole once, the second copies
// are counted as duplicates, and the SA comes up.
func TestFragmentsOutOfOrder(t *testing.T) {
	a, b, w, _ := fragPair(t, "aes-128-cbc", 200, nil, false)
	w.hold = func(h wire.Header, f *wire.EncryptedFragment) bool { return f != nil && !h.IsResponse() }
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	held := waitHeld(t, w)
	from, to := netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500")
	for _, f := range slices.Backward(held) {
		b.HandleMessage(slices.Clone(f), from, to)
		b.HandleMessage(slices.Clone(f), from, to)
	}
	waitUp(t, a)
	waitUp(t, b)
	// The second copy of fragment 1, the last, is a retransmission of a
	// request answered: the answer is sent again, all of it, unopened.
	resp := len(w.skfs(true))
	if fb := b.FragmentStats(); fb.Reassembled != 1 || fb.Duplicate != uint64(len(held)-1) || fb.Received != uint64(2*len(held)-1) ||
		fb.FragmentsSent != uint64(resp) || resp%2 != 0 {
		t.Fatalf("responder %+v after %d fragments twice in reverse; %d response fragments", fb, len(held), resp)
	}
}

// waitHeld waits until every fragment of the IKE_AUTH request is held.
func waitHeld(t *testing.T, w *fragWire) [][]byte {
	t.Helper()
	var held [][]byte
	eventually(t, "the request's fragments", func() bool {
		held = w.heldCopy()
		if len(held) == 0 {
			return false
		}
		m, err := wire.Parse(slices.Clone(held[0]))
		if err != nil {
			return false
		}
		f, _ := skf(m)
		return len(held) == int(f.Total)
	})
	return held
}

// forge seals an SKF fragment of the IKE_AUTH request with the
// initiator's keys, as a peer that means harm could.
func forge(t testing.TB, e *Engine, number, total uint16, first wire.PayloadType, piece []byte) []byte {
	return forgeMessage(t, e, wire.IKE_AUTH, 1, number, total, first, piece)
}

// forgeMessage seals an SKF fragment of request id with the initiator's
// keys.
func forgeMessage(t testing.TB, e *Engine, x wire.ExchangeType, id uint32, number, total uint16, first wire.PayloadType, piece []byte) []byte {
	t.Helper()
	return initiatorKeys(t, e).fragment(t, x, id, number, total, first, piece)
}

// forger seals fragments as an initiator: its SPIs and its cipher, kept
// when its SA is gone.
type forger struct {
	spiI, spiR uint64
	out        *messageCipher
}

func initiatorKeys(t testing.TB, e *Engine) forger {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sa := range e.sas {
		if sa.initiator && sa.out != nil {
			return forger{sa.spiI, sa.spiR, sa.out}
		}
	}
	t.Fatal("no initiator SA with keys")
	return forger{}
}

func (f forger) fragment(t testing.TB, x wire.ExchangeType, id uint32, number, total uint16, first wire.PayloadType, piece []byte) []byte {
	t.Helper()
	h := wire.Header{InitiatorSPI: f.spiI, ResponderSPI: f.spiR, Exchange: x, Flags: wire.FlagInitiator, MessageID: id}
	out, r, err := (&wire.Message{Header: h}).AppendFragment(nil, first, number, total, piece, f.out.sizes())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.out.sealRegions(r); err != nil {
		t.Fatal(err)
	}
	return out
}

// responderHeld is what the responder's SA holds in reassembly.
func responderHeld(e *Engine) (pending, bytes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sa := range e.sas {
		if r := sa.frag.reasm; r != nil {
			pending += r.Pending()
			bytes += r.Held()
		}
	}
	return pending, bytes
}

// TestReassemblyLimits: fragments that authenticate but ask too much are
// dropped and counted, and what is held stays within the limits: too
// many fragments, a message past the size limit, a half-received message
// past the timeout, a fragment whose ICV fails, fragments with
// fragmentation not negotiated.
func TestReassemblyLimits(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b, w, _ := fragPair(t, "aes-256-gcm", 200, clk, false)
	w.hold = func(h wire.Header, f *wire.EncryptedFragment) bool { return f != nil && !h.IsResponse() }
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitHeld(t, w)
	from, to := netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500")
	deliver := func(m []byte) { b.HandleMessage(m, from, to) }
	limits := fragment.DefaultLimits

	deliver(forge(t, a, 1, uint16(limits.MaxFragments+1), wire.PayloadIDi, []byte{1}))
	if s := b.FragmentStats(); s.TooMany != 1 {
		t.Fatalf("too many: %+v", s)
	}
	piece := make([]byte, 1000)
	total := uint16(limits.MaxBytes/len(piece) + 2)
	for n := uint16(2); n <= total; n++ {
		deliver(forge(t, a, n, total, wire.PayloadNone, piece))
		if _, held := responderHeld(b); held > limits.MaxBytes {
			t.Fatalf("holds %d bytes, limit %d", held, limits.MaxBytes)
		}
	}
	if s := b.FragmentStats(); s.TooLarge != 1 {
		t.Fatalf("too large: %+v", s)
	}
	bad := forge(t, a, 1, 3, wire.PayloadIDi, piece)
	bad[len(bad)-1] ^= 1
	deliver(bad)
	d := b.Drops()
	if s := b.FragmentStats(); s.BadICV != 1 || d["fragment-unauthenticated"] != 1 || d["unauthenticated"] != 1 {
		t.Fatalf("bad ICV: %+v, drops %v", s, d)
	}
	if d["fragment-too-many"] != 1 || d["reassembly-too-large"] != 1 {
		t.Fatalf("drops %v", d)
	}
	// The real fragments still make the SA.
	for _, f := range w.heldCopy() {
		deliver(f)
	}
	waitUp(t, b)
	waitUp(t, a)
	// Half of the next request, never finished, is let go at the timeout
	// without a fragment to make it go.
	deliver(forgeMessage(t, a, wire.INFORMATIONAL, 2, 2, 3, wire.PayloadNone, piece))
	if pending, _ := responderHeld(b); pending != 1 {
		t.Fatalf("%d messages in reassembly, want 1", pending)
	}
	clk.Advance(limits.Timeout)
	if pending, held := responderHeld(b); pending != 0 || held != 0 || b.FragmentStats().Expired != 1 || b.Drops()["reassembly-timeout"] != 1 {
		t.Fatalf("after the timeout: %d messages, %d bytes held; %+v", pending, held, b.FragmentStats())
	}
	// An SA that closes lets go of what it half-received, counted.
	deliver(forgeMessage(t, a, wire.INFORMATIONAL, 2, 1, 3, wire.PayloadDelete, piece))
	b.Close()
	if s := b.FragmentStats(); s.Expired != 2 {
		t.Fatalf("after close: %+v", s)
	}
}

// TestFragmentsUnexpected: SKF payloads on an IKE SA that did not
// negotiate fragmentation are dropped unopened and counted.
func TestFragmentsUnexpected(t *testing.T) {
	a, b, w, _ := fragPair(t, "aes-256-gcm", 200, nil, true)
	w.hold = func(h wire.Header, f *wire.EncryptedFragment) bool {
		return !h.IsResponse() && h.Exchange == wire.IKE_AUTH
	}
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the IKE_AUTH request", func() bool { return len(w.heldCopy()) == 1 })
	from, to := netip.MustParseAddrPort("192.0.2.1:500"), netip.MustParseAddrPort("192.0.2.2:500")
	b.HandleMessage(forge(t, a, 1, 2, wire.PayloadIDi, []byte{1, 2, 3}), from, to)
	if s := b.FragmentStats(); s.Unexpected != 1 || s.Received != 0 {
		t.Fatalf("%+v", s)
	}
	b.HandleMessage(w.heldCopy()[0], from, to)
	waitUp(t, b)
}

// TestFragmentationAfterIKERekey: the IKE SA made by a rekey keeps
// fragmentation: the CREATE_CHILD_SA exchange that makes it is itself cut
// into fragments for 200-byte datagrams, and the new SA shows it on.
func TestFragmentationAfterIKERekey(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	w := &fragWire{}
	p.drop = w.watch
	life := "set security ike proposal p1 lifetime-seconds 180\n"
	a, _, pa := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: life, clock: clk}, p)
	b, _, pb := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: life, clock: clk}, p)
	pa.FragmentSize, pb.FragmentSize = 200, 200
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	first := waitUp(t, a)
	waitUp(t, b)
	clk.Advance(162 * time.Second)
	eventually(t, "the IKE rekey", func() bool {
		sas, sbs := a.SAs(), b.SAs()
		return len(sas) == 1 && len(sbs) == 1 && sas[0].InitiatorSPI != first.InitiatorSPI && sas[0].InitiatorSPI == sbs[0].InitiatorSPI
	})
	p.wg.Wait()
	for _, e := range []*Engine{a, b} {
		if sa := e.SAs()[0]; !sa.Fragmentation || sa.State != "UP" {
			t.Fatalf("after the IKE rekey: %+v", sa)
		}
	}
	n := 0
	for _, m := range append(w.skfs(false), w.skfs(true)...) {
		if m.Header.Exchange == wire.CREATE_CHILD_SA {
			n++
		}
	}
	if n < 2 {
		t.Fatalf("%d CREATE_CHILD_SA fragments: the rekey went whole", n)
	}
	a.Close()
	p.wg.Wait()
	b.Close()
}

// The path our messages take: the family of the peer's address, the
// non-ESP marker on port 4500, the gateway's size or RFC 7383's defaults.
func TestFragmentPath(t *testing.T) {
	for _, c := range []struct {
		local, remote string
		size, want    int
		ipv6, marker  bool
	}{
		{"192.0.2.1:500", "192.0.2.2:500", 0, 576, false, false},
		{"192.0.2.1:4500", "192.0.2.2:4500", 0, 576, false, true},
		{"[2001:db8::1]:500", "[2001:db8::2]:500", 0, 1280, true, false},
		{"[::ffff:192.0.2.1]:500", "[::ffff:192.0.2.2]:500", 0, 576, false, false},
		{"[2001:db8::1]:4500", "[2001:db8::2]:4500", 1200, 1200, true, true},
	} {
		sa := &ikeSA{peer: &peer{Peer: &ike.Peer{FragmentSize: c.size}},
			local: netip.MustParseAddrPort(c.local), remote: netip.MustParseAddrPort(c.remote)}
		p := sa.fragmentPath()
		if p.IPv6 != c.ipv6 || p.NonESPMarker != c.marker || sa.fragmentSize() != c.want {
			t.Errorf("%s → %s size %d: %+v, %d", c.local, c.remote, c.size, p, sa.fragmentSize())
		}
	}
}

// TestUnansweredWholeMessage: an IKE_AUTH request too large for the path
// goes whole to a peer without fragmentation; when it is never answered
// (a path that drops IP fragments), the failure says why it may have been.
func TestUnansweredWholeMessage(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, _, w, p := fragPair(t, "aes-256-gcm", 200, clk, true)
	w.hold = func(h wire.Header, f *wire.EncryptedFragment) bool { return h.Exchange == wire.IKE_AUTH }
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the IKE_AUTH request", func() bool { return len(w.heldCopy()) == 1 })
	for n := 1; n <= ike.MaxSends; n++ {
		p.wg.Wait()
		clk.Advance(ike.Backoff(n))
	}
	eventually(t, "the failure", func() bool { return len(a.Failures()) > 0 })
	if f := a.Failures()[0].Failure.Message; !strings.Contains(f, "the peer did not negotiate IKE fragmentation") {
		t.Fatalf("failure %q", f)
	}
}
