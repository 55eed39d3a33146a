package ikev2

import (
	"crypto/mlkem"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// capture is a transport that keeps what the engine sends.
type capture struct {
	mu   sync.Mutex
	sent [][]byte
}

func (c *capture) Send(b []byte, from, to netip.AddrPort) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent[:0], append([]byte(nil), b...)) // the last one is enough
	return nil
}

// intermediateResponder is a responder's IKE SA right after IKE_SA_INIT
// with ML-KEM-768 as ADDKE1, and the initiator's cipher to send it
// IKE_INTERMEDIATE requests with.
func intermediateResponder(t testing.TB, e *Engine) (*ikeSA, *messageCipher) {
	t.Helper()
	var p *peer
	for _, x := range e.peers {
		p = x[0]
	}
	mlkem768, _ := transform.Lookup(transform.TypeKE, transform.ML_KEM_768, 0)
	aes, _ := transform.Lookup(transform.TypeENCR, transform.ENCR_AES_GCM_16, 256)
	prf, _ := transform.Lookup(transform.TypePRF, transform.PRF_HMAC_SHA2_256, 0)
	sa := &ikeSA{e: e, peer: p, spiI: 0x1111, spiR: 0x2222, state: stateInitReplied,
		local: netip.MustParseAddrPort("192.0.2.2:500"), remote: netip.MustParseAddrPort("192.0.2.1:500"),
		suite: keymat.IKESuite{Encryption: aes, PRF: prf},
		hs: &handshake{ni: make([]byte, 32), nr: make([]byte, 32),
			inter: intermediate{supported: true, methods: []*transform.Transform{mlkem768}, names: []string{"ke1 ML-KEM-768"}}}}
	if err := sa.deriveKeys(make([]byte, 32), sa.hs.ni, sa.hs.nr); err != nil {
		t.Fatal(err)
	}
	peerOut, err := newMessageCipher(aes, nil, sa.keys.EI, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sa.expectID = 1
	return sa, peerOut
}

// sendIntermediate seals inner as the initiator's IKE_INTERMEDIATE request
// 1 and hands it to sa, under the engine's lock as HandleMessage would.
func sendIntermediate(t testing.TB, sa *ikeSA, out *messageCipher, inner []wire.Payload) {
	t.Helper()
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.IKE_INTERMEDIATE,
		Flags: wire.FlagInitiator, MessageID: 1}}
	b, err := out.seal(msg, inner)
	if err != nil {
		t.Skip("inner payloads do not marshal")
	}
	parsed, err := wire.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	sa.e.mu.Lock()
	defer sa.e.mu.Unlock()
	sa.handleRequest(parsed, sa.remote, sa.local)
}

// answered is the notification types of the responder's last answer.
func answered(t testing.TB, sa *ikeSA, c *capture, er []byte) []wire.NotifyType {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sent) == 0 {
		t.Fatal("no answer")
	}
	m, err := wire.Parse(append([]byte(nil), c.sent[len(c.sent)-1]...)) // open decrypts in place
	if err != nil {
		t.Fatal(err)
	}
	in, err := newMessageCipher(sa.suite.Encryption, nil, er, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := in.open(m)
	if err != nil {
		t.Fatal(err)
	}
	var out []wire.NotifyType
	for _, p := range ps {
		if n, ok := p.(*wire.Notify); ok {
			out = append(out, n.Type)
		}
	}
	return out
}

func newIntermediateEngine(t testing.TB) (*Engine, *capture) {
	t.Helper()
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	e, _, _ := newSide(t, side{me: 2, peer: 1, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm",
		// responder-only: an SA the test fails is not negotiated again
		extra: addKEConf("mlkem768") + "set security ipsec vpn vpn1 establish-tunnels responder-only\n"}, p)
	c := &capture{}
	e.transport = c
	return e, c
}

