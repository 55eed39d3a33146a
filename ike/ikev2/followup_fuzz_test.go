package ikev2

import (
	"crypto/mlkem"
	"testing"

	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// followupLink is the ADDITIONAL_KEY_EXCHANGE data the test responder
// waits for.
var followupLink = []byte{1, 2, 3, 4, 5, 6, 7, 8}

// followupResponder is a responder's established IKE SA that answered a
// CREATE_CHILD_SA choosing ML-KEM-768 then ML-KEM-1024 as additional key
// exchanges, waiting for the first IKE_FOLLOWUP_KE (message 3, link
// followupLink); finished collects what finish got. It returns the
// initiator's cipher to send requests with.
func followupResponder(t testing.TB, e *Engine, finished *[][]byte) (*ikeSA, *messageCipher) {
	t.Helper()
	sa, out := intermediateResponder(t, e) // intermediate_fuzz_test.go
	sa.hs, sa.state, sa.expectID = nil, stateEstablished, 3
	m768, _ := transform.Lookup(transform.TypeKE, transform.ML_KEM_768, 0)
	m1024, _ := transform.Lookup(transform.TypeKE, transform.ML_KEM_1024, 0)
	sa.peerFollowup = &followup{methods: []*transform.Transform{m768, m1024}, names: []string{"ke1 ML-KEM-768", "ke2 ML-KEM-1024"},
		link: append([]byte(nil), followupLink...), finish: func(extra []byte) bool {
			*finished = append(*finished, append([]byte(nil), extra...))
			return true
		}}
	return sa, out
}

// sendFollowup seals inner as the initiator's IKE_FOLLOWUP_KE request id,
// hands it to sa under the engine's lock, and returns the payloads of the
// answer (nil when none was sent).
func sendFollowupRequest(t testing.TB, sa *ikeSA, out *messageCipher, c *capture, id uint32, inner []wire.Payload) []wire.Payload {
	t.Helper()
	er := append([]byte(nil), sa.keys.ER...)
	c.mu.Lock()
	c.sent = nil
	c.mu.Unlock()
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.IKE_FOLLOWUP_KE,
		Flags: wire.FlagInitiator, MessageID: id}}
	b, err := out.seal(msg, inner)
	if err != nil {
		t.Skip("inner payloads do not marshal")
	}
	parsed, err := wire.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	sa.e.mu.Lock()
	sa.handleRequest(parsed, sa.remote, sa.local)
	sa.e.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sent) == 0 {
		return nil
	}
	m, err := wire.Parse(append([]byte(nil), c.sent[0]...))
	if err != nil {
		t.Fatal(err)
	}
	in, err := newMessageCipher(sa.suite.Encryption, nil, er, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := in.open(m)
	if err != nil {
		t.Fatalf("the answer does not open: %v", err)
	}
	if m.Header.Exchange != wire.IKE_FOLLOWUP_KE || !m.Header.IsResponse() || m.Header.MessageID != id {
		t.Fatalf("answer header %+v", m.Header)
	}
	return ps
}

// onlyNotify is the type of ps's only payload when it is a Notify.
func onlyNotify(ps []wire.Payload) wire.NotifyType {
	if len(ps) != 1 {
		return 0
	}
	if n, ok := ps[0].(*wire.Notify); ok {
		return n.Type
	}
	return 0
}

