package v1

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// checkParseError fails unless err is a *ParseError wrapping one of the
// package's sentinels, with an offset inside the input.
func checkParseError(t *testing.T, err error, n int) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) || NotifyFor(err) == 0 {
		t.Fatalf("error outside the package's kinds: %v", err)
	}
	if pe.Offset < 0 || pe.Offset > n {
		t.Fatalf("offset %d outside the %d-byte input: %v", pe.Offset, n, err)
	}
}

// FuzzParse feeds any bytes to Parse: it must return a *ParseError or a
// message that encodes to bytes that parse to the same value and encode
// to the same bytes again. Each input is tried as it is and with the
// header's Length fixed up, so that mutations that change the size still
// reach the payloads. An encrypted body is also decoded as if it were the
// decrypted plaintext, to reach ParseDecrypted and its padding.
func FuzzParse(f *testing.F) {
	for _, b := range validMessages(f) {
		f.Add(b)
	}
	for name, first := range strongSwanPlaintexts {
		b, _ := MarshalEncrypted(Header{InitiatorCookie: 1, ResponderCookie: 2, Exchange: QuickMode}, first, readHex(f, name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzMessage(t, b)
		if len(b) >= HeaderLen {
			b = bytes.Clone(b)
			binary.BigEndian.PutUint32(b[offsetLength:], uint32(len(b)))
			fuzzMessage(t, b)
		}
	})
}

func fuzzMessage(t *testing.T, b []byte) {
	in := bytes.Clone(b)
	m, err := Parse(b)
	if err != nil {
		checkParseError(t, err, len(b))
		return
	}
	if !bytes.Equal(b, in) {
		t.Fatal("Parse modified its input")
	}
	for i := range m.Payloads {
		if raw := m.Raw(i); len(raw) < genericHeaderLen || PayloadType(raw[0]) != nextType(m.Payloads, i) {
			t.Fatalf("payload %d: raw bytes %x do not start with its generic header", i+1, raw)
		}
	}
	enc, err := m.Marshal()
	if err != nil {
		t.Fatalf("parsed value does not encode: %v", err)
	}
	m2, err := Parse(enc)
	if err != nil {
		t.Fatalf("re-encoding does not parse: %v\n%x", err, enc)
	}
	sameMessage(t, m2, m)
	if enc2, _ := m2.Marshal(); !bytes.Equal(enc2, enc) {
		t.Fatal("encoding is not stable")
	}
	if m.Header.Encrypted() {
		fuzzDecrypted(t, m.Header.NextPayload, m.Encrypted)
	}
}

func nextType(ps []Payload, i int) PayloadType {
	if i+1 < len(ps) {
		return ps[i+1].PayloadType()
	}
	return PayloadNone
}

func fuzzDecrypted(t *testing.T, first PayloadType, plaintext []byte) {
	c, err := ParseDecrypted(first, plaintext)
	if err != nil {
		checkParseError(t, err, len(plaintext))
		return
	}
	built, err := BuildChain(c.Payloads)
	if err != nil {
		t.Fatalf("decrypted payloads do not encode: %v", err)
	}
	if len(c.Payloads) > 0 {
		first = c.Payloads[0].PayloadType()
	}
	again, err := ParseDecrypted(first, append(bytes.Clone(built.Bytes()), c.Padding...))
	if err != nil {
		t.Fatalf("decrypted re-encoding does not parse: %v", err)
	}
	samePayloads(t, again.Payloads, c.Payloads)
	if !bytes.Equal(again.Padding, c.Padding) {
		t.Fatal("padding changed")
	}
}
