package octets

import (
	"encoding/binary"
	"math"
)

// Builder appends to a byte slice. The zero value appends to nil.
type Builder struct {
	buf []byte
}

// NewBuilder appends to dst, keeping what it holds.
func NewBuilder(dst []byte) Builder { return Builder{buf: dst} }

// Bytes is everything appended so far, dst's bytes included. It aliases
// the builder's buffer: a later append may or may not move it.
func (b *Builder) Bytes() []byte { return b.buf }

// Len is len(Bytes()).
func (b *Builder) Len() int { return len(b.buf) }

func (b *Builder) U8(v uint8)   { b.buf = append(b.buf, v) }
func (b *Builder) U16(v uint16) { b.buf = binary.BigEndian.AppendUint16(b.buf, v) }
func (b *Builder) U32(v uint32) { b.buf = binary.BigEndian.AppendUint32(b.buf, v) }
func (b *Builder) U64(v uint64) { b.buf = binary.BigEndian.AppendUint64(b.buf, v) }

// Append appends v.
func (b *Builder) Append(v []byte) { b.buf = append(b.buf, v...) }

// AppendWith lets an append-style function (func(dst []byte) []byte, the
// shape of strconv.AppendInt) write at the end: for bytes that are also
// needed outside a message, such as the ID payload body AUTH signs.
func (b *Builder) AppendWith(f func(dst []byte) []byte) { b.buf = f(b.buf) }

// Zeros appends n zero bytes (none for n <= 0).
func (b *Builder) Zeros(n int) {
	for range n {
		b.buf = append(b.buf, 0)
	}
}

// Open starts a structure at the current end and returns where, for Close16
// or Close32. Its length field must be written (as zero) before closing.
func (b *Builder) Open() int { return len(b.buf) }

// Close16 back-patches the 16-bit length field lengthAt bytes into the
// structure opened at start with the structure's length, which it returns.
// A length over 65535 is not written and ok is false.
func (b *Builder) Close16(start, lengthAt int) (n int, ok bool) {
	n = len(b.buf) - start
	if n > math.MaxUint16 {
		return n, false
	}
	binary.BigEndian.PutUint16(b.buf[start+lengthAt:], uint16(n))
	return n, true
}

// Close32 is Close16 for a 32-bit length field.
func (b *Builder) Close32(start, lengthAt int) (n int, ok bool) {
	n = len(b.buf) - start
	if uint64(n) > math.MaxUint32 {
		return n, false
	}
	binary.BigEndian.PutUint32(b.buf[start+lengthAt:], uint32(n))
	return n, true
}

// U8Len writes a count or size that must fit one byte; ok is false (and
// the low byte written) when it does not.
func (b *Builder) U8Len(n int) (ok bool) {
	b.U8(uint8(n))
	return n >= 0 && n <= math.MaxUint8
}

// U16Len is U8Len for two bytes.
func (b *Builder) U16Len(n int) (ok bool) {
	b.U16(uint16(n))
	return n >= 0 && n <= math.MaxUint16
}
