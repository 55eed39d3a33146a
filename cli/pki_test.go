package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"ipsecgw/mgmt/mgmtpb"
)

func TestPKICommandsParse(t *testing.T) {
	wd, _ := os.Getwd()
	for line, want := range map[string][]string{
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
	ws, _ := splitWords("show security pki local-certificate certificate-id gw1 detail")
	cmd, err := parseOp(ws, 60)
	if err != nil || cmd.show.GetPki().GetKind() != "local-certificate" || cmd.show.GetPki().GetCertificateId() != "gw1" || cmd.show.GetPki().GetStyle() != mgmtpb.Style_DETAIL {
		t.Fatalf("show: %+v %v", cmd.show, err)
	}
	ws, _ = splitWords("clear security pki local-certificate certificate-id gw1")
	cmd, err = parseOp(ws, 60)
	if err != nil || cmd.clear.GetLocalCertificate().GetCertificateId() != "gw1" {
		t.Fatalf("clear: %+v %v", cmd.clear, err)
	}
	ws, _ = splitWords("request security pki generate-key-pair certificate-id gw1 type dsa")
	if _, err := parseOp(ws, 70); err == nil {
		t.Fatal("type dsa accepted")
	}
}
