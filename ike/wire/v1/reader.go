package v1

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// reader is a cryptobyte.String that knows where in the input it stands,
// so that a parse error names the offset of the field that was wrong and
// the payload it belongs to. Reads return false at the end of the region
// and never panic.
type reader struct {
	s       cryptobyte.String
	end     int         // offset in the input one past the region's last byte
	payload PayloadType // for errors
}

func newReader(b []byte, base int, payload PayloadType) reader {
	return reader{s: b, end: base + len(b), payload: payload}
}

// offset is where the next read starts, counted from the input's start.
func (r *reader) offset() int { return r.end - len(r.s) }

func (r *reader) empty() bool { return r.s.Empty() }
func (r *reader) left() int   { return len(r.s) }

func (r *reader) u8(v *uint8) bool   { return r.s.ReadUint8(v) }
func (r *reader) u16(v *uint16) bool { return r.s.ReadUint16(v) }
func (r *reader) u32(v *uint32) bool { return r.s.ReadUint32(v) }
func (r *reader) u64(v *uint64) bool { return r.s.ReadUint64(v) }
func (r *reader) skip(n int) bool    { return r.s.Skip(n) }

// bytes reads n bytes, aliasing the input. Zero bytes read as nil, so a
// parsed value compares equal to one built with nil fields.
func (r *reader) bytes(v *[]byte, n int) bool {
	var b []byte
	if n < 0 || !r.s.ReadBytes(&b, n) {
		return false
	}
	*v = nilIfEmpty(b)
	return true
}

// rest reads everything left.
func (r *reader) rest() []byte {
	b := r.s
	r.s = nil
	return nilIfEmpty(b)
}

// sub reads the next n bytes as a reader of their own, for a structure
// whose length field has just been read.
func (r *reader) sub(n int, payload PayloadType) (reader, bool) {
	start := r.offset()
	var b []byte
	if n < 0 || !r.s.ReadBytes(&b, n) {
		return reader{}, false
	}
	return newReader(b, start, payload), true
}

// errorf reports malformed bytes at offset at.
func (r *reader) errorf(at int, format string, args ...any) *ParseError {
	return &ParseError{Payload: r.payload, Offset: at, Reason: fmt.Sprintf(format, args...), Err: ErrInvalidSyntax}
}

// short reports that the region ended inside a field.
func (r *reader) short(at int, what string, want int) *ParseError {
	return r.errorf(at, "%s needs %d bytes, %d left", what, want, r.end-at)
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
