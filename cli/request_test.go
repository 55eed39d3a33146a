package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestRequestWordsParse: each `request` command the CLI accepts reaches
// the server as its canonical words (abbreviations and aliases expanded,
// relative file names made absolute), and each malformed one is refused
// before it is sent.
func TestRequestWordsParse(t *testing.T) {
	wd, _ := os.Getwd()
	for line, want := range map[string][]string{
		// Rekey (IKE and IPsec SAs).
		"request security ike security-associations rekey":                                  {"security", "ike", "security-associations", "rekey"},
		"request security ike sa rekey peer-address 192.0.2.2":                              {"security", "ike", "security-associations", "rekey", "peer-address", "192.0.2.2"},
		"request security ike security-associations rekey index 3 peer-address 2001:db8::1": {"security", "ike", "security-associations", "rekey", "peer-address", "2001:db8::1", "index", "3"},
		"request security ipsec security-associations rekey index 2":                        {"security", "ipsec", "security-associations", "rekey", "index", "2"},
		// PKI.
		"request security pki generate-key-pair certificate-id gw1 type ecdsa size 384":                                                        {"security", "pki", "generate-key-pair", "certificate-id", "gw1", "type", "ecdsa", "size", "384"},
		`req sec pki local-certificate generate-self-signed certificate-id gw1 subject "DC=example,DC=net,CN=gw1" domain-name gw1.example.net`: {"security", "pki", "local-certificate", "generate-self-signed", "certificate-id", "gw1", "subject", "DC=example,DC=net,CN=gw1", "domain-name", "gw1.example.net"},
		"request security pki ca-certificate load ca-profile root filename ca.pem":                                                             {"security", "pki", "ca-certificate", "load", "ca-profile", "root", "filename", filepath.Join(wd, "ca.pem")},
		"request security pki local-certificate load certificate-id x filename /c.pem key k.pem":                                               {"security", "pki", "local-certificate", "load", "certificate-id", "x", "filename", "/c.pem", "key", filepath.Join(wd, "k.pem")},
		`request security pki generate-certificate-request certificate-id x subject "CN=x" filename /tmp/x.csr`:                                {"security", "pki", "generate-certificate-request", "certificate-id", "x", "subject", "CN=x", "filename", "/tmp/x.csr"},
	} {
		ws, serr := splitWords(line)
		if serr != nil {
			t.Fatal(serr)
		}
		cmd, err := parseOp(ws, len(line))
		if err != nil {
			t.Fatalf("%s: %v", line, err.msg)
		}
		if cmd.request == nil || !reflect.DeepEqual(cmd.request.Words, want) {
			t.Errorf("%s:\n got %q\nwant %q", line, cmd.request.GetWords(), want)
		}
	}
	for _, line := range []string{
		"request security ike security-associations rekey peer-address nowhere",
		"request security ipsec security-associations rekey peer-address 192.0.2.2",
		"request security ike security-associations rekey index x",
		"request security pki generate-key-pair certificate-id gw1 type dsa",
	} {
		ws, _ := splitWords(line)
		if _, err := parseOp(ws, len(line)); err == nil {
			t.Errorf("%s: accepted", line)
		}
	}
}
