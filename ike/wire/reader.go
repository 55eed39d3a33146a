package wire

import (
	"fmt"

	"ipsecgw/ike/wire/octets"
)

// reader is an octets.Reader that also knows which payload it is in, so
// that every parse error can name the offset of the field that was wrong
// and the payload it belongs to. Reads return false at the end of the
// region and never panic.
type reader struct {
	octets.Reader
	payload PayloadType // for errors
}

func newReader(b []byte, base int, payload PayloadType) reader {
	return reader{Reader: octets.NewReader(b, base), payload: payload}
}

// sub reads the next n bytes as a reader of their own, for a structure
// whose length field has just been read.
func (r *reader) sub(n int, payload PayloadType) (reader, bool) {
	s, ok := r.Sub(n)
	return reader{Reader: s, payload: payload}, ok
}

// errorf reports a syntax error at offset at.
func (r *reader) errorf(at int, format string, args ...any) *ParseError {
	return &ParseError{Payload: r.payload, Offset: at, Reason: fmt.Sprintf(format, args...), Err: ErrInvalidSyntax}
}

// short reports that the region ended inside a field.
func (r *reader) short(at int, what string, want int) *ParseError {
	return r.errorf(at, "%s needs %d bytes, %d left", what, want, r.End()-at)
}
