package cli

import (
	"reflect"
	"testing"
)

func TestRekeyCommandsParse(t *testing.T) {
	for line, want := range map[string][]string{
		"request security ike security-associations rekey":                                  {"security", "ike", "security-associations", "rekey"},
		"request security ike sa rekey peer-address 192.0.2.2":                              {"security", "ike", "security-associations", "rekey", "peer-address", "192.0.2.2"},
		"request security ike security-associations rekey index 3 peer-address 2001:db8::1": {"security", "ike", "security-associations", "rekey", "peer-address", "2001:db8::1", "index", "3"},
		"request security ipsec security-associations rekey index 2":                        {"security", "ipsec", "security-associations", "rekey", "index", "2"},
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
	} {
		ws, _ := splitWords(line)
		if _, err := parseOp(ws, len(line)); err == nil {
			t.Errorf("%s: accepted", line)
		}
	}
}
