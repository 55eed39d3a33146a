package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// Every payload type, alone in a message, encodes and parses back to the
// same value, and the encoding of the parsed value is the same bytes.
func TestRoundTripEveryPayload(t *testing.T) {
	for i, p := range everyPayload() {
		t.Run(fmt.Sprintf("%d-%v", i, p.PayloadType()), func(t *testing.T) {
			m := &Message{
				Header:   Header{InitiatorSPI: 1, ResponderSPI: 2, Exchange: INFORMATIONAL, MessageID: 9},
				Payloads: []Payload{p},
			}
			b := mustMarshal(t, m)
			got := mustParse(t, b)
			sameMessage(t, got, m)
			if again := mustMarshal(t, got); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, b)
			}
		})
	}
}

// All payloads in one message: the chain's Next Payload fields link them.
func TestRoundTripMessage(t *testing.T) {
	msgs := map[string]*Message{
		"every payload": {
			Header:   Header{InitiatorSPI: 0xfedcba9876543210, ResponderSPI: 7, Exchange: IKE_AUTH, Flags: FlagResponse, MessageID: 1},
			Payloads: everyPayload(),
		},
		"IKE_SA_INIT": typicalInit(),
		"empty":       {Header: Header{Exchange: INFORMATIONAL, Flags: FlagInitiator | FlagResponse, MessageID: 0xffffffff}},
		"empty SK": {Header: Header{InitiatorSPI: 5, ResponderSPI: 6, Exchange: INFORMATIONAL, MessageID: 3},
			Payloads: []Payload{&Encrypted{Body: pattern(0, 8+16+16)}}},
		"SK after clear payloads": {Header: Header{InitiatorSPI: 5, ResponderSPI: 6, Exchange: IKE_AUTH, MessageID: 1},
			Payloads: []Payload{&VendorID{Data: []byte("v")}, &Encrypted{First: PayloadIDi, Body: pattern(9, 64)}}},
		"SKF first": {Header: Header{InitiatorSPI: 5, ResponderSPI: 6, Exchange: IKE_AUTH, MessageID: 1},
			Payloads: []Payload{&EncryptedFragment{First: PayloadIDi, Number: 1, Total: 3, Body: pattern(1, 100)}}},
		"SKF later": {Header: Header{InitiatorSPI: 5, ResponderSPI: 6, Exchange: IKE_AUTH, MessageID: 1},
			Payloads: []Payload{&EncryptedFragment{Number: 3, Total: 3, Body: pattern(2, 40)}}},
	}
	for name, m := range msgs {
		t.Run(name, func(t *testing.T) {
			b := mustMarshal(t, m)
			if got := binary.BigEndian.Uint32(b[offsetLength:]); int(got) != len(b) {
				t.Fatalf("Length field %d, message %d bytes", got, len(b))
			}
			got := mustParse(t, b)
			sameMessage(t, got, m)
			if !bytes.Equal(got.Raw, b) {
				t.Fatal("Raw is not the parsed bytes")
			}
			if again := mustMarshal(t, got); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs")
			}
		})
	}
}

// The builder numbers proposals left at zero; reserved flag bits and the
// minor version are dropped.
func TestBuildDefaults(t *testing.T) {
	sa := typicalSA()
	for i := range sa.Proposals {
		sa.Proposals[i].Number = 0
	}
	m := &Message{Header: Header{Exchange: IKE_SA_INIT, Flags: FlagInitiator | 0x81}, Payloads: []Payload{sa}}
	b := mustMarshal(t, m)
	if b[offsetVersion] != 0x20 || b[offsetVersion+2] != byte(FlagInitiator) {
		t.Fatalf("version %#x flags %#x, want 0x20 and %#x", b[offsetVersion], b[offsetVersion+2], FlagInitiator)
	}
	b[offsetVersion] = 0x2f // minor version 15: ignored
	b[offsetVersion+2] |= 0x07
	got := mustParse(t, b)
	sameMessage(t, got, &Message{Header: Header{Exchange: IKE_SA_INIT, Flags: FlagInitiator}, Payloads: []Payload{typicalSA()}})
}

