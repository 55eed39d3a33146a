package wire

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

func TestSameDN(t *testing.T) {
	name := func(tag int, cn string) []byte {
		rdns := pkix.RDNSequence{
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Example"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: tag, Bytes: []byte(cn)}}},
		}
		b, err := asn1.Marshal(rdns)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	utf8, printable := name(asn1.TagUTF8String, "gw1"), name(asn1.TagPrintableString, "gw1")
	if !SameDN(utf8, printable) {
		t.Fatal("the same name in two string types differs")
	}
	if SameDN(utf8, name(asn1.TagUTF8String, "gw2")) || SameDN(utf8, []byte{0x30, 0x01}) || SameDN(nil, nil) {
		t.Fatal("different or malformed names are the same")
	}
}
