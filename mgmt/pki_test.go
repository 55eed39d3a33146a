package mgmt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/clock"
	"ipsecgw/mgmt/mgmtpb"
)

func TestPKIRequests(t *testing.T) {
	gws := startGatewaysWith(t, clock.Real{}, func(_ int, cfg string) string {
		return cfg + "set security pki ca-profile example revocation-check crl disable on-download-failure\n"
	})
	g := gws[0]
	ctx := context.Background()
	ss, _ := filepath.Abs(filepath.Join("..", "pki", "testdata", "strongswan"))
	request := func(words ...string) (string, error) {
		r, err := g.op.Request(ctx, &mgmtpb.CommandRequest{Words: append([]string{"security", "pki"}, words...)})
		return r.GetOutput(), err
	}
	must := func(want string, words ...string) string {
		t.Helper()
		out, err := request(words...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("%v: %q %v, want %q", words, out, err, want)
		}
		return out
	}
	refused := func(code codes.Code, want string, words ...string) {
		t.Helper()
		_, err := request(words...)
		if status.Code(err) != code || !strings.Contains(err.Error(), want) {
			t.Fatalf("%v: %v, want %v %q", words, err, code, want)
		}
	}
	must("Generated key pair gw1, key algorithm ecPublicKey(256 bits)", "generate-key-pair", "certificate-id", "gw1", "type", "ecdsa", "size", "256")
	refused(codes.FailedPrecondition, "already has a key pair", "generate-key-pair", "certificate-id", "gw1")
	refused(codes.FailedPrecondition, "expected 2048, 3072, 4096", "generate-key-pair", "certificate-id", "gw2", "type", "rsa", "size", "1024")
	must("Self-signed certificate generated and loaded successfully", "local-certificate", "generate-self-signed", "certificate-id", "gw1",
		"subject", "DC=example,DC=net,CN=gw1", "domain-name", "gw1.example.net", "ip-address", "192.0.2.1")
	csrFile := filepath.Join(t.TempDir(), "gw1.csr")
	must("BEGIN CERTIFICATE REQUEST", "generate-certificate-request", "certificate-id", "gw1", "subject", "CN=gw1, O=Example", "filename", csrFile)
	if b, err := os.ReadFile(csrFile); err != nil || !strings.Contains(string(b), "BEGIN CERTIFICATE REQUEST") {
		t.Fatalf("CSR file: %v", err)
	}
	must("loaded successfully (2 certificates)", "ca-certificate", "load", "ca-profile", "example", "filename", filepath.Join(ss, "chain.crt"))
	refused(codes.NotFound, "ca-profile other is not configured", "ca-certificate", "load", "ca-profile", "other", "filename", filepath.Join(ss, "chain.crt"))
	must("(1 revoked certificates)", "crl", "load", "ca-profile", "example", "filename", filepath.Join(ss, "inter.crl"))
	must("Local certificate loaded successfully", "local-certificate", "load", "certificate-id", "peer-rsa", "filename", filepath.Join(ss, "rsa.crt"), "key", filepath.Join(ss, "rsa.key"))
	refused(codes.FailedPrecondition, "is not the key of the certificate", "local-certificate", "load", "certificate-id", "bad", "filename", filepath.Join(ss, "rsa.crt"), "key", filepath.Join(ss, "ecdsa.key"))
	refused(codes.InvalidArgument, "unknown request", "frob")
	refused(codes.InvalidArgument, "subject is required", "local-certificate", "generate-self-signed", "certificate-id", "gw1")
	refused(codes.InvalidArgument, `unknown option "colour"`, "generate-key-pair", "certificate-id", "gw3", "colour", "red")

	pkiShow := func(kind, id, profile string, style mgmtpb.Style, d mgmtpb.Display) string {
		return showText(t, g, &mgmtpb.ShowRequest{Display: d, Command: &mgmtpb.ShowRequest_Pki{Pki: &mgmtpb.PKI{Kind: kind, CertificateId: id, CaProfile: profile, Style: style}}})
	}
	local := pkiShow("local-certificate", "", "", 0, mgmtpb.Display_TEXT)
	for _, want := range []string{"Certificate identifier: gw1\n  Issued to: gw1, Issued by: gw1", "Public key algorithm: ecPublicKey(256 bits)",
		"Keypair Location: Keypair generated locally", "Certificate identifier: peer-rsa\n  Issued to: gw-rsa.example.net, Issued by: Example Intermediate CA"} {
		if !strings.Contains(local, want) {
			t.Errorf("show security pki local-certificate lacks %q:\n%s", want, local)
		}
	}
	detail := pkiShow("local-certificate", "gw1", "", mgmtpb.Style_DETAIL, mgmtpb.Display_TEXT)
	if !strings.Contains(detail, "Subject string:\n    DC=example, DC=net, CN=gw1") || !strings.Contains(detail, "Alternate subject: gw1.example.net, 192.0.2.1") {
		t.Errorf("detail:\n%s", detail)
	}
	js := pkiShow("local-certificate", "", "", mgmtpb.Style_DETAIL, mgmtpb.Display_JSON)
	for _, out := range []string{local, detail, js} {
		if strings.Contains(out, "PRIVATE") {
			t.Fatal("a private key in a show output")
		}
	}
	if !strings.Contains(js, `"public-key-fingerprint"`) {
		t.Errorf("json:\n%s", js)
	}
	ca := pkiShow("ca-certificate", "", "example", 0, mgmtpb.Display_TEXT)
	if !strings.Contains(ca, "Certificate identifier: example\n  Issued to: Example Root CA") || !strings.Contains(ca, "Certificate identifier: example_2\n  Issued to: Example Intermediate CA") {
		t.Errorf("ca-certificate:\n%s", ca)
	}
	crl := pkiShow("crl", "", "", mgmtpb.Style_DETAIL, mgmtpb.Display_XML)
	if !strings.Contains(crl, "<crl-issuer>C=US, O=Example, CN=Example Intermediate CA</crl-issuer>") || !strings.Contains(crl, "<revoked-certificate>") {
		t.Errorf("crl:\n%s", crl)
	}
	// clear removes the certificate and its key.
	if _, err := g.op.Clear(ctx, &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_LocalCertificate{LocalCertificate: &mgmtpb.ClearLocalCertificate{CertificateId: "gw1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.op.Clear(ctx, &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_LocalCertificate{LocalCertificate: &mgmtpb.ClearLocalCertificate{CertificateId: "gw1"}}}); status.Code(err) != codes.NotFound {
		t.Fatalf("clear twice: %v", err)
	}
	if out := pkiShow("local-certificate", "", "", 0, mgmtpb.Display_TEXT); strings.Contains(out, "gw1") {
		t.Fatalf("gw1 still shown:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(g.dir, "pki", "local", "gw1.key")); !os.IsNotExist(err) {
		t.Fatalf("key file after clear: %v", err)
	}
}
