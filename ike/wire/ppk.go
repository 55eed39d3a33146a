package wire

import "fmt"

// The PPK_IDENTITY notification of RFC 8784 §3 names the postquantum
// preshared key the initiator mixed in:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  PPK Type     |  PPK_ID data ...                                ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// USE_PPK carries no data; NO_PPK_AUTH carries the authentication data
// computed without the PPK, which the codec leaves opaque.

// PPKIDType is the first octet of a PPK_ID (RFC 8784 §5.1).
type PPKIDType uint8

const (
	// PPK_ID_OPAQUE: the rest of the PPK_ID has a format the two sides
	// agreed elsewhere.
	PPK_ID_OPAQUE PPKIDType = 1
	// PPK_ID_FIXED: the rest is the configured key ID, octet for octet
	// (what Junos, strongSwan and libreswan send).
	PPK_ID_FIXED PPKIDType = 2
)

func (t PPKIDType) String() string {
	switch t {
	case PPK_ID_OPAQUE:
		return "PPK_ID_OPAQUE"
	case PPK_ID_FIXED:
		return "PPK_ID_FIXED"
	}
	return fmt.Sprintf("PPK ID type %d", uint8(t))
}

// PPKID is the data of a PPK_IDENTITY notification.
type PPKID struct {
	Type PPKIDType
	ID   []byte // never empty
}

// ParsePPKID decodes the data of a PPK_IDENTITY notification. A type of
// zero (reserved) or an empty ID is a syntax error; other unknown types are
// kept for the caller to not match.
func ParsePPKID(data []byte) (PPKID, error) {
	switch {
	case len(data) == 0:
		return PPKID{}, ppkError(0, "PPK_IDENTITY without PPK Type")
	case data[0] == 0:
		return PPKID{}, ppkError(0, "PPK Type 0 is reserved")
	case len(data) == 1:
		return PPKID{}, ppkError(1, "PPK_IDENTITY of %v without an ID", PPKIDType(data[0]))
	}
	return PPKID{Type: PPKIDType(data[0]), ID: data[1:]}, nil
}

// Notify builds the PPK_IDENTITY notification.
func (p PPKID) Notify() (*Notify, error) {
	if p.Type == 0 || len(p.ID) == 0 {
		return nil, encodeError("PPK_IDENTITY needs a PPK Type and an ID, got type %d and %d bytes", p.Type, len(p.ID))
	}
	data := make([]byte, 0, 1+len(p.ID))
	data = append(append(data, uint8(p.Type)), p.ID...)
	return &Notify{Type: PPK_IDENTITY, Data: data}, nil
}

func ppkError(at int, format string, args ...any) *ParseError {
	return &ParseError{Payload: PayloadNotify, Offset: at, Err: ErrInvalidSyntax, Reason: fmt.Sprintf(format, args...)}
}
