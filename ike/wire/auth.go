package wire

import (
	"bytes"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"ipsecgw/ike/wire/octets"
)

// The contents of AUTH payloads signed with a private key (RFC 7296 §3.8,
// RFC 4754, RFC 7427) and of the SIGNATURE_HASH_ALGORITHMS notification
// that announces which hashes RFC 7427 signatures may use. The codec checks
// their layout; verifying a signature is the IKE SA's work.
//
//	Auth Method 1 (RSA):     PKCS #1 v1.5 signature, as long as the modulus
//	Auth Method 9, 10, 11:   ECDSA r || s, each as long as the curve's order
//	Auth Method 14 (RFC 7427 §3):
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| ASN.1 Length  | AlgorithmIdentifier ASN.1 object                ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                        Signature Value                          ~

// ECDSASignatureSize is the length of r and of s in the AUTH data of the
// ECDSA methods (RFC 4754 §7), zero for any other method.
func ECDSASignatureSize(m AuthMethod) int {
	switch m {
	case AuthECDSA256:
		return 32
	case AuthECDSA384:
		return 48
	case AuthECDSA521:
		return 66
	}
	return 0
}

// ECDSA splits the AUTH data of methods 9, 10 and 11 into r and s (RFC 4754
// §7: two fixed-length big-endian integers, no ASN.1).
func (a *Auth) ECDSA() (r, s []byte, err error) {
	n := ECDSASignatureSize(a.Method)
	switch {
	case n == 0:
		return nil, nil, authError(0, "Auth Method %v is not ECDSA", a.Method)
	case len(a.Data) != 2*n:
		return nil, nil, authError(0, "%v signature is %d bytes, want %d (r and s of %d)", a.Method, len(a.Data), 2*n, n)
	}
	return a.Data[:n:n], a.Data[n:], nil
}

// ECDSAAuth builds an AUTH payload of method m from r and s, left-padding
// each to the method's size.
func ECDSAAuth(m AuthMethod, r, s []byte) (*Auth, error) {
	n := ECDSASignatureSize(m)
	r, s = bytes.TrimLeft(r, "\x00"), bytes.TrimLeft(s, "\x00")
	if n == 0 || len(r) > n || len(s) > n {
		return nil, encodeError("ECDSA signature of %d and %d bytes does not fit %v", len(r), len(s), m)
	}
	data := make([]byte, 2*n)
	copy(data[n-len(r):n], r)
	copy(data[2*n-len(s):], s)
	return &Auth{Method: m, Data: data}, nil
}

// DigitalSignature is the AUTH data of method 14 (RFC 7427 §3): the
// signature algorithm named by a DER AlgorithmIdentifier, then the
// signature.
type DigitalSignature struct {
	// AlgorithmIdentifier is the DER SEQUENCE { OID, parameters }, at
	// most 255 bytes.
	AlgorithmIdentifier []byte
	Signature           []byte
}

// DigitalSignature decodes the AUTH data of method 14.
func (a *Auth) DigitalSignature() (DigitalSignature, error) {
	if a.Method != AuthDigitalSignature {
		return DigitalSignature{}, authError(0, "Auth Method %v, want %v", a.Method, AuthDigitalSignature)
	}
	return ParseDigitalSignature(a.Data)
}

// ParseDigitalSignature decodes RFC 7427 AUTH data. The AlgorithmIdentifier
// must be one DER SEQUENCE holding an OBJECT IDENTIFIER, exactly ASN.1
// Length bytes long, and a signature must follow.
func ParseDigitalSignature(data []byte) (DigitalSignature, error) {
	r := octets.NewReader(data, 0)
	var n uint8
	var d DigitalSignature
	if !r.U8(&n) {
		return d, authError(0, "ASN.1 Length needs 1 byte, 0 left")
	}
	if !r.Bytes(&d.AlgorithmIdentifier, int(n)) {
		return d, authError(1, "ASN.1 Length %d, only %d bytes left", n, r.Left())
	}
	if _, _, ok := splitAlgorithmIdentifier(d.AlgorithmIdentifier); !ok {
		return d, authError(1, "AlgorithmIdentifier of %d bytes is not a DER SEQUENCE with an OBJECT IDENTIFIER", n)
	}
	d.Signature = r.Rest()
	if len(d.Signature) == 0 {
		return d, authError(1+int(n), "no Signature Value after the AlgorithmIdentifier")
	}
	return d, nil
}

