package v1

import (
	"fmt"

	"ipsecgw/ike/wire/octets"
)

// builder appends payloads. ISAKMP's length fields count the whole
// structure they sit in, generic header included, and come after other
// fields, so a structure is opened at its first byte with its length
// written as zero and closed once its contents are appended, which
// back-patches the length. The first error sticks; later appends go on
// harmlessly and are thrown away.
type builder struct {
	octets.Builder
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

func newBuilder(dst []byte) builder { return builder{Builder: octets.NewBuilder(dst)} }

// fail records the first error.
func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = encodeError("%s%s", b.at, fmt.Sprintf(format, args...))
	}
}

// close16 back-patches the 16-bit length, lengthAt bytes into the
// structure opened at start.
func (b *builder) close16(start, lengthAt int, what string) {
	if n, ok := b.Close16(start, lengthAt); !ok {
		b.fail("%s is %d bytes, more than a 16-bit length can say", what, n)
	}
}

// u8Len writes a count or size that must fit one byte.
func (b *builder) u8Len(n int, what string) {
	if !b.U8Len(n) {
		b.fail("%s is %d, more than one byte can say", what, n)
	}
}

// u16Len writes a count or size that must fit two bytes.
func (b *builder) u16Len(n int, what string) {
	if !b.U16Len(n) {
		b.fail("%s is %d, more than two bytes can say", what, n)
	}
}
