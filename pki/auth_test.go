package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"ipsecgw/ike/wire"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 4754 §8.1 and §8.2: ECDSA-256 and ECDSA-384 over "abc", the
// signature as IKEv2 carries it (r || s).
func TestRFC4754Vectors(t *testing.T) {
	for _, v := range []struct {
		method         wire.AuthMethod
		curve          elliptic.Curve
		gwx, gwy, r, s string
	}{
		{wire.AuthECDSA256, elliptic.P256(),
			"2442A5CC0ECD015FA3CA31DC8E2BBC70BF42D60CBCA20085E0822CB04235E970",
			"6FC98BD7E50211A4A27102FA3549DF79EBCB4BF246B80945CDDFE7D509BBFD7D",
			"CB28E0999B9C7715FD0A80D8E47A77079716CBBF917DD72E97566EA1C066957C",
			"86FA3BB4E26CAD5BF90B7F81899256CE7594BB1EA0C89212748BFF3B3D5B0315"},
		{wire.AuthECDSA384, elliptic.P384(),
			"96281BF8DD5E0525CA049C048D345D3082968D10FEDF5C5ACA0C64E6465A97EA5CE10C9DFEC21797415710721F437922",
			"447688BA94708EB6E2E4D59F6AB6D7EDFF9301D249FE49C33096655F5D502FAD3D383B91C5E7EDAA2B714CC99D5743CA",
			"FB017B914E29149432D8BAC29A514640B46F53DDAB2C69948084E2930F1C8F7E08E07C9C63F2D21A07DCB56A6AF56EB3",
			"B263A1305E057F984D38726A1B46874109F417BCA112674C528262A40A629AF1CBB9F516CE0FA7D2FF630863A00E8B9F"},
	} {
		pub := &ecdsa.PublicKey{Curve: v.curve, X: new(big.Int).SetBytes(unhex(t, v.gwx)), Y: new(big.Int).SetBytes(unhex(t, v.gwy))}
		auth := &wire.Auth{Method: v.method, Data: append(unhex(t, v.r), unhex(t, v.s)...)}
		if err := VerifyAuth(pub, auth, []byte("abc")); err != nil {
			t.Fatalf("%v: %v", v.method, err)
		}
		if err := VerifyAuth(pub, auth, []byte("abd")); CauseOf(err) != CauseBadSignature {
			t.Fatalf("%v: other message: %v", v.method, err)
		}
	}
}

// RFC 7427 Appendix A's AlgorithmIdentifier encodings.
func TestRFC7427AlgorithmIdentifiers(t *testing.T) {
	want := map[string]string{
		"sha256WithRSAEncryption": "300d06092a864886f70d01010b0500", // A.1.2
		"sha384WithRSAEncryption": "300d06092a864886f70d01010c0500", // A.1.3
		"sha512WithRSAEncryption": "300d06092a864886f70d01010d0500", // A.1.4
		"ecdsa-with-SHA256":       "300a06082a8648ce3d040302",       // A.3.1
		"ecdsa-with-SHA384":       "300a06082a8648ce3d040303",       // A.3.2
		"ecdsa-with-SHA512":       "300a06082a8648ce3d040304",       // A.3.3
		"ed25519":                 "300506032b6570",                 // RFC 8420
	}
	seen := 0
	for _, s := range Schemes {
		if w, ok := want[s.Name]; ok {
			seen++
			if got := hex.EncodeToString(s.AlgorithmIdentifier); got != w {
				t.Errorf("%s: %s, want %s", s.Name, got, w)
			}
		}
	}
	if seen != len(want) {
		t.Fatalf("%d of %d schemes found", seen, len(want))
	}
}

