package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// validMessages are the messages the prefix test cuts up.
func validMessages(t testing.TB) map[string][]byte {
	every := &Message{Header: Header{InitiatorSPI: 1, ResponderSPI: 2, Exchange: IKE_AUTH}, Payloads: everyPayload()}
	sk := &Message{Header: Header{InitiatorSPI: 1, ResponderSPI: 2, Exchange: IKE_AUTH},
		Payloads: []Payload{&Notify{Type: INITIAL_CONTACT}, &Encrypted{First: PayloadIDi, Body: pattern(0, 40)}}}
	skf := &Message{Header: Header{InitiatorSPI: 1, ResponderSPI: 2, Exchange: IKE_AUTH},
		Payloads: []Payload{&EncryptedFragment{First: PayloadIDi, Number: 1, Total: 2, Body: pattern(0, 40)}}}
	return map[string][]byte{
		"IKE_SA_INIT":        mustMarshal(t, typicalInit()),
		"every payload":      mustMarshal(t, every),
		"SK":                 mustMarshal(t, sk),
		"SKF":                mustMarshal(t, skf),
		"strongSwan request": readVector(t, strongSwanInit),
	}
}

// Every prefix of a valid message fails to parse: as it is (the header's
// Length no longer matches) and with Length fixed up to the prefix, so
// that the payload chain itself must notice the missing bytes.
func TestEveryPrefixFails(t *testing.T) {
	for name, b := range validMessages(t) {
		t.Run(name, func(t *testing.T) {
			mustParse(t, b)
			for i := range len(b) {
				if m, err := Parse(b[:i]); err == nil {
					t.Fatalf("prefix of %d bytes parsed: %v", i, describe(m.Payloads))
				}
				if i < HeaderLen {
					continue
				}
				p := bytes.Clone(b[:i])
				binary.BigEndian.PutUint32(p[offsetLength:], uint32(i))
				m, err := Parse(p)
				if err == nil {
					t.Fatalf("prefix of %d bytes with Length fixed parsed: %v", i, describe(m.Payloads))
				}
				if NotifyFor(err) != INVALID_SYNTAX {
					t.Fatalf("prefix of %d bytes: %v, want an INVALID_SYNTAX error", i, err)
				}
			}
		})
	}
}

// The same for an SA payload body and an inner payload chain.
func TestEveryPrefixFailsSAAndInner(t *testing.T) {
	var b builder
	typicalSA().encode(&b)
	sa := b.Bytes()
	for i := range len(sa) {
		r := newReader(sa[:i], 0, PayloadSA)
		if _, err := parseSA(&r); err == nil {
			t.Fatalf("SA body prefix of %d bytes parsed", i)
		}
	}
	first, chain, err := AppendPayloads(nil, everyPayload())
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(chain) {
		if _, err := ParsePayloads(first, chain[:i]); err == nil {
			t.Fatalf("chain prefix of %d bytes parsed", i)
		}
	}
}

// patched encodes m, then lets edit change bytes; the Length field is fixed
// afterwards unless edit changed it.
func patched(t testing.TB, m *Message, edit func(b []byte) []byte) []byte {
	b := mustMarshal(t, m)
	n := len(b)
	b = edit(b)
	if len(b) != n && binary.BigEndian.Uint32(b[offsetLength:]) == uint32(n) {
		binary.BigEndian.PutUint32(b[offsetLength:], uint32(len(b)))
	}
	return b
}

// asType builds a message holding one Vendor ID payload with body data and
// relabels it as payload type t, to feed a payload parser bytes the
// builder would refuse to write.
func asType(t testing.TB, pt PayloadType, body []byte) []byte {
	return patched(t, &Message{Payloads: []Payload{&VendorID{Data: body}}}, func(b []byte) []byte {
		b[offsetNextPayload] = byte(pt)
		return b
	})
}

