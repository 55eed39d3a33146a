package netconf

import (
	"context"
	"reflect"
	"testing"

	"ipsecgw/mgmt/mgmtpb"
)

// TestShowRPCsAnswerAsDisplayXML: a show command's RPC answers with the
// element that "| display xml" prints for the command (asked here through
// <command>, which runs the CLI), for the IPsec, interface and PKI
// commands, on a gateway holding a key pair with a self-signed
// certificate.
func TestShowRPCsAnswerAsDisplayXML(t *testing.T) {
	srv, api := startServer(t)
	op := mgmtpb.NewOperationalClient(api.Conn)
	for _, words := range [][]string{
		{"security", "pki", "generate-key-pair", "certificate-id", "gw1", "type", "ecdsa", "size", "256"},
		{"security", "pki", "local-certificate", "generate-self-signed", "certificate-id", "gw1", "subject", "DC=example,DC=net,CN=gw1", "domain-name", "gw1.example.net"},
	} {
		if _, err := op.Request(context.Background(), &mgmtpb.CommandRequest{Words: words}); err != nil {
			t.Fatalf("request %v: %v", words, err)
		}
	}
	c := dial(t, srv, superUser, Base10, Base11)
	for _, tc := range []struct {
		rpc, command string
		root         string // the reply's element
	}{
		{"<get-pki-local-certificate/>", "show security pki local-certificate", "pki-local-certificate-information"},
		{"<get-pki-local-certificate><certificate-id>gw1</certificate-id><detail/></get-pki-local-certificate>",
			"show security pki local-certificate certificate-id gw1 detail", "pki-local-certificate-information"},
		{"<get-pki-ca-certificate><detail/></get-pki-ca-certificate>", "show security pki ca-certificate detail", "pki-ca-certificate-information"},
		{"<get-pki-crl/>", "show security pki crl", "pki-crl-information"},
		{"<get-ike-security-associations-information><detail/></get-ike-security-associations-information>",
			"show security ike security-associations detail", "ike-security-associations-information"},
		{"<get-security-associations-information/>", "show security ipsec security-associations", "ipsec-security-associations-information"},
		{"<get-ipsec-statistics-information/>", "show security ipsec statistics", "usp-ipsec-total-statistics-information"},
		{"<get-inactive-tunnels/>", "show security ipsec inactive-tunnels", "ipsec-unestablished-tunnel-information"},
		{"<get-interface-information><terse/></get-interface-information>", "show interfaces terse", "interface-information"},
	} {
		got := c.ok(tc.rpc)
		want := c.ok(`<command format="xml">` + tc.command + `</command>`)
		if got.Child(tc.root) == nil || len(got.Children) != 1 {
			t.Errorf("%s: the reply is not one <%s>: %+v", tc.rpc, tc.root, got.Children)
			continue
		}
		if !reflect.DeepEqual(got.Children, want.Children) {
			t.Errorf("%s answers otherwise than %q | display xml:\n%+v\n%+v", tc.rpc, tc.command, got.Children[0], want.Children[0])
		}
	}
	// The local certificate is in the reply, by its identifier.
	lc := c.ok("<get-pki-local-certificate><certificate-id>gw1</certificate-id></get-pki-local-certificate>").Child("pki-local-certificate-information")
	if id := lc.Child("x509-certificate-information").ChildText("certificate-identifier"); id != "gw1" {
		t.Errorf("get-pki-local-certificate: identifier %q, want gw1", id)
	}
	if er := c.fail("<get-pki-crl><certificate-id>gw1</certificate-id></get-pki-crl>"); er.Child("error-info").ChildText("bad-element") != "certificate-id" {
		t.Errorf("get-pki-crl took a certificate-id: %s", er.ChildText("error-message"))
	}
}
