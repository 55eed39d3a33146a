package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"io"
	"math/big"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"ipsecgw/ike/wire"
)

// Signing and verifying the AUTH payload of IKEv2 (RFC 7296 §2.15) with a
// private key. The engine builds the octets to sign (the message, the
// peer's nonce, prf(SK_p, ID')); this file turns them into AUTH data and
// back:
//
//	1   RSA PKCS #1 v1.5 with SHA-1 (RFC 7296 §3.8)
//	9   ECDSA SHA-256 on P-256, r || s (RFC 4754)
//	10  ECDSA SHA-384 on P-384
//	11  ECDSA SHA-512 on P-521
//	14  RFC 7427: the algorithm named in the data (table in sigalg.go)

// AuthMethod is the Auth Method for a configured authentication-method and
// the local key: rsa-signatures is method 1, ecdsa-signatures-N methods 9,
// 10, 11 (the key must be on the matching curve), certificates is
// method 14 for any key.
func AuthMethod(keyword string, pub crypto.PublicKey) (wire.AuthMethod, error) {
	switch keyword {
	case "certificates":
		if _, _, err := kindOf(pub); err != nil {
			return 0, err
		}
		return wire.AuthDigitalSignature, nil
	case "rsa-signatures":
		if _, ok := pub.(*rsa.PublicKey); !ok {
			return 0, fmt.Errorf("rsa-signatures needs an RSA key; the local certificate's key is %s", KeyAlgorithm(pub))
		}
		return wire.AuthRSASignature, nil
	case "ecdsa-signatures-256", "ecdsa-signatures-384", "ecdsa-signatures-521":
		m := map[string]wire.AuthMethod{"ecdsa-signatures-256": wire.AuthECDSA256, "ecdsa-signatures-384": wire.AuthECDSA384, "ecdsa-signatures-521": wire.AuthECDSA521}[keyword]
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != ecdsaCurve(m) {
			return 0, fmt.Errorf("%s needs an ECDSA key on %s; the local certificate's key is %s", keyword, ecdsaCurve(m).Params().Name, KeyAlgorithm(pub))
		}
		return m, nil
	}
	return 0, fmt.Errorf("authentication-method %s does not sign", keyword)
}

func ecdsaCurve(m wire.AuthMethod) elliptic.Curve {
	switch m {
	case wire.AuthECDSA384:
		return elliptic.P384()
	case wire.AuthECDSA521:
		return elliptic.P521()
	}
	return elliptic.P256()
}

func ecdsaHash(m wire.AuthMethod) crypto.Hash {
	switch m {
	case wire.AuthECDSA384:
		return crypto.SHA384
	case wire.AuthECDSA521:
		return crypto.SHA512
	}
	return crypto.SHA256
}

func kindOf(pub crypto.PublicKey) (KeyKind, int, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return KeyRSA, k.N.BitLen(), nil
	case *ecdsa.PublicKey:
		return KeyECDSA, k.Curve.Params().BitSize, nil
	case ed25519.PublicKey:
		return KeyEd25519, 256, nil
	}
	return "", 0, fmt.Errorf("a %T key cannot sign IKE AUTH", pub)
}

// SignatureHashes are the hashes we announce in SIGNATURE_HASH_ALGORITHMS
// (RFC 7427 §4) and accept in method 14.
func SignatureHashes() []wire.HashAlgorithm {
	return []wire.HashAlgorithm{wire.HashSHA2_256, wire.HashSHA2_384, wire.HashSHA2_512, wire.HashIdentity}
}

// ChooseScheme picks the RFC 7427 scheme for a key, given the hashes the
// peer announced (nil: the peer said nothing, RFC 7427 §4 allows any):
// for RSA, PKCS #1 v1.5 with the first shared hash (RSASSA-PSS is
// accepted from peers; v1.5 is what every peer verifies); for ECDSA, the
// hash that matches the curve (RFC 5480 §4), for Ed25519 Identity.
func ChooseScheme(pub crypto.PublicKey, peerHashes []wire.HashAlgorithm) (Scheme, error) {
	kind, bits, err := kindOf(pub)
	if err != nil {
		return Scheme{}, err
	}
	prefer := map[int]crypto.Hash{256: crypto.SHA256, 384: crypto.SHA384, 521: crypto.SHA512}
	var candidates []Scheme
	for _, s := range Schemes {
		if s.Key != kind || s.PSS {
			continue
		}
		if peerHashes != nil && !slices.Contains(peerHashes, s.HashID) {
			continue
		}
		candidates = append(candidates, s)
	}
	if len(candidates) == 0 {
		return Scheme{}, fmt.Errorf("the peer's SIGNATURE_HASH_ALGORITHMS %v share no hash with a %s key", peerHashes, kind)
	}
	if kind == KeyECDSA {
		for _, s := range candidates {
			if s.Hash == prefer[bits] {
				return s, nil
			}
		}
	}
	return candidates[0], nil
}

