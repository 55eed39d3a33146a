package octets

import (
	"bytes"
	"testing"
)

// FuzzReader drives a Reader with a program taken from the input: each
// step reads a field, a length-prefixed sub-region or the rest. No read
// may panic, a failed read must consume nothing, and what is read must be
// the input's bytes in order (the Builder writes them back identically).
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{0x12, 0x34, 0x56})
	f.Add([]byte{4, 5, 6}, []byte{2, 0xaa, 0xbb, 0xcc})
	f.Add([]byte{3, 3, 3, 4, 0, 1, 2}, bytes.Repeat([]byte{1}, 20))
	f.Fuzz(func(t *testing.T, program, in []byte) {
		r := NewReader(in, 7)
		var b Builder
		for _, op := range program {
			before := r.Left()
			ok := step(&r, &b, op)
			switch {
			case !ok && r.Left() != before:
				t.Fatalf("op %d failed but consumed %d bytes", op, before-r.Left())
			case r.Offset() != 7+len(in)-r.Left() || r.End() != 7+len(in):
				t.Fatalf("op %d: Offset %d End %d with %d left of %d", op, r.Offset(), r.End(), r.Left(), len(in))
			}
		}
		b.Append(r.Rest())
		if !bytes.Equal(b.Bytes(), in) {
			t.Fatalf("read back %x, want %x", b.Bytes(), in)
		}
	})
}

// step performs one read chosen by op and appends what it read to b.
func step(r *Reader, b *Builder, op byte) bool {
	switch op % 7 {
	case 0:
		var v uint8
		ok := r.U8(&v)
		if ok {
			b.U8(v)
		}
		return ok
	case 1:
		var v uint16
		ok := r.U16(&v)
		if ok {
			b.U16(v)
		}
		return ok
	case 2:
		var v uint32
		ok := r.U32(&v)
		if ok {
			b.U32(v)
		}
		return ok
	case 3:
		var v uint64
		ok := r.U64(&v)
		if ok {
			b.U64(v)
		}
		return ok
	case 4:
		var v []byte
		ok := r.Bytes(&v, int(op>>3)-4)
		if ok {
			b.Append(v)
		}
		return ok
	case 5:
		s, ok := r.Sub(int(op>>3) - 4)
		if ok {
			b.Append(s.Rest())
		}
		return ok
	default:
		n := int(op>>3) - 4
		before := *r
		ok := r.Skip(n)
		if ok {
			var v []byte
			before.Bytes(&v, n)
			b.Append(v)
		}
		return ok
	}
}
