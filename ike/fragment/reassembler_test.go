package fragment

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/wire"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// cut splits chain into fragments of at most size bytes, as a sender does.
func cut(id uint32, first wire.PayloadType, chain []byte, size int) []Fragment {
	total := (len(chain) + size - 1) / size
	var fs []Fragment
	for i := range total {
		f := Fragment{MessageID: id, Number: uint16(i + 1), Total: uint16(total), Piece: chain[i*size : min((i+1)*size, len(chain))]}
		if i == 0 {
			f.First = first
		}
		fs = append(fs, f)
	}
	return fs
}

func chainOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// Fragments in any order, some twice, give back the chain once; the
// duplicates are counted and change nothing.
func TestReassembleAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		chain := chainOf(1 + rng.IntN(3000))
		fs := cut(7, wire.PayloadIDi, chain, 30+rng.IntN(500))
		// One fragment again before the last new one arrives. (After
		// completion a copy would start a new message: telling a
		// retransmitted request apart is the IKE SA's, by Message ID.)
		order := rng.Perm(len(fs))
		if len(fs) > 1 {
			at := 1 + rng.IntN(len(order)-1)
			order = append(order[:at], append([]int{order[rng.IntN(at)]}, order[at:]...)...)
		}
		r := New(clock.NewFake(epoch), Limits{})
		var got *Message
		dups := 0
		for _, i := range order {
			m, err := r.Add(fs[i])
			switch {
			case errors.Is(err, ErrDuplicate):
				dups++
			case err != nil:
				t.Fatalf("round %d: %v", round, err)
			case m != nil:
				if got != nil {
					t.Fatalf("round %d: completed twice", round)
				}
				got = m
			}
		}
		if got == nil || !bytes.Equal(got.Chain, chain) || got.First != wire.PayloadIDi || got.MessageID != 7 || got.Response {
			t.Fatalf("round %d: got %+v", round, got)
		}
		s := r.Stats()
		if s.Completed != 1 || s.Fragments != uint64(len(order)) || s.Duplicates != uint64(dups) {
			t.Fatalf("round %d: stats %+v", round, s)
		}
	}
}

// A request and a response with the same Message ID are two messages.
func TestRequestAndResponseApart(t *testing.T) {
	r := New(clock.NewFake(epoch), Limits{})
	req := cut(1, wire.PayloadIDi, chainOf(100), 40)
	resp := cut(1, wire.PayloadIDr, chainOf(90), 40)
	for i := range resp {
		resp[i].Response = true
	}
	r.Add(req[0])
	r.Add(resp[0])
	r.Add(resp[1])
	r.Add(req[1])
	m1, _ := r.Add(req[2])
	m2, _ := r.Add(resp[2])
	if m1 == nil || m2 == nil || m1.Response || !m2.Response || m1.First != wire.PayloadIDi || m2.First != wire.PayloadIDr {
		t.Fatalf("got %+v and %+v", m1, m2)
	}
}

