package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
)

// KeyType is a key pair's algorithm, as request security pki
// generate-key-pair names it.
type KeyType string

const (
	RSA   KeyType = "rsa"
	ECDSA KeyType = "ecdsa"
)

// KeySizes are the sizes generate-key-pair accepts for each type (bits;
// for ECDSA the curve: P-256, P-384, P-521).
var KeySizes = map[KeyType][]int{RSA: {2048, 3072, 4096}, ECDSA: {256, 384, 521}}

// DefaultKeySize is the size when none is given (Junos: 2048 for RSA,
// 256 for ECDSA).
var DefaultKeySize = map[KeyType]int{RSA: 2048, ECDSA: 256}

// GenerateKey makes a key pair. rand is crypto/rand.Reader outside tests.
func GenerateKey(rand io.Reader, t KeyType, size int) (crypto.Signer, error) {
	if size == 0 {
		size = DefaultKeySize[t]
	}
	ok := false
	for _, s := range KeySizes[t] {
		ok = ok || s == size
	}
	if !ok {
		return nil, fmt.Errorf("key type %s size %d is not supported; expected %s", t, size, sizesText(t))
	}
	switch t {
	case RSA:
		return rsa.GenerateKey(rand, size)
	case ECDSA:
		return ecdsa.GenerateKey(curveForSize(size), rand)
	}
	return nil, fmt.Errorf("key type %q is not supported; expected rsa or ecdsa", t)
}

func sizesText(t KeyType) string {
	if len(KeySizes[t]) == 0 {
		return "type rsa or ecdsa"
	}
	var out []string
	for _, n := range KeySizes[t] {
		out = append(out, fmt.Sprint(n))
	}
	return strings.Join(out, ", ")
}

func curveForSize(bits int) elliptic.Curve {
	switch bits {
	case 384:
		return elliptic.P384()
	case 521:
		return elliptic.P521()
	}
	return elliptic.P256()
}

// KeyAlgorithm describes a public key as Junos's show commands do:
// "rsaEncryption(2048 bits)", "ecdsa-with-SHA256(256 bits)"... we say
// the key, not a signature: "ecPublicKey(256 bits)".
func KeyAlgorithm(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("rsaEncryption(%d bits)", k.N.BitLen())
	case *ecdsa.PublicKey:
		return fmt.Sprintf("ecPublicKey(%d bits)", k.Curve.Params().BitSize)
	case ed25519.PublicKey:
		return "ed25519(256 bits)"
	}
	return fmt.Sprintf("%T", pub)
}

// KeyFingerprint is the SHA-256 of the public key's SubjectPublicKeyInfo,
// in hex with colons: it names a key without showing anything secret.
func KeyFingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return colonHex(sum[:])
}

// CertFingerprints are a certificate's SHA-1 and SHA-256 fingerprints.
func CertFingerprints(der []byte) (sha1Hex, sha256Hex string) {
	s1 := sha1.Sum(der)
	s2 := sha256.Sum256(der)
	return colonHex(s1[:]), colonHex(s2[:])
}

func colonHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// encodeKey writes a private key as PKCS #8 PEM.
func encodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a private key in PEM: PKCS #8, PKCS #1 (RSA) or
// SEC 1 (EC), as openssl and strongSwan's pki write them. Its errors never
// quote the key.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s block is not a valid key", b.Type)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s block holds a %T, which cannot sign", b.Type, k)
		}
		return s, nil
	}
	// A DER key (strongSwan's pki writes DER unless told --outform pem).
	for _, parse := range []func([]byte) (any, error){
		x509.ParsePKCS8PrivateKey,
		func(d []byte) (any, error) { return x509.ParsePKCS1PrivateKey(d) },
		func(d []byte) (any, error) { return x509.ParseECPrivateKey(d) },
	} {
		if k, err := parse(data); err == nil {
			if s, ok := k.(crypto.Signer); ok {
				return s, nil
			}
		}
	}
	return nil, errors.New("no private key found (expected PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY, or DER)")
}

// ParseCertificates reads one or more certificates, PEM (any number of
// CERTIFICATE blocks) or a single DER certificate.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) > 0 {
		return out, nil
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, errors.New("no certificate found (expected PEM CERTIFICATE blocks or one DER certificate)")
	}
	return []*x509.Certificate{c}, nil
}

// ParseCRL reads a certificate revocation list, PEM ("X509 CRL") or DER.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nil, fmt.Errorf("PEM block %s is not an X509 CRL", b.Type)
		}
		data = b.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("not a certificate revocation list: %w", err)
	}
	return crl, nil
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// samePublicKey reports whether a certificate was issued for key.
func samePublicKey(cert *x509.Certificate, key crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := key.Public().(equaler)
	return ok && pub.Equal(cert.PublicKey)
}
