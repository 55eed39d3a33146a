package wire

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidSyntax: the bytes are not a well-formed IKEv2 message or
	// payload; the answer is INVALID_SYNTAX (§3.10.1).
	ErrInvalidSyntax = errors.New("ike/wire: invalid syntax")
	// ErrUnsupportedVersion: the header's major version is not 2; the
	// answer is INVALID_MAJOR_VERSION (§2.5).
	ErrUnsupportedVersion = errors.New("ike/wire: unsupported major version")
	// ErrCannotEncode: a value given to the builder cannot be put on the
	// wire (a field out of range, a payload where it may not be).
	ErrCannotEncode = errors.New("ike/wire: cannot encode")
)

// ParseError says what was wrong with received bytes and where. It wraps
// ErrInvalidSyntax or ErrUnsupportedVersion. Its text quotes lengths,
// counts and type numbers, never payload contents, so it can be logged.
type ParseError struct {
	// Payload is the payload being decoded when the problem was found;
	// PayloadNone for the IKE header, and for a chain that ends too soon
	// or runs on after its last payload.
	Payload PayloadType
	// Offset is where the offending field starts, counted from the first
	// byte of the message (for ParsePayloads and ParseInner, of the chain
	// or plaintext given).
	Offset int
	// Reason says what was found and what was expected.
	Reason string
	// Err is ErrInvalidSyntax or ErrUnsupportedVersion.
	Err error

	inHeader bool // the problem is in the IKE header, not the chain
}

func (e *ParseError) Error() string {
	where := "payload chain"
	switch {
	case e.inHeader:
		where = "IKE header"
	case e.Payload != PayloadNone:
		where = e.Payload.String() + " payload"
	}
	return fmt.Sprintf("%v in %s at offset %d: %s", e.Err, where, e.Offset, e.Reason)
}

func (e *ParseError) Unwrap() error { return e.Err }

// NotifyFor returns the error notification to answer a parse error with:
// INVALID_MAJOR_VERSION or INVALID_SYNTAX, or zero for an error that did
// not come from this package's parsers. RFC 7296 §2.21.2 says when to
// send it at all (for example, never in answer to a response).
func NotifyFor(err error) NotifyType {
	switch {
	case errors.Is(err, ErrUnsupportedVersion):
		return INVALID_MAJOR_VERSION
	case errors.Is(err, ErrInvalidSyntax):
		return INVALID_SYNTAX
	}
	return 0
}

func encodeError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCannotEncode, fmt.Sprintf(format, args...))
}