// TestFollowupRequestMalformed: the responder answers an IKE_FOLLOWUP_KE
// with the wrong link STATE_NOT_FOUND (keeping the exchange for the right
// one), a missing, other-method or malformed KE INVALID_SYNTAX (dropping
// the exchange), and the right two with ciphertexts of each method's
// size, a new link between them, and the new SA made once from both
// shared secrets.
func TestFollowupRequestMalformed(t *testing.T) {
	e, c := newIntermediateEngine(t)
	dk768, _ := mlkem.GenerateKey768()
	dk1024, _ := mlkem.GenerateKey1024()
	ek768, ek1024 := dk768.EncapsulationKey().Bytes(), dk1024.EncapsulationKey().Bytes()
	link := &wire.Notify{Type: wire.ADDITIONAL_KEY_EXCHANGE, Data: followupLink}
	for _, tc := range []struct {
		name  string
		inner []wire.Payload
		want  wire.NotifyType
		keeps bool // the exchange still waits
	}{
		{"wrong link", []wire.Payload{&wire.KE{Group: transform.ML_KEM_768, Data: ek768}, &wire.Notify{Type: wire.ADDITIONAL_KEY_EXCHANGE, Data: []byte{9}}}, wire.STATE_NOT_FOUND, true},
		{"no link", []wire.Payload{&wire.KE{Group: transform.ML_KEM_768, Data: ek768}}, wire.STATE_NOT_FOUND, true},
		{"no KE", []wire.Payload{link}, wire.INVALID_SYNTAX, false},
		{"second method first", []wire.Payload{&wire.KE{Group: transform.ML_KEM_1024, Data: ek1024}, link}, wire.INVALID_SYNTAX, false},
		{"short", []wire.Payload{&wire.KE{Group: transform.ML_KEM_768, Data: ek768[:1000]}, link}, wire.INVALID_SYNTAX, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var finished [][]byte
			sa, out := followupResponder(t, e, &finished)
			ps := sendFollowupRequest(t, sa, out, c, 3, tc.inner)
			if got := onlyNotify(ps); got != tc.want {
				t.Fatalf("answered %+v, want %v", ps, tc.want)
			}
			if (sa.peerFollowup != nil) != tc.keeps || len(finished) != 0 {
				t.Fatalf("exchange kept %v (want %v), finished %d", sa.peerFollowup != nil, tc.keeps, len(finished))
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		var finished [][]byte
		sa, out := followupResponder(t, e, &finished)
		ps := sendFollowupRequest(t, sa, out, c, 3, []wire.Payload{&wire.KE{Group: transform.ML_KEM_768, Data: ek768}, link})
		ke, ok := wire.Find[*wire.KE](ps)
		next, okN := wire.FindNotify(ps, wire.ADDITIONAL_KEY_EXCHANGE)
		if !ok || ke.Group != transform.ML_KEM_768 || len(ke.Data) != mlkem.CiphertextSize768 || !okN || len(next.Data) == 0 {
			t.Fatalf("first answer %+v", ps)
		}
		s1, err := dk768.Decapsulate(ke.Data)
		if err != nil {
			t.Fatal(err)
		}
		ps = sendFollowupRequest(t, sa, out, c, 4, []wire.Payload{&wire.KE{Group: transform.ML_KEM_1024, Data: ek1024},
			&wire.Notify{Type: wire.ADDITIONAL_KEY_EXCHANGE, Data: next.Data}})
		ke, ok = wire.Find[*wire.KE](ps)
		if !ok || ke.Group != transform.ML_KEM_1024 || len(ke.Data) != mlkem.CiphertextSize1024 || len(ps) != 1 {
			t.Fatalf("second answer %+v", ps)
		}
		s2, err := dk1024.Decapsulate(ke.Data)
		if err != nil {
			t.Fatal(err)
		}
		if len(finished) != 1 || string(finished[0]) != string(s1)+string(s2) || sa.peerFollowup != nil {
			t.Fatalf("finished %d times; secrets match %v", len(finished), len(finished) == 1 && string(finished[0]) == string(s1)+string(s2))
		}
	})
}

// FuzzFollowupRequest: any payloads in an IKE_FOLLOWUP_KE request to a
// responder waiting for one are answered exactly once, with the method's
// ciphertext and the next link, or with one error notification; the new
// SA is never made after the first of two exchanges; never a panic.
func FuzzFollowupRequest(f *testing.F) {
	dk, _ := mlkem.GenerateKey768()
	ek := dk.EncapsulationKey().Bytes()
	chain := func(ps ...wire.Payload) []byte {
		_, b, _ := wire.AppendPayloads(nil, ps)
		return b
	}
	link := &wire.Notify{Type: wire.ADDITIONAL_KEY_EXCHANGE, Data: followupLink}
	f.Add(uint8(wire.PayloadKE), chain(&wire.KE{Group: transform.ML_KEM_768, Data: ek}, link))
	f.Add(uint8(wire.PayloadKE), chain(&wire.KE{Group: transform.ML_KEM_768, Data: ek[:1183]}, link))
	f.Add(uint8(wire.PayloadKE), chain(&wire.KE{Group: transform.ML_KEM_1024, Data: ek}, link))
	f.Add(uint8(wire.PayloadKE), chain(&wire.KE{Group: transform.ML_KEM_768, Data: ek}))
	f.Add(uint8(wire.PayloadNotify), chain(link))
	e, c := newIntermediateEngine(f)
	f.Fuzz(func(t *testing.T, first uint8, b []byte) {
		ps, err := wire.ParsePayloads(wire.PayloadType(first), b)
		if err != nil {
			return // the payload parser has its own fuzz target
		}
		var finished [][]byte
		sa, out := followupResponder(t, e, &finished)
		ans := sendFollowupRequest(t, sa, out, c, 3, ps)
		if len(finished) != 0 {
			t.Fatal("the new SA was made after the first of two exchanges")
		}
		switch onlyNotify(ans) {
		case wire.STATE_NOT_FOUND, wire.INVALID_SYNTAX:
			return
		}
		ke, ok := wire.Find[*wire.KE](ans)
		n, okN := wire.FindNotify(ans, wire.ADDITIONAL_KEY_EXCHANGE)
		if len(ans) != 2 || !ok || ke.Group != transform.ML_KEM_768 || len(ke.Data) != mlkem.CiphertextSize768 || !okN || len(n.Data) == 0 {
			t.Fatalf("answered %+v", ans)
		}
	})
}
