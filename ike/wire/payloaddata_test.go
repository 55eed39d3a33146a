package wire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"testing"
	"time"

	"ipsecgw/transform"
)

// Tests of the codecs of payload contents: certificates, signature AUTH
// data (RFC 4754, RFC 7427), SIGNATURE_HASH_ALGORITHMS and PPK_IDENTITY.

// selfSigned is a real DER certificate and its SubjectPublicKeyInfo.
func selfSigned(t testing.TB) (der, spki []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca.example.net"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0), IsCA: true, BasicConstraintsValid: true}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return der, c.RawSubjectPublicKeyInfo
}

// OIDs of RFC 7427 Appendix A, as peers send them.
var (
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	asn1NULL           = []byte{0x05, 0x00}
)

// rsaSHA256 is sha256WithRSAEncryption with NULL parameters, byte for byte
// as RFC 7427 Appendix A.1.2 gives it.
const rsaSHA256Hex = "300d06092a864886f70d01010b0500"

func TestCertificatePayloads(t *testing.T) {
	der, spki := selfSigned(t)
	cert := X509Cert(der)
	got, err := cert.X509()
	if err != nil || !bytes.Equal(got, der) {
		t.Fatalf("X509() = %d bytes, %v", len(got), err)
	}
	hash := CAKeyHash(spki)
	if hash != sha1.Sum(spki) {
		t.Fatal("CAKeyHash is not SHA-1 of the SubjectPublicKeyInfo")
	}
	other := [CAKeyHashLen]byte{1, 2, 3}
	req := X509CertReq(hash, other)
	cas, err := req.CAs()
	if err != nil || !slices.Equal(cas, [][CAKeyHashLen]byte{hash, other}) {
		t.Fatalf("CAs() = %x, %v", cas, err)
	}
	if cas, err := X509CertReq().CAs(); err != nil || cas != nil {
		t.Fatalf("empty CERTREQ: %x, %v", cas, err)
	}
	// Both travel in a message and come back the same.
	m := &Message{Header: authHeader(), Payloads: []Payload{cert, req}}
	back := mustParse(t, mustMarshal(t, m))
	sameMessage(t, back, m)

	for name, bad := range map[string]error{
		"PKCS7":         func() error { _, err := (&Cert{Encoding: CertPKCS7, Data: der}).X509(); return err }(),
		"trailing":      func() error { _, err := X509Cert(append(bytes.Clone(der), 0)).X509(); return err }(),
		"empty":         func() error { _, err := X509Cert(nil).X509(); return err }(),
		"CERTREQ 19":    func() error { _, err := (&CertReq{Encoding: CertX509Signature, Data: hash[:19]}).CAs(); return err }(),
		"CERTREQ PKCS7": func() error { _, err := (&CertReq{Encoding: CertPKCS7}).CAs(); return err }(),
		"CERTREQ 20 + 1": func() error {
			_, err := (&CertReq{Encoding: CertX509Signature, Data: append(hash[:], 9)}).CAs()
			return err
		}(),
	} {
		if NotifyFor(bad) != INVALID_SYNTAX {
			t.Errorf("%s: err = %v, want INVALID_SYNTAX", name, bad)
		}
	}
}

func TestCertEveryPrefixFails(t *testing.T) {
	der, _ := selfSigned(t)
	for n := range len(der) {
		if _, err := X509Cert(der[:n]).X509(); NotifyFor(err) != INVALID_SYNTAX {
			t.Fatalf("certificate cut to %d of %d bytes: err = %v", n, len(der), err)
		}
	}
}