// SignAuth signs octets with key for method, and returns the AUTH payload.
// For method 14, peerHashes are the peer's SIGNATURE_HASH_ALGORITHMS.
func SignAuth(rand io.Reader, key crypto.Signer, method wire.AuthMethod, peerHashes []wire.HashAlgorithm, octets []byte) (*wire.Auth, error) {
	switch method {
	case wire.AuthRSASignature:
		if _, ok := key.Public().(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("Auth Method %v needs an RSA key", method)
		}
		sig, err := key.Sign(rand, digest(crypto.SHA1, octets), crypto.SHA1)
		if err != nil {
			return nil, err
		}
		return &wire.Auth{Method: method, Data: sig}, nil
	case wire.AuthECDSA256, wire.AuthECDSA384, wire.AuthECDSA521:
		pub, ok := key.Public().(*ecdsa.PublicKey)
		if !ok || pub.Curve != ecdsaCurve(method) {
			return nil, fmt.Errorf("Auth Method %v needs an ECDSA key on %s", method, ecdsaCurve(method).Params().Name)
		}
		h := ecdsaHash(method)
		der, err := key.Sign(rand, digest(h, octets), h)
		if err != nil {
			return nil, err
		}
		r, s, ok := parseECDSASig(der)
		if !ok {
			return nil, fmt.Errorf("ECDSA signer returned a malformed signature")
		}
		return wire.ECDSAAuth(method, r.Bytes(), s.Bytes())
	case wire.AuthDigitalSignature:
		scheme, err := ChooseScheme(key.Public(), peerHashes)
		if err != nil {
			return nil, err
		}
		sig, err := signScheme(rand, key, scheme, octets)
		if err != nil {
			return nil, err
		}
		return wire.DigitalSignature{AlgorithmIdentifier: scheme.AlgorithmIdentifier, Signature: sig}.Auth()
	}
	return nil, fmt.Errorf("Auth Method %v is not a signature", method)
}

func signScheme(rand io.Reader, key crypto.Signer, s Scheme, octets []byte) ([]byte, error) {
	switch {
	case s.Key == KeyEd25519:
		return key.Sign(rand, octets, crypto.Hash(0))
	case s.PSS:
		return key.Sign(rand, digest(s.Hash, octets), &rsa.PSSOptions{SaltLength: s.Hash.Size(), Hash: s.Hash})
	default:
		// RSA PKCS #1 v1.5 and ECDSA (DER ECDSA-Sig-Value, RFC 7427 §3).
		return key.Sign(rand, digest(s.Hash, octets), s.Hash)
	}
}

// VerifyAuth checks a peer's AUTH payload over octets with the public key
// of its certificate. A failure is an *Error with CauseBadSignature.
func VerifyAuth(pub crypto.PublicKey, auth *wire.Auth, octets []byte) error {
	bad := func(format string, args ...any) error {
		return &Error{Cause: CauseBadSignature, Detail: fmt.Sprintf("AUTH %v: ", auth.Method) + fmt.Sprintf(format, args...)}
	}
	switch auth.Method {
	case wire.AuthRSASignature:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return bad("the certificate's key is %s, not RSA", KeyAlgorithm(pub))
		}
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA1, digest(crypto.SHA1, octets), auth.Data); err != nil {
			return bad("RSA signature does not verify")
		}
		return nil
	case wire.AuthECDSA256, wire.AuthECDSA384, wire.AuthECDSA521:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != ecdsaCurve(auth.Method) {
			return bad("the certificate's key is %s, not ECDSA on %s", KeyAlgorithm(pub), ecdsaCurve(auth.Method).Params().Name)
		}
		r, s, err := auth.ECDSA()
		if err != nil {
			return bad("%v", err)
		}
		if !ecdsa.Verify(k, digest(ecdsaHash(auth.Method), octets), new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)) {
			return bad("ECDSA signature does not verify")
		}
		return nil
	case wire.AuthDigitalSignature:
		d, err := auth.DigitalSignature()
		if err != nil {
			return bad("%v", err)
		}
		scheme, salt, err := schemeOf(d)
		if err != nil {
			return bad("%v", err)
		}
		if kind, _, err := kindOf(pub); err != nil || kind != scheme.Key {
			return bad("%s signature with a %s key", scheme.Name, KeyAlgorithm(pub))
		}
		if !verifyScheme(pub, scheme, salt, octets, d.Signature) {
			return bad("%s signature does not verify", scheme.Name)
		}
		return nil
	}
	return bad("not a signature method")
}

func verifyScheme(pub crypto.PublicKey, s Scheme, salt int, octets, sig []byte) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(k, octets, sig)
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest(s.Hash, octets), sig)
	case *rsa.PublicKey:
		if s.PSS {
			return rsa.VerifyPSS(k, s.Hash, digest(s.Hash, octets), sig, &rsa.PSSOptions{SaltLength: salt, Hash: s.Hash}) == nil
		}
		return rsa.VerifyPKCS1v15(k, s.Hash, digest(s.Hash, octets), sig) == nil
	}
	return false
}

func digest(h crypto.Hash, data []byte) []byte {
	d := h.New()
	d.Write(data)
	return d.Sum(nil)
}

// parseECDSASig reads a DER ECDSA-Sig-Value (RFC 3279 §2.2.3).
func parseECDSASig(der []byte) (r, s *big.Int, ok bool) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	r, s = new(big.Int), new(big.Int)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(r) || !seq.ReadASN1Integer(s) || !seq.Empty() {
		return nil, nil, false
	}
	return r, s, true
}
