package pki

import (
	"testing"

	"ipsecgw/ike/wire"
)

// FuzzDigitalSignature feeds a peer's RFC 7427 AUTH data to the
// algorithm lookup and the verifier: no input may panic.
func FuzzDigitalSignature(f *testing.F) {
	for _, s := range Schemes {
		d, _ := wire.DigitalSignature{AlgorithmIdentifier: s.AlgorithmIdentifier, Signature: []byte{1, 2, 3}}.Append(nil)
		f.Add(d)
	}
	f.Add([]byte{0x0f, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := wire.ParseDigitalSignature(data)
		if err != nil {
			return
		}
		schemeOf(d)
	})
}

// FuzzParseFiles feeds the file parsers (certificates, keys, CRLs, names)
// with anything: errors, never panics.
func FuzzParseFiles(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n"))
	f.Add([]byte("CN=gw1, O=Example\\, Inc., DC=net"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseCertificates(data)
		ParsePrivateKey(data)
		ParseCRL(data)
		if der, err := SubjectDER(string(data)); err == nil {
			DNString(der)
			DNLabels(der)
			MatchContainer(string(data), der)
			MatchWildcard(string(data), der)
		}
	})
}
