package v1

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidSyntax: the bytes are not a well-formed ISAKMP message or
	// payload; the answer is PAYLOAD-MALFORMED (RFC 2408 §3.14.1).
	ErrInvalidSyntax = errors.New("ike/wire/v1: invalid syntax")
	// ErrUnsupportedVersion: the header's major version is not 1; the
	// answer is INVALID-MAJOR-VERSION.
	ErrUnsupportedVersion = errors.New("ike/wire/v1: unsupported major version")
	// ErrUnsupportedDOI: an SA payload names a Domain of Interpretation
	// other than IPsec, whose Situation and proposals the codec cannot
	// read; the answer is DOI-NOT-SUPPORTED.
	ErrUnsupportedDOI = errors.New("ike/wire/v1: unsupported domain of interpretation")
	// ErrUnsupportedSituation: an IPsec SA payload asks for secrecy or
	// integrity labels (RFC 2407 §4.2), which the gateway does not do;
	// the answer is SITUATION-NOT-SUPPORTED.
	ErrUnsupportedSituation = errors.New("ike/wire/v1: unsupported situation")
	// ErrCannotEncode: a value given to the builder cannot be put on the
	// wire (a field out of range, a payload where it may not be).
	ErrCannotEncode = errors.New("ike/wire/v1: cannot encode")
)

// ParseError says what was wrong with received bytes and where. It wraps
// one of the package's Err sentinels other than ErrCannotEncode. Its text
// quotes lengths, counts and type numbers, never payload contents, so it
// can be logged.
type ParseError struct {
	// Payload is the payload being decoded when the problem was found;
	// PayloadNone for the ISAKMP header, and for a chain that ends too
	// soon or runs on after its last payload.
	Payload PayloadType
	// Offset is where the offending field starts, counted from the first
	// byte of the input (the message for Parse; the chain or plaintext
	// for ParseChain and ParseDecrypted).
	Offset int
	// Reason says what was found and what was expected.
	Reason string
	// Err is the sentinel the error wraps.
	Err error

	inHeader bool // the problem is in the ISAKMP header, not the chain
}

func (e *ParseError) Error() string {
	where := "payload chain"
	switch {
	case e.inHeader:
		where = "ISAKMP header"
	case e.Payload != PayloadNone:
		where = e.Payload.String() + " payload"
	}
	return fmt.Sprintf("%v in %s at offset %d: %s", e.Err, where, e.Offset, e.Reason)
}

func (e *ParseError) Unwrap() error { return e.Err }

// NotifyFor returns the error notification to answer a parse error with,
// or zero for an error that did not come from this package's parsers.
// RFC 2408 §5 leaves whether to send it at all to the exchange (never
// without a phase 1 SA to protect it, in this gateway).
func NotifyFor(err error) NotifyType {
	switch {
	case errors.Is(err, ErrUnsupportedVersion):
		return INVALID_MAJOR_VERSION
	case errors.Is(err, ErrUnsupportedDOI):
		return DOI_NOT_SUPPORTED
	case errors.Is(err, ErrUnsupportedSituation):
		return SITUATION_NOT_SUPPORTED
	case errors.Is(err, ErrInvalidSyntax):
		return PAYLOAD_MALFORMED
	}
	return 0
}

func encodeError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCannotEncode, fmt.Sprintf(format, args...))
}
