package ike

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

func TestEncodeDN(t *testing.T) {
	der, err := EncodeDN("CN=gw1.example.net, O=Example Org, C=US")
	if err != nil {
		t.Fatal(err)
	}
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdns); err != nil {
		t.Fatal(err)
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdns)
	if n.CommonName != "gw1.example.net" || len(n.Organization) != 1 || n.Organization[0] != "Example Org" || n.Country[0] != "US" {
		t.Fatalf("decoded %+v", n)
	}
	slash, _ := EncodeDN("/CN=gw1.example.net/O=Example Org/C=US")
	if string(slash) != string(der) {
		t.Fatal("slash and comma forms differ")
	}
	// The same name with PrintableString values (as another implementation
	// may encode it) is the same identity; another name is not.
	printable, _ := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("gw1.example.net")}}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("Example Org")}}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("US")}}},
	})
	other, _ := EncodeDN("CN=gw2.example.net, O=Example Org, C=US")
	if !SameDN(der, printable) || SameDN(der, other) {
		t.Fatal("SameDN")
	}
	for _, bad := range []string{"", "CN", "XX=1", "CN=a, =b"} {
		if _, err := EncodeDN(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
