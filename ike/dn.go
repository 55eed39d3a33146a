package ike

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// Distinguished-name identities (ID_DER_ASN1_DN) for local-identity and
// remote-identity distinguished-name: the configuration writes the name as
// text, "CN=gw1.example.net, O=Example, C=US" (commas or slashes between
// the parts, in the order the certificate or peer uses), the wire carries
// the DER of the RDN sequence.

// dnAttributes are the attribute keywords a name may use.
var dnAttributes = map[string]asn1.ObjectIdentifier{
	"C": {2, 5, 4, 6}, "O": {2, 5, 4, 10}, "OU": {2, 5, 4, 11}, "CN": {2, 5, 4, 3},
	"L": {2, 5, 4, 7}, "ST": {2, 5, 4, 8}, "SN": {2, 5, 4, 4}, "SERIALNUMBER": {2, 5, 4, 5},
	"STREET": {2, 5, 4, 9}, "T": {2, 5, 4, 12}, "GN": {2, 5, 4, 42},
	"DC": {0, 9, 2342, 19200300, 100, 1, 25}, "E": {1, 2, 840, 113549, 1, 9, 1},
	"EMAILADDRESS": {1, 2, 840, 113549, 1, 9, 1}, "UID": {0, 9, 2342, 19200300, 100, 1, 1},
}

// EncodeDN turns the text of a distinguished name into its DER.
func EncodeDN(s string) ([]byte, error) {
	sep := ","
	if strings.HasPrefix(strings.TrimSpace(s), "/") {
		sep = "/"
	}
	var rdns pkix.RDNSequence
	for _, part := range strings.Split(s, sep) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		oid, known := dnAttributes[strings.ToUpper(strings.TrimSpace(key))]
		if !ok || !known || strings.TrimSpace(value) == "" {
			return nil, fmt.Errorf("distinguished name %q: %q is not KEY=value with KEY one of C, O, OU, CN, L, ST, DC, E, ...", s, part)
		}
		rdns = append(rdns, pkix.RelativeDistinguishedNameSET{{Type: oid, Value: strings.TrimSpace(value)}})
	}
	if len(rdns) == 0 {
		return nil, fmt.Errorf("distinguished name %q is empty", s)
	}
	return asn1.Marshal(rdns)
}

// SameDN compares two DER names by their attributes, not their bytes: a
// peer may encode the same value as a PrintableString where we use a
// UTF8String.
func SameDN(a, b []byte) bool {
	var x, y pkix.RDNSequence
	if rest, err := asn1.Unmarshal(a, &x); err != nil || len(rest) != 0 {
		return false
	}
	if rest, err := asn1.Unmarshal(b, &y); err != nil || len(rest) != 0 {
		return false
	}
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if len(x[i]) != len(y[i]) {
			return false
		}
		for j := range x[i] {
			if !x[i][j].Type.Equal(y[i][j].Type) || fmt.Sprint(x[i][j].Value) != fmt.Sprint(y[i][j].Value) {
				return false
			}
		}
	}
	return true
}