// Parse errors name the payload, the offset of the offending field and
// what was expected. Offsets in the IKE_SA_INIT below: SA payload at 28,
// proposal 1 at 32 (number at 36, Num Transforms at 39), its transform 1
// at 40 (length at 42, Key Length attribute at 48, value at 50), its
// transform 4 at 68, proposal 2 at 76; the message is 274 bytes.
func TestParseErrors(t *testing.T) {
	init := typicalInit()
	set := func(at int, v ...byte) func([]byte) []byte {
		return func(b []byte) []byte { copy(b[at:], v); return b }
	}
	cases := []struct {
		name    string
		msg     []byte
		payload PayloadType
		offset  int
		reason  string
		notify  NotifyType
	}{
		{"major version 3", patched(t, init, set(offsetVersion, 0x30)), PayloadNone, 17, "major version 3, want 2", INVALID_MAJOR_VERSION},
		{"length field", patched(t, init, func(b []byte) []byte { b[offsetLength+3]++; return b }), PayloadNone, 24, "Length field says", INVALID_SYNTAX},
		{"short header", mustMarshal(t, init)[:27], PayloadNone, 0, "IKE header needs 28 bytes, 27 left", INVALID_SYNTAX},
		{"too few transforms", patched(t, init, set(39, 5)), PayloadSA, 39, "Num Transforms says 5, found 4", INVALID_SYNTAX},
		{"too many transforms", patched(t, init, set(39, 3)), PayloadSA, 68, "Num Transforms says 3, more follow", INVALID_SYNTAX},
		{"proposal numbering", patched(t, init, set(36, 2)), PayloadSA, 80, "proposal 2 is numbered 2, want 3", INVALID_SYNTAX},
		{"proposal number 0", patched(t, init, set(36, 0)), PayloadSA, 36, "proposal number 0", INVALID_SYNTAX},
		{"proposal says last", patched(t, init, set(32, 0)), PayloadSA, 32, "Last Substruc says last, but 44 bytes follow", INVALID_SYNTAX},
		{"proposal last value", patched(t, init, set(32, 1)), PayloadSA, 32, "Last Substruc 1, want 0 or 2", INVALID_SYNTAX},
		{"key length TLV", patched(t, init, set(48, 0x00, 0x0e, 0, 0)), PayloadSA, 48, "Key Length in TLV form, want TV", INVALID_SYNTAX},
		{"key length 0", patched(t, init, set(50, 0, 0)), PayloadSA, 50, "Key Length 0", INVALID_SYNTAX},
		{"attribute overruns", patched(t, init, set(48, 0x00, 0x0e, 0, 9)), PayloadSA, 50, "attribute 14 needs 9 value bytes, 0 left", INVALID_SYNTAX},
		{"transform length", patched(t, init, set(42, 0, 7)), PayloadSA, 42, "Transform Length 7, want at least 8", INVALID_SYNTAX},
		{"payload length 3", patched(t, init, set(30, 0, 3)), PayloadSA, 30, "Payload Length 3, want at least 4", INVALID_SYNTAX},
		{"payload length long", patched(t, init, set(30, 0xff, 0xff)), PayloadSA, 30, "Payload Length 65535, only", INVALID_SYNTAX},
		{"trailing byte", patched(t, init, func(b []byte) []byte { return append(b, 0) }), PayloadNone, 274, "1 bytes after the last payload", INVALID_SYNTAX},
		{"chain names a missing payload", patched(t, &Message{Payloads: []Payload{&VendorID{}}}, set(28, byte(PayloadNonce))),
			PayloadNone, 32, "Next Payload names Nonce, but the message ends", INVALID_SYNTAX},
		{"nonce too short", asType(t, PayloadNonce, pattern(0, 15)), PayloadNonce, 32, "nonce is 15 bytes, want 16 to 256", INVALID_SYNTAX},
		{"IPv4 ID of 5 bytes", asType(t, PayloadIDi, []byte{1, 0, 0, 0, 192, 0, 2, 1, 0}), PayloadIDi, 36, "ID_IPV4_ADDR data is 5 bytes, want 4", INVALID_SYNTAX},
		{"delete ESP SPI size 8", asType(t, PayloadDelete, []byte{3, 8, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8}), PayloadDelete, 33, "SPI Size 8 for ESP, want 4", INVALID_SYNTAX},
		{"delete ESP count", asType(t, PayloadDelete, []byte{3, 4, 0, 2, 1, 2, 3, 4}), PayloadDelete, 34, "Num of SPIs 2 needs 8 bytes, 4 left", INVALID_SYNTAX},
		{"delete extra bytes", asType(t, PayloadDelete, []byte{1, 0, 0, 0, 9}), PayloadDelete, 36, "1 bytes after the payload's fields", INVALID_SYNTAX},
		{"TS selector length", asType(t, PayloadTSi, []byte{1, 0, 0, 0, 7, 0, 0, 17, 0, 0, 255, 255, 192, 0, 2, 0, 192, 0, 2, 255, 0}),
			PayloadTSi, 38, "Selector Length 17 for TS_IPV4_ADDR_RANGE, want 16", INVALID_SYNTAX},
		{"TS type", asType(t, PayloadTSr, []byte{1, 0, 0, 0, 9, 0, 0, 16, 0, 0, 255, 255, 192, 0, 2, 0, 192, 0, 2, 255}),
			PayloadTSr, 36, "TS Type 9, want 7 (IPv4) or 8 (IPv6)", INVALID_SYNTAX},
		{"TS count", asType(t, PayloadTSr, []byte{2, 0, 0, 0, 7, 0, 0, 16, 0, 0, 255, 255, 192, 0, 2, 0, 192, 0, 2, 255}),
			PayloadTSr, 32, "Number of TSs says 2, found 1", INVALID_SYNTAX},
		{"SK not last", patched(t, &Message{Payloads: []Payload{&VendorID{Data: []byte{1}}, &VendorID{}}}, set(16, byte(PayloadSK))),
			PayloadNone, 33, "4 bytes after the SK payload, which must be last", INVALID_SYNTAX},
		{"SKF total 0", asType(t, PayloadSKF, []byte{0, 1, 0, 0}), PayloadSKF, 32, "Total Fragments 0", INVALID_SYNTAX},
		{"SKF number over total", asType(t, PayloadSKF, []byte{0, 3, 0, 2}), PayloadSKF, 32, "Fragment Number 3, want 1 to 2", INVALID_SYNTAX},
		{"CP attribute overruns", asType(t, PayloadCP, []byte{1, 0, 0, 0, 0, 1, 0, 4, 1}), PayloadCP, 38, "Length 4, only 1 bytes left", INVALID_SYNTAX},
		{"SA without proposals", asType(t, PayloadSA, nil), PayloadSA, 32, "no proposals", INVALID_SYNTAX},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.msg)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse: %v, want a *ParseError", err)
			}
			t.Log(err)
			if pe.Payload != c.payload || pe.Offset != c.offset || !strings.Contains(pe.Reason, c.reason) {
				t.Fatalf("got %v payload, offset %d, %q; want %v payload, offset %d, %q",
					pe.Payload, pe.Offset, pe.Reason, c.payload, c.offset, c.reason)
			}
			if got := NotifyFor(err); got != c.notify {
				t.Fatalf("NotifyFor: %v, want %v", got, c.notify)
			}
		})
	}
}