// Values the wire cannot carry are refused with ErrCannotEncode, not
// truncated.
func TestBuildRefuses(t *testing.T) {
	cases := map[string][]Payload{
		"SK not last":            {&Encrypted{}, &Nonce{Data: pattern(0, 16)}},
		"two SK":                 {&Encrypted{}, &Encrypted{}},
		"short nonce":            {&Nonce{Data: pattern(0, 15)}},
		"long nonce":             {&Nonce{Data: pattern(0, 257)}},
		"SA without proposals":   {&SA{}},
		"proposal gap":           {&SA{Proposals: []Proposal{{Number: 1}, {Number: 3}}}},
		"key length range":       {&SA{Proposals: []Proposal{{Transforms: []Transform{{KeyLength: 70000}}}}}},
		"key length attribute":   {&SA{Proposals: []Proposal{{Transforms: []Transform{{Attributes: []Attribute{{Type: AttributeKeyLength, TV: true, Value: []byte{1, 0}}}}}}}}},
		"TV value size":          {&SA{Proposals: []Proposal{{Transforms: []Transform{{Attributes: []Attribute{{Type: 5, TV: true, Value: []byte{1}}}}}}}}},
		"spi too long":           {&Notify{SPI: make([]byte, 256)}},
		"ipv4 id size":           {&IDi{Type: ID_IPV4_ADDR, Data: []byte{1, 2, 3}}},
		"mixed TS":               {&TSi{Selectors: []TrafficSelector{{Start: mustAddr("192.0.2.1"), End: mustAddr("2001:db8::1")}}}},
		"zero TS":                {&TSi{Selectors: []TrafficSelector{{}}}},
		"zoned TS":               {&TSi{Selectors: []TrafficSelector{{Start: mustAddr("fe80::1%eth0"), End: mustAddr("fe80::2%eth0")}}}},
		"delete IKE with SPIs":   {&Delete{Protocol: ProtocolIKE, SPIs: []uint32{1}}},
		"delete of protocol 9":   {&Delete{Protocol: 9}},
		"unknown of known type":  {&Unknown{Type: PayloadSA}},
		"unknown of type none":   {&Unknown{}},
		"SKF number 0":           {&EncryptedFragment{Total: 1}},
		"SKF later names first":  {&EncryptedFragment{First: PayloadIDi, Number: 2, Total: 2}},
		"nil payload":            {nil},
		"payload over 64 KiB":    {&VendorID{Data: make([]byte, 65532)}},
		"CP attribute type bits": {&CP{Attributes: []ConfigAttribute{{Type: 0x8001}}}},
	}
	for name, ps := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := (&Message{Payloads: ps}).Marshal()
			if !errors.Is(err, ErrCannotEncode) {
				t.Fatalf("Marshal: %v, want ErrCannotEncode", err)
			}
			t.Log(err)
		})
	}
}

// A payload of exactly 65535 bytes is the largest that fits.
func TestBuildLargestPayload(t *testing.T) {
	m := &Message{Payloads: []Payload{&VendorID{Data: make([]byte, 65535-genericHeaderLen)}}}
	sameMessage(t, mustParse(t, mustMarshal(t, m)), m)
}

// Inner payload chains, as carried inside SK, round-trip through
// AppendPayloads and ParsePayloads.
func TestRoundTripInnerChain(t *testing.T) {
	ps := everyPayload()
	first, chain, err := AppendPayloads(nil, ps)
	if err != nil {
		t.Fatal(err)
	}
	if first != PayloadSA {
		t.Fatalf("first %v, want SA", first)
	}
	got, err := ParsePayloads(first, chain)
	if err != nil {
		t.Fatal(err)
	}
	samePayloads(t, got, ps)
	if _, _, err := AppendPayloads(nil, []Payload{&Encrypted{}}); !errors.Is(err, ErrCannotEncode) {
		t.Fatalf("SK inside SK: %v, want ErrCannotEncode", err)
	}
}

func TestFind(t *testing.T) {
	m := typicalInit()
	if sa, ok := Find[*SA](m.Payloads); !ok || len(sa.Proposals) != 2 {
		t.Fatal("Find[*SA] failed")
	}
	if _, ok := Find[*IDi](m.Payloads); ok {
		t.Fatal("Find[*IDi] found a payload that is not there")
	}
	if n, ok := FindNotify(m.Payloads, NAT_DETECTION_DESTINATION_IP); !ok || n.Data[0] != 0x30 {
		t.Fatal("FindNotify failed")
	}
	if _, ok := FindNotify(m.Payloads, COOKIE); ok {
		t.Fatal("FindNotify found a COOKIE that is not there")
	}
}
