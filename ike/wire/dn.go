package wire

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// SameDN reports whether two ID_DER_ASN1_DN bodies (DER RDN sequences)
// name the same: the same attributes in the same order, values compared
// as text and attribute types exactly, so a peer that encodes a value as
// PrintableString where we use UTF8String still matches. Bodies that do
// not parse match nothing.
func SameDN(a, b []byte) bool {
	x, okx := dnAttributes(a)
	y, oky := dnAttributes(b)
	if !okx || !oky || len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// dnAttributes flattens a DER name into "type=value" texts.
func dnAttributes(der []byte) ([]string, bool) {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return nil, false
	}
	var out []string
	for _, rdn := range rdns {
		for _, a := range rdn {
			out = append(out, a.Type.String()+"="+fmt.Sprint(a.Value))
		}
	}
	return out, true
}
