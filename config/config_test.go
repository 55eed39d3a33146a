package config

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipsecgw/config/secret"
	"ipsecgw/config/syntax"
)

// seeded returns a deterministic source for $9$ salts.
func seeded() *rand.ChaCha8 { return rand.NewChaCha8([32]byte{1}) }

func mustParse(t *testing.T, src string) *Tree {
	t.Helper()
	tr, err := Parse("t.conf", []byte(src), seeded())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return tr
}

func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../examples/*/*")
	if err != nil || len(files) < 8 {
		t.Fatalf("examples: %v (%d files)", err, len(files))
	}
	return files
}

// TestExamplesRoundTrip: every shipped example prints back to itself in its
// own format, and brace → set → brace gives the same tree.
func TestExamplesRoundTrip(t *testing.T) {
	for _, f := range examples(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := Parse(f, src, seeded())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var own string
		if syntax.DetectFormat(string(src)) == syntax.FormatSet {
			own = FormatSet(tr.Root)
		} else {
			own = FormatBrace(tr.Root)
		}
		if own != string(src) {
			t.Errorf("%s does not print back to itself:\n%s", f, own)
		}
		viaSet, err := Parse(f, []byte(FormatSet(tr.Root)), seeded())
		if err != nil {
			t.Fatalf("%s: set form does not parse: %v", f, err)
		}
		if !viaSet.EqualIgnoringAnnotations(tr) {
			t.Errorf("%s: set round trip changed the tree", f)
		}
		viaBrace, err := Parse(f, []byte(FormatBrace(viaSet.Root)), seeded())
		if err != nil || !viaBrace.EqualIgnoringAnnotations(tr) {
			t.Errorf("%s: brace → set → brace changed the tree (%v)", f, err)
		}
	}
}

func TestSeed004SetAndBraceAgree(t *testing.T) {
	for _, peer := range []string{"peer1", "peer2"} {
		brace, _ := os.ReadFile("../examples/seed004/" + peer + ".conf")
		set, _ := os.ReadFile("../examples/seed004/" + peer + ".set")
		tb := mustParse(t, string(brace))
		ts := mustParse(t, string(set))
		if !tb.Equal(ts) {
			t.Errorf("%s: brace and set files hold different trees", peer)
		}
		if FormatSet(tb.Root) != string(set) {
			t.Errorf("%s: brace printed as set differs from the set file", peer)
		}
		psk := tb.Root.Lookup("security", "ike", "policy", "ike_policy", "pre-shared-key", "ascii-text")
		plain, err := secret.Decode(psk.Value())
		if err != nil || string(plain) != "test123" {
			t.Errorf("%s: pre-shared key decodes to %q, %v; want the seed's test123", peer, plain, err)
		}
	}
}

func TestMalformedConfigurations(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unclosed brace", "security {\n    ike {\n        proposal p {\n",
			"t.conf:3:20: missing '}': this '{' is never closed"},
		{"unknown statement", "security {\n    ike {\n        colour blue;\n    }\n}\n",
			"t.conf:3:9: security ike: unknown statement \"colour\"; expected one of: gateway, packet-encapsulation, policy, proposal, respond-bad-spi, traceoptions"},
		{"bad address", "security { ike { gateway g { address 16.1.1.300; } } }\n",
			"t.conf:1:38: security ike gateway g: bad value for address: \"16.1.1.300\" is neither an IP address nor a host name; expected an IP address or host name"},
		{"bad interface address", "interfaces { eth1 { unit 0 { family inet { address 1.2.3/24; } } } }\n",
			"t.conf:1:52: interfaces eth1 unit 0 family inet: bad address name: \"1.2.3/24\" is not an address/length; expected an interface address (address/length)"},
		{"out of range", "security { ike { proposal p { lifetime-seconds 100; } } }\n",
			"t.conf:1:48: security ike proposal p: bad value for lifetime-seconds: 100 is out of range; expected integer 180..86400"},
		{"not a number", "security { ipsec { vpn v { tunnel-mtu big; } } }\n",
			"t.conf:1:39: security ipsec vpn v: bad value for tunnel-mtu: \"big\" is not a whole number; expected integer 256..9192"},
		{"bad enum", "security { ike { gateway g { version v3-only; } } }\n",
			"t.conf:1:38: security ike gateway g: bad value for version: \"v3-only\" is not a valid keyword here; expected one of v1-only, v2-only"},
		{"duplicate block", "security { ike { proposal p { dh-group group14; } proposal p { dh-group group2; } } }\n",
			"t.conf:1:51: security ike proposal p: proposal p is defined twice (first at t.conf:1:18); expected each statement once"},
		{"duplicate leaf", "system {\n    host-name a;\n    host-name b;\n}\n",
			"t.conf:3:5: system host-name: host-name is defined twice (first at t.conf:2:5); expected each statement once"},
		{"bad $9$", "security { ike { policy p { pre-shared-key ascii-text \"$9$abc%\"; } } }\n",
			"t.conf:1:55: security ike policy p pre-shared-key: bad value for ascii-text: bad $9$ secret: not a valid encoding; expected a key (text, stored as $9$)"},
		{"missing value", "security { ike { gateway g { ike-policy; } } }\n",
			"t.conf:1:30: security ike gateway g: missing value for \"ike-policy\"; expected a name of 1..32 letters, digits, '-', '_', '.' or ':'"},
		{"flag with value", "security { ipsec { vpn v { copy-outer-dscp yes; } } }\n",
			"t.conf:1:44: security ipsec vpn v: unexpected \"yes\": copy-outer-dscp takes no value; expected ';'"},
		{"leaf with block", "system { host-name x { } }\n",
			"t.conf:1:10: system host-name: host-name takes no block; expected ';' after the statement"},
		{"odd hex key", "security { ike { policy p { pre-shared-key hexadecimal \"abcdef0\"; } } }\n",
			"t.conf:1:56: security ike policy p pre-shared-key: bad value for hexadecimal: hexadecimal key has an odd number of digits; expected a key in hexadecimal (stored as $9$)"},
		{"host bits in prefix", "routing-options { static { route 2.2.2.1/24 next-hop st0.1; } }\n",
			"t.conf:1:34: routing-options static: bad route name: \"2.2.2.1/24\" has host bits set; the network is 2.2.2.0/24; expected an IPv4 or IPv6 prefix (address/length)"},
		{"unterminated string", "system { host-name \"gw;\n}\n",
			"t.conf:1:20: unterminated quoted string: missing closing '\"' before end of line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.conf", []byte(tc.src), seeded())
			if err == nil {
				t.Fatal("parsed without error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
			if strings.Contains(err.Error(), "abcdef0") {
				t.Error("error message contains the secret")
			}
		})
	}
}

func TestSetFileReportsEveryError(t *testing.T) {
	src := "set system host-name gw\nset security ike proposal p lifetime-seconds 5\nset bogus\nset security ipsec vpn v df-bit maybe\n"
	_, err := Parse("s.set", []byte(src), seeded())
	list, ok := err.(ErrorList)
	if !ok || len(list) != 3 {
		t.Fatalf("errors = %v", err)
	}
	for i, line := range []int{2, 3, 4} {
		if list[i].Pos.Line != line {
			t.Errorf("error %d on line %d, want %d: %s", i, list[i].Pos.Line, line, list[i])
		}
	}
}

func TestPlainSecretIsStoredEncoded(t *testing.T) {
	tr := mustParse(t, "set security ike policy p pre-shared-key ascii-text \"my secret\"\n")
	for _, out := range []string{FormatBrace(tr.Root), FormatSet(tr.Root)} {
		if strings.Contains(out, "my secret") {
			t.Fatalf("plaintext secret printed:\n%s", out)
		}
	}
	v := tr.Root.Lookup("security", "ike", "policy", "p", "pre-shared-key", "ascii-text").Value()
	plain, err := secret.Decode(v)
	if err != nil || string(plain) != "my secret" {
		t.Fatalf("stored %q decodes to %q, %v", v, plain, err)
	}
	want := "security {\n    ike {\n        policy p {\n            pre-shared-key ascii-text \"" + v + "\"; ## SECRET-DATA\n        }\n    }\n}\n"
	if got := FormatBrace(tr.Root); got != want {
		t.Fatalf("brace:\n%s\nwant:\n%s", got, want)
	}
}

func TestEdits(t *testing.T) {
	tr := New()
	e := &Editor{Tree: tr, Rand: seeded()}
	for _, line := range []string{
		"set security ike gateway g dead-peer-detection optimized",
		"set security ike gateway g dead-peer-detection always-send", // choice: replaces optimized
		"set security ike gateway g address 192.0.2.1",
		"set security ike gateway g address 192.0.2.2", // leaf-list: appends
		"set security ike gateway g version v1-only",
		"set security ike gateway g version v2-only", // leaf: replaces
		"set security ike gateway g ike-policy p",    // schema order puts it first
		"delete security ike gateway g address 192.0.2.1",
		"deactivate security ike gateway g dead-peer-detection",
	} {
		if err := e.LoadSet(tr.Root, "cli", []byte(line)); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	want := `security {
    ike {
        gateway g {
            ike-policy p;
            address 192.0.2.2;
            inactive: dead-peer-detection {
                always-send;
            }
            version v2-only;
        }
    }
}
`
	if got := FormatBrace(tr.Root); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	wantSet := `set security ike gateway g ike-policy p
set security ike gateway g address 192.0.2.2
set security ike gateway g dead-peer-detection always-send
deactivate security ike gateway g dead-peer-detection
set security ike gateway g version v2-only
`
	if got := FormatSet(tr.Root); got != wantSet {
		t.Fatalf("set form:\n%s\nwant:\n%s", got, wantSet)
	}
	back := mustParse(t, wantSet)
	if !back.Equal(tr) {
		t.Fatal("set form does not parse back to the same tree")
	}
	if err := e.LoadSet(tr.Root, "cli", []byte("delete security ike gateway nope")); err == nil ||
		!strings.Contains(err.Error(), "statement not found: security ike gateway nope") {
		t.Fatalf("deleting a missing statement: %v", err)
	}
}

func TestCompare(t *testing.T) {
	old := mustParse(t, `system { host-name a; }
interfaces { eth0 { unit 0 { family inet { address 192.0.2.1/24; } } } }
security { ipsec { vpn v { df-bit clear; copy-outer-dscp; } } }
`)
	new := mustParse(t, `system { host-name b; }
interfaces { eth0 { unit 0 { family inet { address 192.0.2.1/24; } } } eth1 { unit 0 { family inet6; } } }
security { ipsec { vpn v { df-bit clear; } } }
`)
	want := `[edit system]
-   host-name a;
+   host-name b;
[edit security ipsec vpn v]
-   copy-outer-dscp;
[edit interfaces]
+   eth1 {
+       unit 0 {
+           family inet6;
+       }
+   }
`
	if got := Compare(old, new); got != want {
		t.Fatalf("compare:\n%s\nwant:\n%s", got, want)
	}
	if got := Compare(old, old.Clone()); got != "" {
		t.Fatalf("compare of equal trees = %q", got)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"abc": "abc", "IKE Proposal": `"IKE Proposal"`, "": `""`, `a"b`: `"a\"b"`,
		"2001:db8::/32": "2001:db8::/32", "a;b": `"a;b"`, "/*": `"/*"`, `\`: `"\\"`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// FuzzParse: any input either fails with an error or parses into a tree
// that prints and parses back to the same tree in both formats.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"../examples/seed004/peer1.conf", "../examples/seed004/peer1.set", "../examples/seed001/r2.conf"} {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("system { host-name \"a b\"; }"))
	f.Add([]byte("set security ike gateway g address [ 192.0.2.1 h.example ]\ndeactivate security ike gateway g"))
	if b, err := os.ReadFile("testdata/cloud/srx.set"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("set interfaces st0.1 family inet address 169.254.10.2/30\nset interfaces ge-0/0/0.0 family inet\ndelete interfaces st0.1 family inet"))
	f.Add([]byte("set security ipsec vpn-monitor-options interval 10 threshold 5\nset security ipsec vpn V traffic-selector T local-ip 10.0.0.0/8 remote-ip 10.1.0.0/16"))
	f.Add([]byte("set security policies from-zone a to-zone b policy p match source-address any destination-address any application any\nset security policies from-zone a to-zone b policy p then permit"))
	f.Add([]byte("security { policies { from-zone a to-zone b { policy p { then { deny; } } } } }"))
	f.Fuzz(func(t *testing.T, src []byte) {
		tr, err := Parse("f", src, seeded())
		if err != nil {
			return
		}
		brace, err := Parse("f", []byte(FormatBrace(tr.Root)), seeded())
		if err != nil {
			t.Fatalf("printed brace form does not parse: %v\n%s", err, FormatBrace(tr.Root))
		}
		if !brace.Equal(tr) {
			t.Fatalf("brace round trip changed the tree:\n%s", FormatBrace(tr.Root))
		}
		set, err := Parse("f", []byte(FormatSet(tr.Root)), seeded())
		if err != nil {
			t.Fatalf("printed set form does not parse: %v\n%s", err, FormatSet(tr.Root))
		}
		if !set.EqualIgnoringAnnotations(tr) {
			t.Fatalf("set round trip changed the tree:\n%s", FormatSet(tr.Root))
		}
	})
}
