package ike

import (
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"ipsecgw/config/schema"
	"ipsecgw/ike"
	"ipsecgw/pki"
)

// The ECDSA rows: the same tunnels authenticated with ECDSA P-256
// certificates (authentication-method ecdsa-signatures-256, AUTH method 9)
// instead of the pre-shared key. The generator and each responder make a
// key pair and a self-signed certificate at the start of the row (what
// request security pki generate-key-pair and generate-self-signed do), and
// each trusts the other's certificate.

// ecdsaSuffix marks a group of the -groups list as an ECDSA row:
// "group19+ecdsa".
const ecdsaSuffix = "+ecdsa"

// splitGroup is a row's key exchange group and whether it signs.
func splitGroup(group string) (dh string, ecdsa bool) {
	return strings.CutSuffix(group, ecdsaSuffix)
}

// benchCertID is the certificate-id and ca-profile of the ECDSA rows.
const benchCertID = "bench"

// credentials are one side's key pair and self-signed certificate, in a
// pki store in dir.
type credentials struct {
	store   *pki.Store
	certPEM []byte
}

func newCredentials(dir, cn string) (*credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := pki.Open(dir, pki.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := st.GenerateKeyPair(benchCertID, pki.ECDSA, 256); err != nil {
		return nil, err
	}
	l, err := st.GenerateSelfSigned(benchCertID, pki.Names{Subject: "O=ipsecgw bench, CN=" + cn})
	if err != nil {
		return nil, err
	}
	return &credentials{store: st, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Cert.Raw})}, nil
}

// trust makes c trust other's certificate (ca-profile bench).
func (c *credentials) trust(other []byte) error {
	_, err := c.store.LoadCA(benchCertID, other)
	return err
}

// keyPEM is the private key file the store wrote (for strongSwan's
// private/ directory; never printed).
func (c *credentials) keyPEM(dir string) ([]byte, error) {
	return os.ReadFile(filepath.Join(dir, "pki", "local", benchCertID+".key"))
}

// ecdsaConfig is what vpnConfig adds for an ECDSA row.
func ecdsaConfig(w func(string, ...any)) {
	w("set security pki ca-profile %s revocation-check disable", benchCertID)
	w("set security ike proposal bench-ike authentication-method ecdsa-signatures-256")
	w("set security ike policy bench-ike certificate local-certificate %s", benchCertID)
	w("set security ike policy bench-ike certificate trusted-ca ca-profile %s", benchCertID)
}

// generatorAuth gives the generator's peer its credentials and trust of
// the responder's certificate.
func generatorAuth(p *ike.Peer, gen *credentials, responderCert []byte) error {
	if err := gen.trust(responderCert); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	p.Auth = &pki.Authenticator{Store: gen.store, Gateway: p.Gateway, CertificateID: benchCertID, Method: "ecdsa-signatures-256",
		Trust: []pki.TrustPolicy{pki.TrustPolicyFor(&schema.CAProfile{Name: benchCertID})}}
	p.PSK = nil
	return nil
}

// certHolder is what a responder keeps for an ECDSA row: the generator's
// certificate to trust, and its own, for the generator to trust.
type certHolder struct {
	genCert, cert []byte
}

func (c *certHolder) certs() *certHolder { return c }
