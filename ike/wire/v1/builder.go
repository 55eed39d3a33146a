package v1

import (
	"encoding/binary"
	"fmt"
	"math"
)

// builder appends payloads. ISAKMP's length fields count the whole
// structure they sit in, generic header included, and come after other
// fields, so a structure is opened at its first byte with its length
// written as zero and closed once its contents are appended, which
// back-patches the length. The first error sticks; later appends go on
// harmlessly and are thrown away.
type builder struct {
	buf []byte
	err error
	at  position // what is being written, for errors
}

// position names the structure being written, kept as numbers and turned
// into words only when an error is reported.
type position struct {
	payload             int // 1-based index in the chain, 0 outside one
	payloadType         PayloadType
	proposal, transform int // 1-based, 0 outside one
}

func (p position) String() string {
	if p.payload == 0 {
		return ""
	}
	s := fmt.Sprintf("payload %d (%v)", p.payload, p.payloadType)
	if p.proposal > 0 {
		s += fmt.Sprintf(": proposal %d", p.proposal)
	}
	if p.transform > 0 {
		s += fmt.Sprintf(": transform %d", p.transform)
	}
	return s + ": "
}

func (b *builder) u8(v uint8)     { b.buf = append(b.buf, v) }
func (b *builder) u16(v uint16)   { b.buf = binary.BigEndian.AppendUint16(b.buf, v) }
func (b *builder) u32(v uint32)   { b.buf = binary.BigEndian.AppendUint32(b.buf, v) }
func (b *builder) u64(v uint64)   { b.buf = binary.BigEndian.AppendUint64(b.buf, v) }
func (b *builder) bytes(v []byte) { b.buf = append(b.buf, v...) }

// fail records the first error.
func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = encodeError("%s%s", b.at, fmt.Sprintf(format, args...))
	}
}

// open starts a structure here.
func (b *builder) open() int { return len(b.buf) }

// close16 back-patches the 16-bit length, lengthAt bytes into the
// structure opened at start.
func (b *builder) close16(start, lengthAt int, what string) {
	n := len(b.buf) - start
	if n > math.MaxUint16 {
		b.fail("%s is %d bytes, more than a 16-bit length can say", what, n)
		return
	}
	binary.BigEndian.PutUint16(b.buf[start+lengthAt:], uint16(n))
}

// u8Len writes a count or size that must fit one byte.
func (b *builder) u8Len(n int, what string) {
	if n > math.MaxUint8 {
		b.fail("%s is %d, more than one byte can say", what, n)
	}
	b.u8(uint8(n))
}

// u16Len writes a count or size that must fit two bytes.
func (b *builder) u16Len(n int, what string) {
	if n > math.MaxUint16 {
		b.fail("%s is %d, more than two bytes can say", what, n)
	}
	b.u16(uint16(n))
}
