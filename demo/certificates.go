package demo

import (
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"ipsecgw/pki"
)

// The certificates scenario: the seed 004 gateways authenticate with
// certificates instead of the pre-shared key. Each generates its own
// ECDSA P-256 key pair and self-signed certificate at start (what
// request security pki generate-key-pair and local-certificate
// generate-self-signed do), and trusts the other's certificate as the CA
// of ca-profile "peer" (loaded as request security pki ca-certificate
// load would).

var certificateEdits = []edit{
	{"authentication-method pre-shared-keys;", "authentication-method certificates;"},
	{`pre-shared-key ascii-text "$9$2igGiPfz6CuQFhSleW8GDj"; ## SECRET-DATA`,
		"certificate {\n                local-certificate gw;\n                trusted-ca ca-profile peer;\n            }"},
	{"security {\n    ike {", "security {\n    pki {\n        ca-profile peer {\n            revocation-check disable;\n        }\n    }\n    ike {"},
}

// makeCertificates writes each gateway's key pair and certificate into its
// state directory under dir, and the other's certificate as its CA.
func makeCertificates(dir string, specs []gatewaySpec) error {
	stores := make([]*pki.Store, len(specs))
	certs := make([][]byte, len(specs))
	for i, s := range specs {
		sub := filepath.Join(dir, s.name)
		if err := os.MkdirAll(sub, 0o700); err != nil {
			return err
		}
		st, err := pki.Open(sub, pki.Options{})
		if err != nil {
			return err
		}
		if _, err := st.GenerateKeyPair("gw", pki.ECDSA, 256); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		l, err := st.GenerateSelfSigned("gw", pki.Names{Subject: "O=ipsecgw demo, CN=" + s.name, IPAddress: s.outer})
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		stores[i], certs[i] = st, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Cert.Raw})
	}
	for i, st := range stores {
		if _, err := st.LoadCA("peer", certs[len(specs)-1-i]); err != nil {
			return fmt.Errorf("%s: %w", specs[i].name, err)
		}
	}
	return nil
}
