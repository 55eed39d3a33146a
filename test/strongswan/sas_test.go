package strongswan

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseSAs(t *testing.T) {
	out, err := os.ReadFile("testdata/list-sas-pretty.txt")
	if err != nil {
		t.Fatal(err)
	}
	sas, err := parseSAs(string(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []IKESA{{
		Name: "gw", UniqueID: 1, Version: 2, State: "ESTABLISHED", Initiator: true,
		LocalHost: "192.0.2.1", LocalPort: 4500, LocalID: "192.0.2.1",
		RemoteHost: "192.0.2.2", RemotePort: 4500, RemoteID: "192.0.2.2",
		InitiatorSPI: 0xcc0a124145497406, ResponderSPI: 0xbaf4245ac409bf8e, NATAny: true,
		EncrAlg: "AES_CBC", EncrKeySize: 256, IntegAlg: "HMAC_SHA2_256_128",
		PRFAlg: "PRF_HMAC_SHA2_256", DHGroup: "MODP_2048",
		Children: []ChildSA{{
			Name: "net", UniqueID: 1, ReqID: 1, State: "INSTALLED", Mode: "TUNNEL",
			Protocol: "ESP", Encap: true, SPIIn: 0x46838d86, SPIOut: 0xeec1d39b,
			EncrAlg: "AES_GCM_16", EncrKeySize: 256,
			BytesIn: 336, PacketsIn: 4, BytesOut: 336, PacketsOut: 4,
			LocalTS:  []string{"198.51.100.0/24", "2001:db8:a::/64"},
			RemoteTS: []string{"203.0.113.0/24"},
		}},
	}, {
		Name: "road", UniqueID: 2, Version: 1, State: "CONNECTING", Initiator: true,
		LocalHost: "192.0.2.1", LocalPort: 500, LocalID: "C=CH, O=Test, CN=gw-a = x",
		RemoteHost: "192.0.2.3", RemotePort: 500, RemoteID: "%any",
		InitiatorSPI: 0x0102030405060708,
	}}
	if !reflect.DeepEqual(sas, want) {
		t.Errorf("parseSAs:\n got %+v\nwant %+v", sas, want)
	}
	ike, ch, ok := FindChild(sas, "net")
	if !ok || ike.Name != "gw" || ch.SPIOut != 0xeec1d39b {
		t.Errorf("FindChild(net) = %v, %+v, %v", ike.Name, ch, ok)
	}
	if _, _, ok := FindChild(sas, "nope"); ok {
		t.Error("FindChild found a child that does not exist")
	}
}

func TestParseSAsEmpty(t *testing.T) {
	sas, err := parseSAs("list-sas reply {\n}\n")
	if err != nil || len(sas) != 0 {
		t.Errorf("no SAs: got %v, %v", sas, err)
	}
}

// Every cut inside the output's nesting must fail, never yield a partial SA.
func TestParsePrettyEveryUnbalancedPrefixFails(t *testing.T) {
	out, err := os.ReadFile("testdata/list-sas-pretty.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(out), "\n")
	depth := 0
	for i, l := range lines {
		prefix := strings.Join(lines[:i], "")
		if _, err := parsePretty(prefix); (err == nil) != (depth == 0) {
			t.Errorf("prefix of %d lines (depth %d): err = %v", i, depth, err)
		}
		switch l = strings.TrimSpace(l); {
		case strings.HasSuffix(l, "{"), strings.HasSuffix(l, "["):
			depth++
		case l == "}", l == "]":
			depth--
		}
	}
}

func TestParsePrettyRejects(t *testing.T) {
	for _, in := range []string{
		"}\n",
		"key = value\n",
		"a {\n  b {\n}\n",
		"a {\n  list = [\n    x\n}\n",
		"a {\n  just words\n}\n",
		"a {\n  initiator-spi = zz\n}\n",
		"a {\n  child-sas {\n    net-1 {\n      packets-in = -1\n    }\n  }\n}\n",
	} {
		root, err := parsePretty(in)
		if err == nil {
			_, err = root.subs[0].ikeSA()
		}
		if err == nil {
			t.Errorf("parsed %q without error", in)
		}
	}
}
