package pki

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// Distinguished names as an operator writes them: "DC=example, DC=net,
// CN=gw1" (Junos's subject form for request security pki) or "CN=gw1,
// O=Example, C=US" (the identity statements), attributes in the order the
// certificate carries them, separated by commas ("\," inside a value) or,
// when the text starts with "/", by slashes.

// dnAttribute is one attribute keyword of a written name.
type dnAttribute struct {
	keyword string
	oid     asn1.ObjectIdentifier
	// ia5 attributes are IA5String in certificates (RFC 4519: DC, and
	// the PKCS #9 e-mail address).
	ia5 bool
	// label is how Junos's show commands name the attribute ("Common
	// name: gw1").
	label string
}

var dnAttributes = []dnAttribute{
	{"C", asn1.ObjectIdentifier{2, 5, 4, 6}, false, "Country"},
	{"ST", asn1.ObjectIdentifier{2, 5, 4, 8}, false, "State"},
	{"L", asn1.ObjectIdentifier{2, 5, 4, 7}, false, "Locality"},
	{"O", asn1.ObjectIdentifier{2, 5, 4, 10}, false, "Organization"},
	{"OU", asn1.ObjectIdentifier{2, 5, 4, 11}, false, "Organizational unit"},
	{"CN", asn1.ObjectIdentifier{2, 5, 4, 3}, false, "Common name"},
	{"SN", asn1.ObjectIdentifier{2, 5, 4, 4}, false, "Surname"},
	{"SERIALNUMBER", asn1.ObjectIdentifier{2, 5, 4, 5}, false, "Serial number"},
	{"STREET", asn1.ObjectIdentifier{2, 5, 4, 9}, false, "Street"},
	{"T", asn1.ObjectIdentifier{2, 5, 4, 12}, false, "Title"},
	{"GN", asn1.ObjectIdentifier{2, 5, 4, 42}, false, "Given name"},
	{"DC", asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, true, "Domain component"},
	{"UID", asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, false, "User ID"},
	{"E", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, true, "Email"},
}

func attributeByKeyword(k string) (dnAttribute, bool) {
	k = strings.ToUpper(k)
	if k == "EMAILADDRESS" {
		k = "E"
	}
	for _, a := range dnAttributes {
		if a.keyword == k {
			return a, true
		}
	}
	return dnAttribute{}, false
}

func attributeByOID(oid asn1.ObjectIdentifier) (dnAttribute, bool) {
	for _, a := range dnAttributes {
		if a.oid.Equal(oid) {
			return a, true
		}
	}
	return dnAttribute{}, false
}

// ParseDN reads a written distinguished name. Attributes with an empty
// value ("CN=") are kept with an empty value: the wildcard match uses
// them; a certificate subject refuses them (see SubjectDER).
func ParseDN(s string) (pkix.RDNSequence, error) {
	parts := splitDN(s)
	var rdns pkix.RDNSequence
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		a, known := attributeByKeyword(strings.TrimSpace(key))
		if !ok || !known {
			return nil, fmt.Errorf("distinguished name %q: %q is not KEY=value with KEY one of C, ST, L, O, OU, CN, DC, E, UID, SN, SERIALNUMBER, STREET, T, GN", s, part)
		}
		rdns = append(rdns, pkix.RelativeDistinguishedNameSET{{Type: a.oid, Value: strings.TrimSpace(value)}})
	}
	if len(rdns) == 0 {
		return nil, fmt.Errorf("distinguished name %q is empty", s)
	}
	return rdns, nil
}

// splitDN cuts at unescaped separators and removes the escapes.
func splitDN(s string) []string {
	sep := byte(',')
	if strings.HasPrefix(strings.TrimSpace(s), "/") {
		sep = '/'
	}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == sep:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}

