package pki

import (
	"crypto"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"ipsecgw/ike/wire"
)

// The signature algorithms of RFC 7427 digital signatures (Auth Method
// 14): one row per AlgorithmIdentifier we send and accept, as RFC 7427
// Appendix A lists them. SHA-1 rows are left out (RFC 8247 §3.2: SHOULD
// NOT); a peer that insists on them fails with a bad signature cause that
// names the algorithm.

// KeyKind is the kind of key a scheme signs with.
type KeyKind string

const (
	KeyRSA     KeyKind = "rsa"
	KeyECDSA   KeyKind = "ecdsa"
	KeyEd25519 KeyKind = "ed25519"
)

// Scheme is one signature algorithm.
type Scheme struct {
	Name string
	Key  KeyKind
	// Hash is the digest signed (0 for Ed25519, which signs the message).
	Hash crypto.Hash
	// HashID is the hash's SIGNATURE_HASH_ALGORITHMS identifier.
	HashID wire.HashAlgorithm
	PSS    bool
	// AlgorithmIdentifier is the DER we send; schemeOf also accepts the
	// other encodings peers use (absent instead of NULL parameters).
	AlgorithmIdentifier []byte
}

var (
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidRSASSAPSS     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
)

var asn1Null = []byte{0x05, 0x00}

var hashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: oidSHA256, crypto.SHA384: oidSHA384, crypto.SHA512: oidSHA512}

var hashIDs = map[crypto.Hash]wire.HashAlgorithm{crypto.SHA256: wire.HashSHA2_256, crypto.SHA384: wire.HashSHA2_384, crypto.SHA512: wire.HashSHA2_512}

// Schemes is the table, in our order of preference within a key kind.
var Schemes = buildSchemes()

func buildSchemes() []Scheme {
	alg := func(oid asn1.ObjectIdentifier, params []byte) []byte {
		der, err := wire.AlgorithmIdentifier(oid, params)
		if err != nil {
			panic(err) // the table is constant
		}
		return der
	}
	var out []Scheme
	for _, r := range []struct {
		name   string
		key    KeyKind
		oid    asn1.ObjectIdentifier
		params []byte
		h      crypto.Hash
	}{
		{"sha256WithRSAEncryption", KeyRSA, oidSHA256WithRSA, asn1Null, crypto.SHA256},
		{"sha384WithRSAEncryption", KeyRSA, oidSHA384WithRSA, asn1Null, crypto.SHA384},
		{"sha512WithRSAEncryption", KeyRSA, oidSHA512WithRSA, asn1Null, crypto.SHA512},
		{"ecdsa-with-SHA256", KeyECDSA, oidECDSASHA256, nil, crypto.SHA256},
		{"ecdsa-with-SHA384", KeyECDSA, oidECDSASHA384, nil, crypto.SHA384},
		{"ecdsa-with-SHA512", KeyECDSA, oidECDSASHA512, nil, crypto.SHA512},
	} {
		out = append(out, Scheme{Name: r.name, Key: r.key, Hash: r.h, HashID: hashIDs[r.h], AlgorithmIdentifier: alg(r.oid, r.params)})
	}
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		out = append(out, Scheme{Name: "RSASSA-PSS with " + h.String(), Key: KeyRSA, Hash: h, HashID: hashIDs[h], PSS: true,
			AlgorithmIdentifier: alg(oidRSASSAPSS, pssParams(h))})
	}
	out = append(out, Scheme{Name: "ed25519", Key: KeyEd25519, HashID: wire.HashIdentity, AlgorithmIdentifier: alg(oidEd25519, nil)})
	return out
}

// pssParams is RSASSA-PSS-params (RFC 4055 §3.1) for hash h: MGF1 with
// the same hash, salt as long as the hash, the default trailer.
func pssParams(h crypto.Hash) []byte {
	hashAlg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(hashOIDs[h])
			b.AddBytes(asn1Null)
		})
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), hashAlg)
		b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidMGF1)
				hashAlg(b)
			})
		})
		b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(h.Size()))
		})
	})
	return b.BytesOrPanic()
}

// pss is what a peer's RSASSA-PSS parameters ask for.
type pss struct {
	hash crypto.Hash
	salt int
}

