package wire

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

// FuzzParseMessage feeds any bytes to Parse: it must return a *ParseError
// or a value that encodes to a message that parses to the same value and
// encodes to the same bytes again. Each input is tried as it is and with
// the header's Length fixed up, so that mutations that change the size
// still reach the payloads. An SK payload's body is also decoded as if it
// were decrypted contents, to reach the inner chain and padding.
func FuzzParseMessage(f *testing.F) {
	for _, b := range validMessages(f) {
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
	if n := len(m.Payloads); n > 0 {
		if sk, ok := m.Payloads[n-1].(*Encrypted); ok {
			fuzzInner(t, sk.First, sk.Body)
			c := CipherSizes{IV: int(b[0] % 20), Block: int(b[1] % 20), ICV: int(b[2] % 20)}
			if r, err := m.Regions(c); err == nil && len(r.Integrity)+len(r.ICV) != len(b) {
				t.Fatal("Regions do not cover the message")
			}
		}
	}
}

func fuzzInner(t *testing.T, first PayloadType, plaintext []byte) {
	ps, err := ParseInner(first, plaintext)
	if err != nil {
		checkParseError(t, err, len(plaintext))
		return
	}
	first2, chain, err := AppendPayloads(nil, ps)
	if err != nil {
		t.Fatalf("inner payloads do not encode: %v", err)
	}
	ps2, err := ParsePayloads(first2, chain)
	if err != nil {
		t.Fatalf("inner re-encoding does not parse: %v", err)
	}
	samePayloads(t, ps2, ps)
}

// FuzzParseSA feeds any bytes to the SA payload body parser, the most
// nested structure on the wire.
func FuzzParseSA(f *testing.F) {
	for _, sa := range []*SA{typicalSA(), everyPayload()[1].(*SA)} {
		var b builder
		sa.encode(&b)
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := newReader(body, 0, PayloadSA)
		p, err := parseSA(&r)
		if err != nil {
			checkParseError(t, err, len(body))
			return
		}
		var b builder
		p.encode(&b)
		if b.err != nil {
			t.Fatalf("parsed SA does not encode: %v", b.err)
		}
		r2 := newReader(b.Bytes(), 0, PayloadSA)
		p2, err := parseSA(&r2)
		if err != nil {
			t.Fatalf("re-encoding does not parse: %v", err)
		}
		samePayloads(t, []Payload{p2}, []Payload{p})
	})
}
