package config

import (
	"os"
	"strings"
	"testing"

	"ipsecgw/config/syntax"
)

// TestCloudSRXConfiguration: a cloud provider's "Juniper SRX" configuration
// (set commands with the IF.UNIT shorthand and several leaves per command)
// parses, prints canonically in both formats as the golden files hold, and
// each printed form parses back to the same tree.
// IPSECGW_UPDATE_GOLDEN=1 rewrites the golden files.
func TestCloudSRXConfiguration(t *testing.T) {
	src, err := os.ReadFile("testdata/cloud/srx.set")
	if err != nil {
		t.Fatal(err)
	}
	tr := mustParse(t, string(src))
	for _, want := range [][]string{
		{"interfaces", "st0", "unit", "1", "family", "inet", "address", "169.254.44.234/30"},
		{"interfaces", "st0", "unit", "2", "family", "inet", "mtu"},
		{"security", "ike", "gateway", "gw-vpn-0a1b2c3d-1", "dead-peer-detection", "threshold"},
		{"security", "ipsec", "vpn-monitor-options", "threshold"},
		{"security", "flow", "tcp-mss", "ipsec-vpn", "mss"},
		{"security", "policies", "from-zone", "trust", "to-zone", "trust", "policy", "default-permit", "match", "application"},
	} {
		if tr.Root.Lookup(want...) == nil {
			t.Errorf("missing %s", strings.Join(want, " "))
		}
	}
	if v := tr.Root.Lookup("security", "ipsec", "vpn-monitor-options", "threshold").Value(); v != "3" {
		t.Errorf("vpn-monitor-options threshold = %q", v)
	}
	if m := tr.Root.Lookup("security", "policies", "from-zone", "trust", "to-zone", "trust", "policy", "default-permit", "match", "source-address"); len(m.Values) != 1 || m.Values[0] != "any" {
		t.Errorf("source-address took %q: the next statements are not its values", m.Values)
	}
	for _, g := range []struct{ file, got string }{
		{"testdata/cloud/srx.conf", FormatBrace(tr.Root)},
		{"testdata/cloud/srx.display-set", FormatSet(tr.Root)},
	} {
		if os.Getenv("IPSECGW_UPDATE_GOLDEN") != "" {
			if err := os.WriteFile(g.file, []byte(g.got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(g.file)
		if err != nil {
			t.Fatal(err)
		}
		if g.got != string(want) {
			t.Errorf("%s differs:\n%s", g.file, g.got)
		}
		back := mustParse(t, g.got)
		if !back.EqualIgnoringAnnotations(tr) {
			t.Errorf("%s does not parse back to the same tree", g.file)
		}
	}
	// The canonical set form has one leaf per line and no shorthand.
	for _, l := range strings.Split(FormatSet(tr.Root), "\n") {
		if strings.Contains(l, "st0.1 family") || strings.Contains(l, "interval 10 threshold") {
			t.Errorf("not canonical: %s", l)
		}
	}
}

func TestUnitShorthand(t *testing.T) {
	short := mustParse(t, "set interfaces st0.1 family inet address 169.254.10.2/30\nset interfaces ge-0/0/0.0 family inet\nset interfaces st0.01 description x\n")
	long := mustParse(t, "set interfaces st0 unit 1 family inet address 169.254.10.2/30\nset interfaces ge-0/0/0 unit 0 family inet\nset interfaces st0 unit 1 description x\n")
	if !short.Equal(long) {
		t.Fatalf("IF.UNIT is not IF unit UNIT:\n%s", FormatSet(short.Root))
	}
	// delete and deactivate take the shorthand too.
	e := &Editor{Tree: short, Rand: seeded()}
	cmds, err := syntax.ParseSet("t", "deactivate interfaces ge-0/0/0.0\ndelete interfaces st0.1 family inet\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		if err := e.Command(short.Root, c); err != nil {
			t.Fatal(err)
		}
	}
	if !short.Root.Lookup("interfaces", "ge-0/0/0", "unit", "0").Inactive || short.Root.Lookup("interfaces", "st0", "unit", "1", "family", "inet") != nil {
		t.Fatalf("delete/deactivate with IF.UNIT:\n%s", FormatSet(short.Root))
	}
	// A name with a dot elsewhere is no shorthand: zone interfaces are IFLs.
	z := mustParse(t, "set security zones security-zone trust interfaces st0.1\n")
	if z.Root.Lookup("security", "zones", "security-zone", "trust", "interfaces", "st0.1") == nil || z.Root.Lookup("interfaces") != nil {
		t.Fatalf("zone interface:\n%s", FormatSet(z.Root))
	}
}

// TestSetFormErrors: errors in the new forms point at the offending word,
// name the statement path, and say what was expected. The brace format
// keeps Junos' stricter rules.
func TestSetFormErrors(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{"set security ipsec vpn-monitor-options interval 10 thresold 5",
			`t.conf:1:52: security ipsec vpn-monitor-options: unexpected "thresold" after the value of interval; expected the end of the command, or another statement of this level: interval, threshold`},
		{"set security ipsec vpn-monitor-options interval 10 threshold 0",
			`t.conf:1:62: security ipsec vpn-monitor-options: bad value for threshold: 0 is out of range; expected integer 1..65535`},
		{"set security ipsec vpn-monitor-options interval 1 threshold 5",
			`t.conf:1:49: security ipsec vpn-monitor-options: bad value for interval: 1 is out of range; expected integer 2..3600`},
		{"set security ipsec vpn V traffic-selector T local-ip 10.0.0.0/8 remote-ip",
			`t.conf:1:65: security ipsec vpn V traffic-selector T: missing value for "remote-ip"; expected an IPv4 or IPv6 prefix (address/length)`},
		{"set security ipsec vpn V vpn-monitor optimized 192.0.2.1",
			`t.conf:1:48: security ipsec vpn V vpn-monitor: unexpected "192.0.2.1": optimized takes no value; expected the end of the command, or another statement of this level: destination-ip, optimized, source-interface`},
		{"set interfaces st0.99999 family inet",
			`t.conf:1:16: interfaces: bad unit in "st0.99999": 99999 is out of range; expected integer 0..16385`},
		{"interfaces { st0.1 { family inet; } }",
			`t.conf:1:14: interfaces: "st0.1" is an interface and a unit: the IF.UNIT shorthand is for set commands; expected st0 { unit 1 { ... } }`},
		{"security { ipsec { vpn-monitor-options { interval 10 threshold 5; } } }",
			`t.conf:1:54: security ipsec vpn-monitor-options: unexpected "threshold" after the value of interval; expected ';'`},
	} {
		_, err := Parse("t.conf", []byte(tc.src), seeded())
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

func TestSeveralLeavesInOneCommand(t *testing.T) {
	a := mustParse(t, "set security ipsec vpn V traffic-selector T local-ip 10.1.0.0/16 remote-ip 10.2.0.0/16\n"+
		"set security ipsec vpn V vpn-monitor optimized source-interface st0.1 destination-ip 169.254.0.1\n"+
		"set security ike gateway G dead-peer-detection interval 10 threshold 3\n")
	b := mustParse(t, "set security ipsec vpn V traffic-selector T local-ip 10.1.0.0/16\nset security ipsec vpn V traffic-selector T remote-ip 10.2.0.0/16\n"+
		"set security ipsec vpn V vpn-monitor optimized\nset security ipsec vpn V vpn-monitor source-interface st0.1\nset security ipsec vpn V vpn-monitor destination-ip 169.254.0.1\n"+
		"set security ike gateway G dead-peer-detection interval 10\nset security ike gateway G dead-peer-detection threshold 3\n")
	if !a.Equal(b) {
		t.Fatalf("several leaves per command:\n%s", FormatSet(a.Root))
	}
}