// parsePSSParams reads RSASSA-PSS-params. Absent fields take RFC 4055's
// defaults (SHA-1, which we then refuse); the MGF1 hash must be the
// signature's hash (crypto/rsa uses one hash for both).
func parsePSSParams(params []byte) (pss, error) {
	p := pss{hash: crypto.SHA1, salt: 20}
	in := cryptobyte.String(params)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return p, fmt.Errorf("RSASSA-PSS parameters are not a SEQUENCE")
	}
	readHash := func(s *cryptobyte.String) (crypto.Hash, bool) {
		var alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
			return 0, false
		}
		if oid.Equal(oidSHA1) {
			return crypto.SHA1, true
		}
		for h, o := range hashOIDs {
			if o.Equal(oid) {
				return h, true
			}
		}
		return 0, false
	}
	mgfHash := crypto.SHA1
	var field cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return p, fmt.Errorf("RSASSA-PSS hashAlgorithm is malformed")
	}
	if present {
		h, ok := readHash(&field)
		if !ok {
			return p, fmt.Errorf("RSASSA-PSS hashAlgorithm is not SHA-1, SHA-256, SHA-384 or SHA-512")
		}
		p.hash = h
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(1).ContextSpecific().Constructed()) {
		return p, fmt.Errorf("RSASSA-PSS maskGenAlgorithm is malformed")
	}
	if present {
		var mgf cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !field.ReadASN1(&mgf, cbasn1.SEQUENCE) || !mgf.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidMGF1) {
			return p, fmt.Errorf("RSASSA-PSS maskGenAlgorithm is not MGF1")
		}
		h, ok := readHash(&mgf)
		if !ok {
			return p, fmt.Errorf("RSASSA-PSS MGF1 hash is not SHA-1, SHA-256, SHA-384 or SHA-512")
		}
		mgfHash = h
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(2).ContextSpecific().Constructed()) {
		return p, fmt.Errorf("RSASSA-PSS saltLength is malformed")
	}
	if present {
		var n int64
		if !field.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || n < 0 || n > 1024 {
			return p, fmt.Errorf("RSASSA-PSS saltLength is not a small non-negative INTEGER")
		}
		p.salt = int(n)
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(3).ContextSpecific().Constructed()) {
		return p, fmt.Errorf("RSASSA-PSS trailerField is malformed")
	}
	if present {
		var n int64
		if !field.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || n != 1 {
			return p, fmt.Errorf("RSASSA-PSS trailerField is not 1 (trailerFieldBC)")
		}
	}
	if !seq.Empty() {
		return p, fmt.Errorf("RSASSA-PSS parameters have trailing data")
	}
	if mgfHash != p.hash {
		return p, fmt.Errorf("RSASSA-PSS with MGF1 hash %v differing from hash %v is not supported", mgfHash, p.hash)
	}
	if p.hash == crypto.SHA1 {
		return p, fmt.Errorf("RSASSA-PSS with SHA-1 is not accepted (RFC 8247)")
	}
	return p, nil
}

// schemeOf finds the scheme of a peer's AlgorithmIdentifier, with the
// PSS salt length it asks for.
func schemeOf(d wire.DigitalSignature) (Scheme, int, error) {
	oid, params, ok := d.Algorithm()
	if !ok {
		return Scheme{}, 0, fmt.Errorf("AlgorithmIdentifier is malformed")
	}
	if oid.Equal(oidRSASSAPSS) {
		p, err := parsePSSParams(params)
		if err != nil {
			return Scheme{}, 0, err
		}
		for _, s := range Schemes {
			if s.PSS && s.Hash == p.hash {
				return s, p.salt, nil
			}
		}
	}
	for _, s := range Schemes {
		if s.PSS {
			continue
		}
		soid, sparams, _ := wire.DigitalSignature{AlgorithmIdentifier: s.AlgorithmIdentifier}.Algorithm()
		if !soid.Equal(oid) {
			continue
		}
		// RSA rows carry NULL; peers may leave parameters out.
		if params == nil || string(params) == string(sparams) {
			return s, 0, nil
		}
		return Scheme{}, 0, fmt.Errorf("AlgorithmIdentifier %s has unexpected parameters", s.Name)
	}
	return Scheme{}, 0, fmt.Errorf("signature algorithm %v is not supported (SHA-256/384/512 with RSA, RSASSA-PSS or ECDSA, or Ed25519)", oid)
}