// RFC 7383 §2.6: a higher Total Fragments starts over with the new
// fragment; a lower one is discarded.
func TestTotalFragmentsChanges(t *testing.T) {
	r := New(clock.NewFake(epoch), Limits{})
	chain := chainOf(600)
	big := cut(3, wire.PayloadSA, chain, 300) // 2 fragments
	small := cut(3, wire.PayloadSA, chain, 100)
	if _, err := r.Add(big[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(small[1]); err != nil { // 6 > 2: start over
		t.Fatal(err)
	}
	if r.Held() != 100 || r.Stats().Restarted != 1 {
		t.Fatalf("held %d, stats %+v", r.Held(), r.Stats())
	}
	if _, err := r.Add(big[1]); !errors.Is(err, ErrStale) {
		t.Fatalf("lower Total Fragments: %v", err)
	}
	var got *Message
	for _, f := range small {
		if f.Number == 2 {
			continue
		}
		m, err := r.Add(f)
		if err != nil {
			t.Fatal(err)
		}
		got = m
	}
	if got == nil || !bytes.Equal(got.Chain, chain) {
		t.Fatal("message cut again did not reassemble")
	}
	if s := r.Stats(); s.Stale != 1 || s.Completed != 1 || r.Pending() != 0 {
		t.Fatalf("stats %+v, pending %d", s, r.Pending())
	}
}

func TestInvalidFragments(t *testing.T) {
	r := New(clock.NewFake(epoch), Limits{MaxFragments: 10})
	for _, f := range []Fragment{
		{Number: 0, Total: 1}, {Number: 2, Total: 1}, {Number: 1, Total: 0},
		{Number: 2, Total: 3, First: wire.PayloadSA},
	} {
		if _, err := r.Add(f); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", f, err)
		}
	}
	if _, err := r.Add(Fragment{Number: 1, Total: 11}); !errors.Is(err, ErrTooMany) {
		t.Errorf("11 fragments: %v", err)
	}
	if s := r.Stats(); s.Invalid != 4 || s.TooMany != 1 || r.Pending() != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A half-received message never holds more than the limits: too large is
// dropped whole, too many at once pushes the oldest out, too old expires.
func TestLimits(t *testing.T) {
	clk := clock.NewFake(epoch)
	r := New(clk, Limits{MaxBytes: 250, MaxMessages: 2, Timeout: 10 * time.Second})
	fs := cut(1, wire.PayloadSA, chainOf(400), 100)
	r.Add(fs[0])
	r.Add(fs[1])
	if _, err := r.Add(fs[2]); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("third 100 bytes of at most 250: %v", err)
	}
	if r.Held() != 0 || r.Pending() != 0 {
		t.Fatalf("a message over the size limit is kept: %d bytes", r.Held())
	}
	// A new Message ID the same way supersedes the message before it.
	for id := uint32(10); id < 15; id++ {
		r.Add(cut(id, wire.PayloadSA, chainOf(200), 100)[0])
	}
	if s := r.Stats(); r.Pending() != 1 || s.Superseded != 4 || r.Held() != 100 {
		t.Fatalf("pending %d, held %d, stats %+v", r.Pending(), r.Held(), s)
	}
	// A response may be in reassembly beside a request; a third message
	// pushes the oldest out when only two may be held.
	resp := cut(3, wire.PayloadSA, chainOf(200), 100)
	for i := range resp {
		resp[i].Response = true
	}
	r.Add(resp[0])
	if s := r.Stats(); r.Pending() != 2 || s.Superseded != 4 || s.Evicted != 0 {
		t.Fatalf("a response superseded a request: pending %d, stats %+v", r.Pending(), s)
	}
	one := New(clk, Limits{MaxMessages: 1})
	one.Add(resp[0])
	one.Add(cut(14, wire.PayloadSA, chainOf(200), 100)[0])
	if s := one.Stats(); one.Pending() != 1 || s.Evicted != 1 {
		t.Fatalf("over MaxMessages: pending %d, stats %+v", one.Pending(), s)
	}
	r.Add(resp[1])
	// Message 14, the newest request, is the one kept.
	if m, _ := r.Add(cut(14, wire.PayloadSA, chainOf(200), 100)[1]); m == nil {
		t.Fatal("the newest message was evicted")
	}
	r.Add(cut(20, wire.PayloadSA, chainOf(200), 100)[0])
	clk.Advance(9 * time.Second)
	r.Expire()
	if r.Pending() != 1 {
		t.Fatal("expired early")
	}
	clk.Advance(time.Second)
	r.Expire()
	if r.Pending() != 0 || r.Stats().Expired != 1 {
		t.Fatalf("pending %d after the timeout, stats %+v", r.Pending(), r.Stats())
	}
	r.Add(fs[0])
	r.Reset()
	if r.Pending() != 0 || r.Held() != 0 {
		t.Fatal("Reset kept a message")
	}
}

// Fragments cut by ike/wire, sealed and opened, reassemble to the payloads
// sent: the two halves fit.
func TestWireFragmentsReassemble(t *testing.T) {
	inner := []wire.Payload{
		&wire.IDi{Type: wire.ID_FQDN, Data: []byte("a.example.net")},
		&wire.Cert{Encoding: wire.CertX509Signature, Data: chainOf(1500)},
		&wire.Auth{Method: wire.AuthDigitalSignature, Data: chainOf(300)},
	}
	c := wire.CipherSizes{IV: 8, Block: 1, ICV: 16}
	size, err := wire.FragmentContentSize(wire.FragmentPath{}, c)
	if err != nil {
		t.Fatal(err)
	}
	m := &wire.Message{Header: wire.Header{InitiatorSPI: 1, ResponderSPI: 2, Exchange: wire.IKE_AUTH, Flags: wire.FlagInitiator, MessageID: 1}}
	frags, err := m.AppendFragments(inner, size, c)
	if err != nil {
		t.Fatal(err)
	}
	r := New(clock.NewFake(epoch), Limits{})
	var got *Message
	for i := len(frags) - 1; i >= 0; i-- { // last first
		pm, err := wire.Parse(frags[i].Message)
		if err != nil {
			t.Fatal(err)
		}
		skf := pm.Payloads[0].(*wire.EncryptedFragment)
		rg, err := pm.Regions(c)
		if err != nil {
			t.Fatal(err)
		}
		piece, err := wire.TrimPadding(rg.Ciphertext) // "decrypted": never sealed here
		if err != nil {
			t.Fatal(err)
		}
		msg, err := r.Add(Fragment{MessageID: pm.Header.MessageID, Response: pm.Header.Flags&wire.FlagResponse != 0,
			Number: skf.Number, Total: skf.Total, First: skf.First, Piece: piece})
		if err != nil {
			t.Fatal(err)
		}
		got = msg
	}
	if got == nil {
		t.Fatal("not reassembled")
	}
	ps, err := wire.ParsePayloads(got.First, got.Chain)
	if err != nil || len(ps) != 3 {
		t.Fatalf("%d payloads, %v", len(ps), err)
	}
	if c, ok := ps[1].(*wire.Cert); !ok || !bytes.Equal(c.Data, chainOf(1500)) {
		t.Fatal("certificate changed on the way")
	}
}