// TestIntermediateMalformedKE: key exchange data of the wrong length, an
// encapsulation key that fails FIPS 203's check, another method's KE or
// none are answered INVALID_SYNTAX and fail the SA with the reason; the
// right one is answered with a ciphertext of ML-KEM-768's size and new
// keys.
func TestIntermediateMalformedKE(t *testing.T) {
	e, c := newIntermediateEngine(t)
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		t.Fatal(err)
	}
	good := dk.EncapsulationKey().Bytes()
	bad := append([]byte(nil), good...)
	for i := range 384 { // coefficients ≥ q: the modulus check fails
		bad[i] = 0xff
	}
	for _, tc := range []struct {
		name  string
		inner []wire.Payload
		want  string
	}{
		{"short", []wire.Payload{&wire.KE{Group: transform.ML_KEM_768, Data: good[:100]}}, "ML-KEM-768 key exchange data"},
		{"long", []wire.Payload{&wire.KE{Group: transform.ML_KEM_768, Data: append(good, 0)}}, "ML-KEM-768 key exchange data"},
		{"empty", []wire.Payload{&wire.KE{Group: transform.ML_KEM_768}}, "ML-KEM-768 key exchange data"},
		{"modulus", []wire.Payload{&wire.KE{Group: transform.ML_KEM_768, Data: bad}}, "ML-KEM-768 key exchange data"},
		{"other method", []wire.Payload{&wire.KE{Group: transform.ML_KEM_1024, Data: good}}, "lacks the KE payload of ML-KEM-768"},
		{"no KE", []wire.Payload{&wire.Notify{Type: wire.USE_PPK}}, "lacks the KE payload of ML-KEM-768"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sa, out := intermediateResponder(t, e)
			er := append([]byte(nil), sa.keys.ER...)
			sendIntermediate(t, sa, out, tc.inner)
			if got := answered(t, sa, c, er); len(got) != 1 || got[0] != wire.INVALID_SYNTAX {
				t.Fatalf("answered %v, want INVALID_SYNTAX", got)
			}
			if sa.state != stateDead || !strings.Contains(sa.failure.Message, tc.want) {
				t.Fatalf("state %v, failure %q, want %q", sa.state, sa.failure.Message, tc.want)
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		sa, out := intermediateResponder(t, e)
		er := append([]byte(nil), sa.keys.ER...)
		oldD := append([]byte(nil), sa.keys.D...)
		sendIntermediate(t, sa, out, []wire.Payload{&wire.KE{Group: transform.ML_KEM_768, Data: good}})
		if got := answered(t, sa, c, er); len(got) != 0 {
			t.Fatalf("answered %v", got)
		}
		c.mu.Lock()
		m, _ := wire.Parse(c.sent[len(c.sent)-1])
		c.mu.Unlock()
		in, _ := newMessageCipher(sa.suite.Encryption, nil, er, nil, nil)
		ps, err := in.open(m)
		if err != nil {
			t.Fatal(err)
		}
		ke, ok := wire.Find[*wire.KE](ps)
		if !ok || ke.Group != transform.ML_KEM_768 || len(ke.Data) != mlkem.CiphertextSize768 {
			t.Fatalf("answer %+v", ps)
		}
		secret, err := dk.Decapsulate(ke.Data)
		if err != nil || len(secret) != 32 {
			t.Fatal(err)
		}
		if sa.hs.inter.done != 1 || string(sa.keys.D) == string(oldD) || len(sa.hs.inter.intI) == 0 || len(sa.hs.inter.intR) == 0 {
			t.Fatalf("after the exchange: done %d, keys changed %v", sa.hs.inter.done, string(sa.keys.D) != string(oldD))
		}
	})
}

// FuzzIntermediateRequest: any payloads in an IKE_INTERMEDIATE request
// are answered (a KE, or an error notification that fails the SA), never
// a panic.
func FuzzIntermediateRequest(f *testing.F) {
	dk, _ := mlkem.GenerateKey768()
	ek := dk.EncapsulationKey().Bytes()
	ke := func(group transform.ID, data []byte) []byte {
		_, b, _ := wire.AppendPayloads(nil, []wire.Payload{&wire.KE{Group: group, Data: data}})
		return b
	}
	f.Add(uint8(wire.PayloadKE), ke(transform.ML_KEM_768, ek))
	f.Add(uint8(wire.PayloadKE), ke(transform.ML_KEM_768, ek[:1183]))
	f.Add(uint8(wire.PayloadKE), ke(transform.CURVE25519, make([]byte, 32)))
	f.Add(uint8(wire.PayloadNotify), []byte{0, 0, 0, 8, 0, 0, 0x40, 0x33})
	e, _ := newIntermediateEngine(f)
	f.Fuzz(func(t *testing.T, first uint8, chain []byte) {
		ps, err := wire.ParsePayloads(wire.PayloadType(first), chain)
		if err != nil {
			return // the payload parser has its own fuzz target
		}
		sa, out := intermediateResponder(t, e)
		sendIntermediate(t, sa, out, ps)
	})
}