// SubjectDER encodes a written name as the DER of a certificate's subject,
// attributes in the order written; DC and E are IA5Strings, the others
// PrintableString or UTF8String as their text allows.
func SubjectDER(s string) ([]byte, error) {
	rdns, err := ParseDN(s)
	if err != nil {
		return nil, err
	}
	for i, rdn := range rdns {
		atv := rdn[0]
		v := atv.Value.(string)
		if v == "" {
			a, _ := attributeByOID(atv.Type)
			return nil, fmt.Errorf("distinguished name %q: %s has no value", s, a.keyword)
		}
		if a, _ := attributeByOID(atv.Type); a.ia5 {
			rdns[i][0].Value = asn1.RawValue{Tag: asn1.TagIA5String, Class: asn1.ClassUniversal, Bytes: []byte(v)}
		}
	}
	return asn1.Marshal(rdns)
}

// DNString writes a DER name in the operator's form: "CN=gw1, O=Example",
// in the certificate's order (not RFC 4514's reversed order).
func DNString(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return fmt.Sprintf("(unreadable name of %d bytes)", len(der))
	}
	return rdnString(rdns, func(a dnAttribute, v string) string { return a.keyword + "=" + v }, ", ")
}

// DNLabels writes a DER name as Junos's detail views do: "Organization:
// Example, Common name: gw1".
func DNLabels(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return DNString(der)
	}
	return rdnString(rdns, func(a dnAttribute, v string) string { return a.label + ": " + v }, ", ")
}

func rdnString(rdns pkix.RDNSequence, f func(dnAttribute, string) string, sep string) string {
	var parts []string
	for _, rdn := range rdns {
		for _, atv := range rdn {
			a, ok := attributeByOID(atv.Type)
			if !ok {
				a = dnAttribute{keyword: atv.Type.String(), label: atv.Type.String()}
			}
			parts = append(parts, f(a, escapeDN(fmt.Sprint(atv.Value))))
		}
	}
	return strings.Join(parts, sep)
}

func escapeDN(v string) string { return strings.ReplaceAll(v, ",", `\,`) }

// atv is one attribute of a name, compared by type and text: a peer may
// encode a value as PrintableString where we use UTF8String.
type atv struct {
	oid   string
	value string
}

func flatten(rdns pkix.RDNSequence) []atv {
	var out []atv
	for _, rdn := range rdns {
		for _, a := range rdn {
			out = append(out, atv{a.Type.String(), fmt.Sprint(a.Value)})
		}
	}
	return out
}

func parseDER(der []byte) (pkix.RDNSequence, bool) {
	var rdns pkix.RDNSequence
	rest, err := asn1.Unmarshal(der, &rdns)
	return rdns, err == nil && len(rest) == 0
}

// MatchContainer is Junos's "distinguished-name container": every
// attribute written must appear in the peer's name with the same value,
// in the same order (other attributes may come between and around them).
func MatchContainer(pattern string, der []byte) (bool, error) {
	w, h, err := patternAndName(pattern, der)
	if err != nil || h == nil {
		return false, err
	}
	i := 0
	for _, a := range h {
		if i < len(w) && a == w[i] {
			i++
		}
	}
	return i == len(w), nil
}

// MatchWildcard is Junos's "distinguished-name wildcard": every attribute
// written must appear in the peer's name, in any order; an attribute
// written with an empty value ("CN=") matches any value of that
// attribute, which must still be present.
func MatchWildcard(pattern string, der []byte) (bool, error) {
	want, h, err := patternAndName(pattern, der)
	if err != nil || h == nil {
		return false, err
	}
	used := make([]bool, len(h))
next:
	for _, w := range want {
		for j, a := range h {
			if !used[j] && a.oid == w.oid && (w.value == "" || a.value == w.value) {
				used[j] = true
				continue next
			}
		}
		return false, nil
	}
	return true, nil
}

// patternAndName reads a written pattern and a DER name as attribute
// lists; a name that does not parse gives nil (no match), not an error.
func patternAndName(pattern string, der []byte) (want, have []atv, err error) {
	p, err := ParseDN(pattern)
	if err != nil {
		return nil, nil, err
	}
	n, ok := parseDER(der)
	if !ok {
		return nil, nil, nil
	}
	return flatten(p), flatten(n), nil
}