func TestDigitalSignature(t *testing.T) {
	alg, err := AlgorithmIdentifier(oidSHA256WithRSA, asn1NULL)
	if err != nil || hex.EncodeToString(alg) != rsaSHA256Hex {
		t.Fatalf("AlgorithmIdentifier = %x, %v; want RFC 7427's %s", alg, err, rsaSHA256Hex)
	}
	ecAlg, err := AlgorithmIdentifier(oidECDSAWithSHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []DigitalSignature{
		{AlgorithmIdentifier: alg, Signature: pattern(1, 256)},
		{AlgorithmIdentifier: ecAlg, Signature: pattern(2, 71)},
	} {
		a, err := d.Auth()
		if err != nil {
			t.Fatal(err)
		}
		if a.Data[0] != byte(len(d.AlgorithmIdentifier)) {
			t.Fatalf("ASN.1 Length %d, want %d", a.Data[0], len(d.AlgorithmIdentifier))
		}
		m := &Message{Header: authHeader(), Payloads: []Payload{a}}
		back, _ := Find[*Auth](mustParse(t, mustMarshal(t, m)).Payloads)
		got, err := back.DigitalSignature()
		if err != nil || !bytes.Equal(got.AlgorithmIdentifier, d.AlgorithmIdentifier) || !bytes.Equal(got.Signature, d.Signature) {
			t.Fatalf("round trip: %+v, %v", got, err)
		}
		oid, params, ok := got.Algorithm()
		wantOID := oidECDSAWithSHA256
		if len(params) > 0 {
			wantOID = oidSHA256WithRSA
		}
		if !ok || !oid.Equal(wantOID) {
			t.Fatalf("Algorithm() = %v %x %v", oid, params, ok)
		}
	}
	// Every cut inside the ASN.1 Length or AlgorithmIdentifier, or right
	// after it, fails; a signature is at least one byte.
	data, _ := DigitalSignature{AlgorithmIdentifier: alg, Signature: []byte{7}}.Append(nil)
	for n := range len(data) {
		if _, err := ParseDigitalSignature(data[:n]); NotifyFor(err) != INVALID_SYNTAX {
			t.Fatalf("AUTH data cut to %d of %d bytes: err = %v", n, len(data), err)
		}
	}
	bad := map[string][]byte{
		"length past end":   append([]byte{200}, alg...),
		"not a SEQUENCE":    append([]byte{2, 0x04, 0x00}, 1),
		"no OID":            append([]byte{4, 0x30, 0x02, 0x05, 0x00}, 1),
		"two params":        append([]byte{byte(len(alg) + 2)}, append(append([]byte{0x30, byte(len(alg))}, alg[2:]...), 0x05, 0x00, 1)...),
		"length too short":  append([]byte{byte(len(alg) - 1)}, append(alg, 1)...),
		"wrong auth method": nil,
	}
	for name, b := range bad {
		var err error
		if b == nil {
			_, err = (&Auth{Method: AuthRSASignature, Data: data}).DigitalSignature()
		} else {
			_, err = ParseDigitalSignature(b)
		}
		if NotifyFor(err) != INVALID_SYNTAX {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := (DigitalSignature{AlgorithmIdentifier: []byte{0x30, 0x00}, Signature: []byte{1}}).Append(nil); !errors.Is(err, ErrCannotEncode) {
		t.Errorf("building with a bad AlgorithmIdentifier: %v", err)
	}
	if _, err := (DigitalSignature{AlgorithmIdentifier: alg}).Auth(); !errors.Is(err, ErrCannotEncode) {
		t.Errorf("building without a signature: %v", err)
	}
	if _, err := AlgorithmIdentifier(oidSHA256WithRSA, []byte{0x05}); !errors.Is(err, ErrCannotEncode) {
		t.Errorf("AlgorithmIdentifier with broken parameters: %v", err)
	}
}

func TestECDSAAuth(t *testing.T) {
	for _, m := range []AuthMethod{AuthECDSA256, AuthECDSA384, AuthECDSA521} {
		n := ECDSASignatureSize(m)
		r, s := pattern(1, n-1), pattern(2, n) // r shorter: left-padded
		a, err := ECDSAAuth(m, r, s)
		if err != nil || len(a.Data) != 2*n {
			t.Fatalf("%v: %d bytes, %v", m, len(a.Data), err)
		}
		gr, gs, err := a.ECDSA()
		if err != nil || !bytes.Equal(bytes.TrimLeft(gr, "\x00"), bytes.TrimLeft(r, "\x00")) || !bytes.Equal(gs, s) {
			t.Fatalf("%v: r %x s %x, %v", m, gr, gs, err)
		}
		for _, l := range []int{0, 2*n - 1, 2*n + 1} {
			if _, _, err := (&Auth{Method: m, Data: make([]byte, l)}).ECDSA(); NotifyFor(err) != INVALID_SYNTAX {
				t.Errorf("%v with %d bytes: %v", m, l, err)
			}
		}
		if _, err := ECDSAAuth(m, pattern(1, n+1), s); !errors.Is(err, ErrCannotEncode) {
			t.Errorf("%v: r too long: %v", m, err)
		}
	}
	if ECDSASignatureSize(AuthRSASignature) != 0 || ECDSASignatureSize(AuthDigitalSignature) != 0 {
		t.Error("a non-ECDSA method has an ECDSA size")
	}
	if _, _, err := (&Auth{Method: AuthRSASignature, Data: make([]byte, 64)}).ECDSA(); err == nil {
		t.Error("RSA AUTH read as ECDSA")
	}
}

func TestSignatureHashAlgorithms(t *testing.T) {
	n := SignatureHashAlgorithms(HashSHA2_256, HashSHA2_384, HashSHA2_512, HashIdentity, 99)
	if n.Type != SIGNATURE_HASH_ALGORITHMS || hex.EncodeToString(n.Data) != "00020003000400050063" {
		t.Fatalf("notify %v data %x", n.Type, n.Data)
	}
	m := &Message{Header: typicalInit().Header, Payloads: []Payload{n}}
	back, _ := FindNotify(mustParse(t, mustMarshal(t, m)).Payloads, SIGNATURE_HASH_ALGORITHMS)
	algs, err := ParseSignatureHashAlgorithms(back.Data)
	if err != nil || !slices.Equal(algs, []HashAlgorithm{HashSHA2_256, HashSHA2_384, HashSHA2_512, HashIdentity, 99}) {
		t.Fatalf("parsed %v, %v", algs, err)
	}
	for l := 1; l < len(n.Data); l += 2 {
		if _, err := ParseSignatureHashAlgorithms(n.Data[:l]); NotifyFor(err) != INVALID_SYNTAX {
			t.Fatalf("odd %d bytes: %v", l, err)
		}
	}
	if algs, err := ParseSignatureHashAlgorithms(nil); err != nil || algs != nil {
		t.Fatalf("empty: %v %v", algs, err)
	}
	if HashSHA2_256.String() != "SHA2-256" || HashAlgorithm(77).String() != "hash algorithm 77" {
		t.Error("names")
	}
}

func TestPPKIdentity(t *testing.T) {
	n, err := PPKID{Type: PPK_ID_FIXED, ID: []byte("ppk-1")}.Notify()
	if err != nil || n.Type != PPK_IDENTITY || string(n.Data) != "\x02ppk-1" {
		t.Fatalf("notify %v %q %v", n.Type, n.Data, err)
	}
	got, err := ParsePPKID(n.Data)
	if err != nil || got.Type != PPK_ID_FIXED || string(got.ID) != "ppk-1" {
		t.Fatalf("parsed %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {2}, {0, 'x'}} {
		if _, err := ParsePPKID(bad); NotifyFor(err) != INVALID_SYNTAX {
			t.Errorf("%x: %v", bad, err)
		}
	}
	if _, err := (PPKID{Type: PPK_ID_OPAQUE}).Notify(); !errors.Is(err, ErrCannotEncode) {
		t.Errorf("empty ID built: %v", err)
	}
}

// The numbers added for certificates, PPK and additional key exchanges
// are named, and the error/status split holds for them.
func TestNewRegistryNames(t *testing.T) {
	for n, want := range map[NotifyType]string{
		USE_PPK: "USE_PPK", PPK_IDENTITY: "PPK_IDENTITY", NO_PPK_AUTH: "NO_PPK_AUTH",
		INTERMEDIATE_EXCHANGE_SUPPORTED: "INTERMEDIATE_EXCHANGE_SUPPORTED",
		ADDITIONAL_KEY_EXCHANGE:         "ADDITIONAL_KEY_EXCHANGE", STATE_NOT_FOUND: "STATE_NOT_FOUND",
		IKEV2_FRAGMENTATION_SUPPORTED: "IKEV2_FRAGMENTATION_SUPPORTED",
	} {
		if n.String() != want || n.IsError() != (n == STATE_NOT_FOUND) {
			t.Errorf("%d: %q error=%v", uint16(n), n, n.IsError())
		}
	}
	if IKE_INTERMEDIATE.String() != "IKE_INTERMEDIATE" || IKE_FOLLOWUP_KE.String() != "IKE_FOLLOWUP_KE" {
		t.Error("exchange names")
	}
	if CertX509Signature.String() != "X.509 Certificate - Signature" || CertEncoding(99).String() != "cert encoding 99" {
		t.Error("cert encoding names")
	}
}

// FuzzPayloadData feeds any bytes to the payload-content codecs: each
// returns a *ParseError or a value that builds back to the same bytes.
func FuzzPayloadData(f *testing.F) {
	alg, _ := AlgorithmIdentifier(oidSHA256WithRSA, asn1NULL)
	ds, _ := DigitalSignature{AlgorithmIdentifier: alg, Signature: pattern(3, 32)}.Append(nil)
	der, _ := selfSigned(f)
	f.Add(uint8(0), ds)
	f.Add(uint8(1), SignatureHashAlgorithms(HashSHA2_256, HashSHA2_512).Data)
	f.Add(uint8(2), []byte("\x02ppk"))
	f.Add(uint8(3), der)
	f.Add(uint8(4), pattern(4, 40))
	f.Add(uint8(5), pattern(5, 64))
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		var again []byte
		var err error
		switch kind % 6 {
		case 0:
			var d DigitalSignature
			if d, err = ParseDigitalSignature(data); err == nil {
				again, err = d.Append(nil)
				if err != nil {
					t.Fatalf("parsed signature does not build: %v", err)
				}
			}
		case 1:
			var algs []HashAlgorithm
			if algs, err = ParseSignatureHashAlgorithms(data); err == nil {
				again = SignatureHashAlgorithms(algs...).Data
			}
		case 2:
			var p PPKID
			if p, err = ParsePPKID(data); err == nil {
				n, berr := p.Notify()
				if berr != nil {
					t.Fatalf("parsed PPK_ID does not build: %v", berr)
				}
				again = n.Data
			}
		case 3:
			again, err = X509Cert(data).X509()
		case 4:
			var cas [][CAKeyHashLen]byte
			if cas, err = (&CertReq{Encoding: CertX509Signature, Data: data}).CAs(); err == nil {
				again = X509CertReq(cas...).Data
			}
		case 5:
			m := AuthMethod(9 + len(data)%3)
			var r, s []byte
			if r, s, err = (&Auth{Method: m, Data: data}).ECDSA(); err == nil {
				a, berr := ECDSAAuth(m, r, s)
				if berr != nil {
					t.Fatalf("parsed ECDSA signature does not build: %v", berr)
				}
				again = a.Data
			}
		}
		if err != nil {
			checkParseError(t, err, len(data))
			return
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("kind %d: built %x from %x", kind%6, again, data)
		}
	})
}

// An IKE_SA_INIT proposal with RFC 9370 additional key exchanges: ADDKE
// transforms travel like any other, and name KE rows.
func TestAdditionalKeyExchangeProposal(t *testing.T) {
	m := typicalInit()
	sa := m.Payloads[0].(*SA)
	p := &sa.Proposals[0]
	p.Transforms = append(p.Transforms,
		Transform{Type: transform.TypeADDKE1, ID: transform.ML_KEM_768},
		Transform{Type: transform.TypeADDKE2, ID: transform.ML_KEM_1024},
		Transform{Type: transform.TypeADDKE2, ID: transform.NONE},
	)
	m.Payloads = append(m.Payloads, &Notify{Type: INTERMEDIATE_EXCHANGE_SUPPORTED})
	b := mustMarshal(t, m)
	back := mustParse(t, b)
	sameMessage(t, back, m)
	got := back.Payloads[0].(*SA).Proposals[0].Transforms
	row, ok := got[len(got)-3].Lookup()
	if !ok || row.ID != transform.ML_KEM_768 || !row.IsKEM() {
		t.Fatalf("ADDKE1 transform names %v, %v", row, ok)
	}
	if _, ok := got[len(got)-1].Lookup(); ok {
		t.Fatal("NONE names a row")
	}
	if _, ok := FindNotify(back.Payloads, INTERMEDIATE_EXCHANGE_SUPPORTED); !ok {
		t.Fatal("INTERMEDIATE_EXCHANGE_SUPPORTED lost")
	}
	// A seed for FuzzParseMessage (testdata/fuzz/FuzzParseMessage/seed-ADDKE).
	if want, err := os.ReadFile("testdata/fuzz/FuzzParseMessage/seed-ADDKE"); err != nil || !bytes.Contains(want, []byte(fmt.Sprintf("%q", b))) {
		t.Errorf("seed-ADDKE is not this message (err %v); regenerate it:\ngo test fuzz v1\n[]byte(%q)", err, b)
	}
}
