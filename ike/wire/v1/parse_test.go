package v1

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// validMessages are the messages the round-trip and prefix tests use.
func validMessages(t testing.TB) map[string][]byte {
	every := &Message{Header: Header{InitiatorCookie: 1, ResponderCookie: 2, Exchange: Informational, MessageID: 7},
		Chain: Chain{Payloads: everyPayload()}}
	quick := &Message{Header: Header{InitiatorCookie: 1, ResponderCookie: 2, Exchange: QuickMode, Flags: FlagCommit, MessageID: 0xe2997aed},
		Chain: Chain{Payloads: quickModeChain()}}
	encrypted, err := MarshalEncrypted(Header{InitiatorCookie: 1, ResponderCookie: 2, Exchange: QuickMode, MessageID: 9},
		PayloadHash, pattern(0, 48))
	if err != nil {
		t.Fatal(err)
	}
	ms := map[string][]byte{
		"Main Mode 1":   mustMarshal(t, mainModeFirst()),
		"every payload": mustMarshal(t, every),
		"Quick Mode":    mustMarshal(t, quick),
		"encrypted":     encrypted,
	}
	for _, v := range strongSwanMessages {
		ms["strongSwan "+v] = readHex(t, v)
	}
	return ms
}

func TestRoundTrip(t *testing.T) {
	for name, b := range validMessages(t) {
		t.Run(name, func(t *testing.T) {
			m := mustParse(t, b)
			if again := mustMarshal(t, m); !bytes.Equal(again, b) {
				t.Fatalf("Marshal(Parse(x)) != x:\n got %x\nwant %x", again, b)
			}
		})
	}
}

func TestBuiltValuesParseBack(t *testing.T) {
	want := mainModeFirst()
	got := mustParse(t, mustMarshal(t, want))
	want.Header.NextPayload = PayloadSA // Parse reports it; Marshal derives it
	sameMessage(t, got, want)

	ps := everyPayload()
	c, err := BuildChain(ps)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseChain(PayloadSA, c.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	samePayloads(t, back.Payloads, ps)
	for i := range ps {
		if !bytes.Equal(back.Raw(i), c.Raw(i)) {
			t.Fatalf("payload %d: parsed raw bytes differ from built ones", i+1)
		}
	}
}

// Every prefix of a valid message fails to parse: as it is (the header's
// Length no longer matches) and, for a plaintext message, with Length
// fixed up to the prefix, so that the payload chain itself must notice.
func TestEveryPrefixFails(t *testing.T) {
	for name, b := range validMessages(t) {
		t.Run(name, func(t *testing.T) {
			m := mustParse(t, b)
			for i := range len(b) {
				if m, err := Parse(b[:i]); err == nil {
					t.Fatalf("prefix of %d bytes parsed: %v", i, describe(m.Payloads))
				}
				if i < HeaderLen || m.Header.Encrypted() {
					continue // a shorter ciphertext is for the cipher to refuse
				}
				p := bytes.Clone(b[:i])
				binary.BigEndian.PutUint32(p[offsetLength:], uint32(i))
				m, err := Parse(p)
				if err == nil {
					t.Fatalf("prefix of %d bytes with Length fixed parsed: %v", i, describe(m.Payloads))
				}
				if NotifyFor(err) != PAYLOAD_MALFORMED {
					t.Fatalf("prefix of %d bytes: %v, want a PAYLOAD-MALFORMED error", i, err)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	good := mustMarshal(t, mainModeFirst())
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	saBody := HeaderLen + genericHeaderLen
	for _, tc := range []struct {
		name   string
		b      []byte
		notify NotifyType
		offset int
	}{
		{"IKEv2 version", edit(func(b []byte) []byte { b[offsetVersion] = 0x20; return b }), INVALID_MAJOR_VERSION, offsetVersion},
		{"Length too big", edit(func(b []byte) []byte { b[offsetLength+3]++; return b }), PAYLOAD_MALFORMED, offsetLength},
		{"DOI 2", edit(func(b []byte) []byte { b[saBody+3] = 2; return b }), DOI_NOT_SUPPORTED, saBody},
		{"SIT_SECRECY", edit(func(b []byte) []byte { b[saBody+7] |= byte(SIT_SECRECY); return b }), SITUATION_NOT_SUPPORTED, saBody + 4},
		{"proposal at top level", edit(func(b []byte) []byte { b[offsetNextPayload] = byte(PayloadProposal); return b }),
			PAYLOAD_MALFORMED, HeaderLen},
		{"trailing bytes", func() []byte {
			b := append(bytes.Clone(good), 0, 0)
			binary.BigEndian.PutUint32(b[offsetLength:], uint32(len(b)))
			return b
		}(), PAYLOAD_MALFORMED, len(good)},
		{"too long", func() []byte {
			b := make([]byte, MaxMessageLen+1)
			copy(b, good)
			binary.BigEndian.PutUint32(b[offsetLength:], uint32(len(b)))
			return b
		}(), PAYLOAD_MALFORMED, offsetLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.b)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if NotifyFor(err) != tc.notify || pe.Offset != tc.offset {
				t.Fatalf("%v: answer %v at %d, want %v at %d", err, NotifyFor(err), pe.Offset, tc.notify, tc.offset)
			}
		})
	}
}

// A payload of a type the codec does not know is skipped by its length
// and kept, in the middle of a chain as at its end.
func TestUnknownPayloadSkipped(t *testing.T) {
	ps := []Payload{&Unknown{Type: 77, Body: []byte("future")}, &VendorID{Data: VendorDPD}}
	c, err := BuildChain(ps)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseChain(77, c.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	samePayloads(t, got.Payloads, ps)
}

func TestBuildErrors(t *testing.T) {
	for name, ps := range map[string][]Payload{
		"nil":               {nil},
		"short nonce":       {&Nonce{Data: pattern(0, 7)}},
		"TV of 3 bytes":     {&SA{DOI: DOIIPsec, Proposals: []Proposal{{Transforms: []Transform{{Attributes: []Attribute{{Type: 1, TV: true, Value: []byte{1, 2, 3}}}}}}}}},
		"no proposals":      {&SA{DOI: DOIIPsec}},
		"ID_IPV4_ADDR of 5": {&Identification{Type: ID_IPV4_ADDR, Data: pattern(0, 5)}},
		"Delete SPI size":   {&Delete{Protocol: ProtocolESP, SPISize: 4, SPIs: [][]byte{{1, 2}}}},
		"Unknown SA":        {&Unknown{Type: PayloadSA}},
		"NAT-OA no address": {&NATOA{}},
		"big payload":       {&VendorID{Data: make([]byte, 70000)}},
	} {
		if _, err := BuildChain(ps); !errors.Is(err, ErrCannotEncode) {
			t.Errorf("%s: error %v, want ErrCannotEncode", name, err)
		}
	}
}
