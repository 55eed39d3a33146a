package netconf

import (
	"strings"
	"testing"

	"ipsecgw/config"
)

// TestZonesXML: a security zone's interfaces and host-inbound-traffic
// lists are, in XML, entries of the list's own name with a <name>
// (<interfaces><name>st0.1</name></interfaces>), as Junos writes them,
// both ways; the top-level interfaces stay <interfaces><interface>.
func TestZonesXML(t *testing.T) {
	src := `set interfaces st0 unit 1 family inet
set security zones security-zone trust host-inbound-traffic system-services all
set security zones security-zone trust host-inbound-traffic system-services ftp except
set security zones security-zone trust host-inbound-traffic protocols bgp
set security zones security-zone trust interfaces st0.1
set security zones security-zone untrust interfaces gw-p1.0 host-inbound-traffic system-services ike
set security zones functional-zone management interfaces gw-m.0
`
	tree, err := config.Parse("t", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	treeXML(tree.Root).writeXML(&b, 0)
	x := b.String()
	for _, want := range []string{
		"<interfaces>\n        <interface>\n            <name>st0</name>",
		"<system-services>\n                        <name>all</name>\n                    </system-services>",
		"<system-services>\n                        <name>ftp</name>\n                        <except/>\n                    </system-services>",
		"<protocols>\n                        <name>bgp</name>\n                    </protocols>",
		"<interfaces>\n                    <name>st0.1</name>\n                </interfaces>",
		"<interfaces>\n                    <name>gw-p1.0</name>\n                    <host-inbound-traffic>\n                        <system-services>\n                            <name>ike</name>",
		"<interfaces>\n                    <name>gw-m.0</name>",
	} {
		if !strings.Contains(x, want) {
			t.Errorf("missing %q in\n%s", want, x)
		}
	}
	doc, err := ParseElement([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	cmds, rerr := configCommands(doc)
	if rerr != nil {
		t.Fatal(rerr.Message)
	}
	back, err := config.ParseSet("t", []byte(strings.Join(cmds, "\n")+"\n"), nil)
	if err != nil {
		t.Fatalf("commands from XML: %v\n%s", err, strings.Join(cmds, "\n"))
	}
	if got, want := config.FormatSet(back.Root), config.FormatSet(tree.Root); got != want {
		t.Errorf("round trip through XML:\ngot:\n%s\nwant:\n%s", got, want)
	}
	// A deletion and an entry without its name, as a client sends them.
	doc, _ = ParseElement([]byte(`<configuration><security><zones><security-zone><name>trust</name>
<interfaces operation="delete"><name>st0.1</name></interfaces>
<host-inbound-traffic><system-services><name>ping</name></system-services></host-inbound-traffic>
</security-zone></zones></security></configuration>`))
	cmds, rerr = configCommands(doc)
	if rerr != nil || !strings.Contains(strings.Join(cmds, "\n"), "delete security zones security-zone trust interfaces st0.1\n") ||
		!strings.Contains(strings.Join(cmds, "\n"), "set security zones security-zone trust host-inbound-traffic system-services ping") {
		t.Errorf("commands: %v %v", cmds, rerr)
	}
	doc, _ = ParseElement([]byte(`<configuration><security><zones><security-zone><name>trust</name><interfaces/></security-zone></zones></security></configuration>`))
	if _, rerr := configCommands(doc); rerr == nil || rerr.Path != "[edit security zones security-zone trust interfaces]" {
		t.Errorf("an interface without <name>: %+v", rerr)
	}
}