// The RSASSA-PSS parameters we send are those crypto/x509 writes in a
// PSS-signed certificate (an independent encoder of RFC 4055).
func TestPSSParamsMatchX509(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		alg x509.SignatureAlgorithm
		h   crypto.Hash
	}{{x509.SHA256WithRSAPSS, crypto.SHA256}, {x509.SHA384WithRSAPSS, crypto.SHA384}, {x509.SHA512WithRSAPSS, crypto.SHA512}} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pss"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), SignatureAlgorithm: c.alg}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		// Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signature }
		in := cryptobyte.String(der)
		var cert, tbs, alg cryptobyte.String
		if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) || !cert.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
			t.Fatal("cannot read the certificate")
		}
		var scheme Scheme
		for _, s := range Schemes {
			if s.PSS && s.Hash == c.h {
				scheme = s
			}
		}
		if hex.EncodeToString(scheme.AlgorithmIdentifier) != hex.EncodeToString(alg) {
			t.Errorf("%v: ours %x\nx509's %x", c.alg, scheme.AlgorithmIdentifier, []byte(alg))
		}
	}
	// RFC 7427 A.4.1, RSASSA-PSS with empty parameters: SHA-1, refused.
	d := wire.DigitalSignature{AlgorithmIdentifier: unhex(t, "300b06092a864886f70d01010a3000"), Signature: []byte{1}}
	if _, _, err := schemeOf(d); err == nil {
		t.Fatal("PSS with SHA-1 defaults accepted")
	}
}

func TestSignVerifyEveryMethod(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	octets := []byte("IKE_SA_INIT message | Nr | prf(SK_pi, IDi')")
	for _, c := range []struct {
		name   string
		key    crypto.Signer
		method wire.AuthMethod
		hashes []wire.HashAlgorithm
		scheme string
	}{
		{"rsa method 1", rsaKey, wire.AuthRSASignature, nil, ""},
		{"ecdsa 256", p256, wire.AuthECDSA256, nil, ""},
		{"ecdsa 384", p384, wire.AuthECDSA384, nil, ""},
		{"ecdsa 521", p521, wire.AuthECDSA521, nil, ""},
		{"7427 rsa", rsaKey, wire.AuthDigitalSignature, SignatureHashes(), "sha256WithRSAEncryption"},
		{"7427 rsa, peer only sha-512", rsaKey, wire.AuthDigitalSignature, []wire.HashAlgorithm{wire.HashSHA2_512}, "sha512WithRSAEncryption"},
		{"7427 ecdsa p-384", p384, wire.AuthDigitalSignature, SignatureHashes(), "ecdsa-with-SHA384"},
		{"7427 ecdsa p-521", p521, wire.AuthDigitalSignature, nil, "ecdsa-with-SHA512"},
		{"7427 ed25519", ed, wire.AuthDigitalSignature, SignatureHashes(), "ed25519"},
	} {
		t.Run(c.name, func(t *testing.T) {
			auth, err := SignAuth(rand.Reader, c.key, c.method, c.hashes, octets)
			if err != nil {
				t.Fatal(err)
			}
			if c.scheme != "" {
				d, _ := auth.DigitalSignature()
				s, _, err := schemeOf(d)
				if err != nil || s.Name != c.scheme {
					t.Fatalf("scheme %q %v, want %s", s.Name, err, c.scheme)
				}
			}
			if err := VerifyAuth(c.key.Public(), auth, octets); err != nil {
				t.Fatal(err)
			}
			tampered := append([]byte{}, octets...)
			tampered[0] ^= 1
			if err := VerifyAuth(c.key.Public(), auth, tampered); CauseOf(err) != CauseBadSignature {
				t.Fatalf("tampered octets: %v", err)
			}
			if err := VerifyAuth(p256.Public(), auth, octets); err == nil && c.key != p256 {
				t.Fatal("verified with another key")
			}
		})
	}
	// RSASSA-PSS from a peer, with the salt its parameters give.
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		var s Scheme
		for _, x := range Schemes {
			if x.PSS && x.Hash == h {
				s = x
			}
		}
		sig, err := signScheme(rand.Reader, rsaKey, s, octets)
		if err != nil {
			t.Fatal(err)
		}
		auth, _ := wire.DigitalSignature{AlgorithmIdentifier: s.AlgorithmIdentifier, Signature: sig}.Auth()
		if err := VerifyAuth(&rsaKey.PublicKey, auth, octets); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
	}
	if _, err := SignAuth(rand.Reader, p256, wire.AuthDigitalSignature, []wire.HashAlgorithm{wire.HashSHA1}, octets); err == nil {
		t.Fatal("signed with no shared hash")
	}
	if _, err := AuthMethod("ecdsa-signatures-384", p256.Public()); err == nil {
		t.Fatal("ecdsa-signatures-384 with a P-256 key")
	}
	if m, err := AuthMethod("certificates", ed.Public()); err != nil || m != wire.AuthDigitalSignature {
		t.Fatal(m, err)
	}
}