// Append appends the AUTH data.
func (d DigitalSignature) Append(dst []byte) ([]byte, error) {
	if _, _, ok := splitAlgorithmIdentifier(d.AlgorithmIdentifier); !ok {
		return dst, encodeError("AlgorithmIdentifier of %d bytes is not a DER SEQUENCE with an OBJECT IDENTIFIER", len(d.AlgorithmIdentifier))
	}
	if len(d.AlgorithmIdentifier) > 255 {
		return dst, encodeError("AlgorithmIdentifier is %d bytes, more than ASN.1 Length can say", len(d.AlgorithmIdentifier))
	}
	if len(d.Signature) == 0 {
		return dst, encodeError("digital signature without a Signature Value")
	}
	dst = append(dst, uint8(len(d.AlgorithmIdentifier)))
	dst = append(dst, d.AlgorithmIdentifier...)
	return append(dst, d.Signature...), nil
}

// Auth builds the AUTH payload of method 14.
func (d DigitalSignature) Auth() (*Auth, error) {
	data, err := d.Append(nil)
	if err != nil {
		return nil, err
	}
	return &Auth{Method: AuthDigitalSignature, Data: data}, nil
}

// Algorithm returns the AlgorithmIdentifier's OID and its parameters as
// DER (nil when absent).
func (d DigitalSignature) Algorithm() (asn1.ObjectIdentifier, []byte, bool) {
	return splitAlgorithmIdentifier(d.AlgorithmIdentifier)
}

func splitAlgorithmIdentifier(der []byte) (asn1.ObjectIdentifier, []byte, bool) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, false
	}
	var params []byte
	if !seq.Empty() {
		var elem cryptobyte.String
		if !seq.ReadAnyASN1Element(&elem, nil) || !seq.Empty() {
			return nil, nil, false
		}
		params = elem
	}
	return oid, params, true
}

// AlgorithmIdentifier encodes SEQUENCE { oid, params } in DER; params is
// DER or nil for none. RFC 7427 Appendix A lists the encodings peers send.
func AlgorithmIdentifier(oid asn1.ObjectIdentifier, params []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if params != nil {
			b.AddBytes(params)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, encodeError("AlgorithmIdentifier %v: %v", oid, err)
	}
	if _, _, ok := splitAlgorithmIdentifier(der); !ok {
		return nil, encodeError("AlgorithmIdentifier %v: parameters are not one DER element", oid)
	}
	return der, nil
}

// HashAlgorithm is an identifier of the IKEv2 Hash Algorithms registry
// (RFC 7427 §7), carried in SIGNATURE_HASH_ALGORITHMS.
type HashAlgorithm uint16

const (
	HashSHA1     HashAlgorithm = 1
	HashSHA2_256 HashAlgorithm = 2
	HashSHA2_384 HashAlgorithm = 3
	HashSHA2_512 HashAlgorithm = 4
	HashIdentity HashAlgorithm = 5 // RFC 8420, for Ed25519 and Ed448
)

func (h HashAlgorithm) String() string {
	switch h {
	case HashSHA1:
		return "SHA1"
	case HashSHA2_256:
		return "SHA2-256"
	case HashSHA2_384:
		return "SHA2-384"
	case HashSHA2_512:
		return "SHA2-512"
	case HashIdentity:
		return "Identity"
	}
	return fmt.Sprintf("hash algorithm %d", uint16(h))
}

// ParseSignatureHashAlgorithms decodes the data of a
// SIGNATURE_HASH_ALGORITHMS notification: 16-bit identifiers, one after
// the other (RFC 7427 §4). Unknown identifiers are kept; the receiver
// ignores them.
func ParseSignatureHashAlgorithms(data []byte) ([]HashAlgorithm, error) {
	if len(data)%2 != 0 {
		return nil, &ParseError{Payload: PayloadNotify, Offset: len(data) - 1, Err: ErrInvalidSyntax,
			Reason: fmt.Sprintf("SIGNATURE_HASH_ALGORITHMS data is %d bytes, not a whole number of 2-byte identifiers", len(data))}
	}
	if len(data) == 0 {
		return nil, nil
	}
	r := octets.NewReader(data, 0)
	algs := make([]HashAlgorithm, 0, len(data)/2)
	for !r.Empty() {
		var v uint16
		r.U16(&v)
		algs = append(algs, HashAlgorithm(v))
	}
	return algs, nil
}

// SignatureHashAlgorithms builds the SIGNATURE_HASH_ALGORITHMS notification
// for IKE_SA_INIT.
func SignatureHashAlgorithms(algs ...HashAlgorithm) *Notify {
	b := octets.NewBuilder(make([]byte, 0, 2*len(algs)))
	for _, a := range algs {
		b.U16(uint16(a))
	}
	return &Notify{Type: SIGNATURE_HASH_ALGORITHMS, Data: nilIfEmpty(b.Bytes())}
}

// authError reports bad AUTH data; offsets count from the first byte of
// the data given (Auth Data, or the notification's data).
func authError(at int, format string, args ...any) *ParseError {
	return &ParseError{Payload: PayloadAUTH, Offset: at, Err: ErrInvalidSyntax, Reason: fmt.Sprintf(format, args...)}
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
