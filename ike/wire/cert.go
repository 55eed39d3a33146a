package wire

import (
	"crypto/sha1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Certificates in IKEv2 (RFC 7296 §3.6, §3.7). Only X.509 Certificate -
// Signature (encoding 4) is spoken: a CERT payload carries one DER
// certificate (the end entity first, then intermediates, one payload
// each), and a CERTREQ names the certification authorities the sender
// trusts by the SHA-1 hashes of their public keys.

// CAKeyHashLen is the length of one Certification Authority entry of a
// CERTREQ: a SHA-1 hash.
const CAKeyHashLen = sha1.Size

// CAKeyHash is a CERTREQ's name for a CA: the SHA-1 hash of the CA
// certificate's DER SubjectPublicKeyInfo (x509.Certificate's
// RawSubjectPublicKeyInfo), as §3.7 says and strongSwan computes it.
func CAKeyHash(subjectPublicKeyInfo []byte) [CAKeyHashLen]byte {
	return sha1.Sum(subjectPublicKeyInfo)
}

// X509Cert builds the CERT payload of one DER certificate.
func X509Cert(der []byte) *Cert {
	return &Cert{Encoding: CertX509Signature, Data: der}
}

// X509 returns the DER certificate of a CERT payload of encoding 4. The
// data must be exactly one DER SEQUENCE; what is inside is crypto/x509's
// to judge.
func (c *Cert) X509() ([]byte, error) {
	if c.Encoding != CertX509Signature {
		return nil, certError(PayloadCERT, 0, "Cert Encoding %v, want %v", c.Encoding, CertX509Signature)
	}
	in := cryptobyte.String(c.Data)
	var seq cryptobyte.String
	if !in.ReadASN1Element(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, certError(PayloadCERT, 0, "certificate data of %d bytes is not one DER SEQUENCE", len(c.Data))
	}
	return c.Data, nil
}

// X509CertReq builds a CERTREQ of encoding 4 naming the given CAs. With
// none it asks for any certificate, as several implementations send.
func X509CertReq(cas ...[CAKeyHashLen]byte) *CertReq {
	var data []byte
	if len(cas) > 0 {
		data = make([]byte, 0, len(cas)*CAKeyHashLen)
	}
	for _, h := range cas {
		data = append(data, h[:]...)
	}
	return &CertReq{Encoding: CertX509Signature, Data: data}
}

// CAs returns the CA key hashes of a CERTREQ of encoding 4, in order; none
// for an empty request.
func (c *CertReq) CAs() ([][CAKeyHashLen]byte, error) {
	if c.Encoding != CertX509Signature {
		return nil, certError(PayloadCERTREQ, 0, "Cert Encoding %v, want %v", c.Encoding, CertX509Signature)
	}
	if len(c.Data)%CAKeyHashLen != 0 {
		return nil, certError(PayloadCERTREQ, len(c.Data)/CAKeyHashLen*CAKeyHashLen,
			"Certification Authority is %d bytes, not a whole number of %d-byte SHA-1 hashes", len(c.Data), CAKeyHashLen)
	}
	if len(c.Data) == 0 {
		return nil, nil
	}
	cas := make([][CAKeyHashLen]byte, len(c.Data)/CAKeyHashLen)
	for i := range cas {
		copy(cas[i][:], c.Data[i*CAKeyHashLen:])
	}
	return cas, nil
}

// certError reports bad contents of a CERT or CERTREQ payload; offsets
// count from the first byte of Data.
func certError(t PayloadType, at int, format string, args ...any) *ParseError {
	return &ParseError{Payload: t, Offset: at, Err: ErrInvalidSyntax, Reason: fmt.Sprintf(format, args...)}
}