// A header with another major version still tells whom to answer.
func TestParseHeaderVersion(t *testing.T) {
	b := mustMarshal(t, typicalInit())
	b[offsetVersion] = 0x31
	h, err := ParseHeader(b)
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("ParseHeader: %v, want ErrUnsupportedVersion", err)
	}
	if h.InitiatorSPI != 0x0123456789abcdef || h.Exchange != IKE_SA_INIT || !h.FromInitiator() || h.IsResponse() {
		t.Fatalf("header %+v not filled in", h)
	}
	if NotifyFor(errors.New("other")) != 0 {
		t.Fatal("NotifyFor of a foreign error is not zero")
	}
}

// Unknown payloads keep their Critical bit; known ones ignore it (§3.2).
func TestCriticalBit(t *testing.T) {
	b := mustMarshal(t, &Message{Payloads: []Payload{&VendorID{Data: []byte("v")}, &Unknown{Type: 222, Critical: true, Body: []byte{1}}}})
	b[HeaderLen+1] = criticalBit // on the Vendor ID
	m := mustParse(t, b)
	if _, ok := m.Payloads[0].(*VendorID); !ok {
		t.Fatalf("payload 1 is %T, want *VendorID", m.Payloads[0])
	}
	if u, ok := m.Payloads[1].(*Unknown); !ok || !u.Critical || u.Type != 222 {
		t.Fatalf("payload 2 is %+v, want critical Unknown 222", m.Payloads[1])
	}
}
