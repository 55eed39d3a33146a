package octets

import (
	"bytes"
	"testing"
)

func TestReaderReadsFields(t *testing.T) {
	msg := []byte{0xff, 0xee, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0xaa, 0xbb}
	r := NewReader(msg[2:], 2) // a region that starts two bytes in
	var (
		a uint8
		b uint16
		c uint32
		d uint64
		e []byte
	)
	if !r.U8(&a) || !r.U16(&b) || !r.U32(&c) || !r.U64(&d) || !r.Bytes(&e, 2) {
		t.Fatal("a read inside the region failed")
	}
	if a != 1 || b != 0x0203 || c != 0x04050607 || d != 0x08090a0b0c0d0e0f || !bytes.Equal(e, []byte{16, 17}) {
		t.Fatalf("read %x %x %x %x %x", a, b, c, d, e)
	}
	if got := r.Offset(); got != 19 {
		t.Fatalf("Offset %d, want 19 (counted from the message's start)", got)
	}
	if r.End() != len(msg) || r.Left() != 2 || r.Empty() {
		t.Fatalf("End %d Left %d Empty %v", r.End(), r.Left(), r.Empty())
	}
	rest := r.Rest()
	if !bytes.Equal(rest, []byte{0xaa, 0xbb}) || !r.Empty() || r.Offset() != r.End() {
		t.Fatalf("Rest %x, then Empty %v Offset %d", rest, r.Empty(), r.Offset())
	}
	if r.Rest() != nil {
		t.Fatal("Rest of an empty region is not nil")
	}
}

// Every read past the end fails, consumes nothing, and leaves what was
// there readable.
func TestReaderShortReadsFailWithoutConsuming(t *testing.T) {
	for n := range 8 {
		in := bytes.Repeat([]byte{7}, n)
		r := NewReader(in, 100)
		var (
			u16 uint16
			u32 uint32
			u64 uint64
			b   []byte
		)
		if n < 2 && r.U16(&u16) || n < 4 && r.U32(&u32) || r.U64(&u64) ||
			r.Bytes(&b, n+1) || r.Bytes(&b, -1) || r.Skip(n+1) || r.Skip(-1) {
			t.Fatalf("%d bytes: a read past the end succeeded", n)
		}
		if _, ok := r.Sub(n + 1); ok {
			t.Fatalf("%d bytes: Sub past the end succeeded", n)
		}
		if _, ok := r.Sub(-1); ok {
			t.Fatalf("%d bytes: Sub(-1) succeeded", n)
		}
		if n < 2 && r.Left() != n {
			t.Fatalf("%d bytes: failed reads consumed; %d left", n, r.Left())
		}
	}
	var r Reader
	var v uint8
	if r.U8(&v) || !r.Empty() || r.Offset() != 0 {
		t.Fatal("the zero Reader is not an empty region at offset 0")
	}
}

func TestReaderSub(t *testing.T) {
	r := NewReader([]byte{0, 0, 3, 9, 8, 7, 6}, 10)
	if !r.Skip(2) {
		t.Fatal("Skip")
	}
	var n uint8
	r.U8(&n)
	s, ok := r.Sub(int(n))
	if !ok {
		t.Fatal("Sub")
	}
	if s.Offset() != 13 || s.End() != 16 || s.Left() != 3 {
		t.Fatalf("sub-reader at %d..%d with %d left, want 13..16 with 3", s.Offset(), s.End(), s.Left())
	}
	if r.Offset() != 16 || r.Left() != 1 {
		t.Fatalf("outer reader at %d with %d left, want 16 with 1", r.Offset(), r.Left())
	}
	var zero []byte
	if !s.Bytes(&zero, 0) || zero != nil {
		t.Fatal("zero bytes do not read as nil")
	}
}

// Appending to bytes read from a message must never overwrite the
// message.
func TestReaderBytesDoNotAliasWhatFollows(t *testing.T) {
	msg := []byte{1, 2, 3, 4}
	r := NewReader(msg, 0)
	var b []byte
	r.Bytes(&b, 2)
	_ = append(b, 0xff)
	rest := r.Rest()
	_ = append(rest, 0xee)
	if !bytes.Equal(msg, []byte{1, 2, 3, 4}) {
		t.Fatalf("appending to read bytes changed the message: %x", msg)
	}
}
