package netconf

import (
	"os"
	"strings"
	"testing"

	"ipsecgw/config"
)

// TestConfigXMLRoundTrip: every example configuration printed as Junos XML
// and read back as commands is the same configuration.
func TestConfigXMLRoundTrip(t *testing.T) {
	files := []string{"../examples/seed004/peer1.conf", "../examples/seed004/peer2.conf", "../examples/seed001/r1.conf"}
	extra := `set system login user alice class super-user
set system login user alice authentication encrypted-password "$6$saltsalt$4wxWeHqpAHNNJcQMSu6jvr3dQTQoGoqMQhPAP0o5Ygzna6vr4y0u6.EZzboAAqg6dXU4q/OfcYqdrvZixR76r0"
set system services netconf ssh
set interfaces st0 unit 1 family inet address 198.51.100.1/32
set interfaces st0 unit 1 family inet6
set security ike proposal p dh-group group14
deactivate security ike proposal p
set security ike policy pol proposals [ p q ]
`
	srcs := map[string]string{"extra": extra}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // seed 001's file names are the example's business
		}
		srcs[f] = string(b)
	}
	if len(srcs) < 3 {
		t.Fatalf("only %d configurations to test", len(srcs))
	}
	for name, src := range srcs {
		tree, err := config.Parse(name, []byte(src), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var b strings.Builder
		treeXML(tree.Root).writeXML(&b, 0)
		doc, err := ParseElement([]byte(b.String()))
		if err != nil {
			t.Fatalf("%s: the XML does not parse: %v\n%s", name, err, b.String())
		}
		cmds, rerr := configCommands(doc)
		if rerr != nil {
			t.Fatalf("%s: %s\n%s", name, rerr.Message, b.String())
		}
		back, err := config.ParseSet(name, []byte(strings.Join(cmds, "\n")+"\n"), nil)
		if err != nil {
			t.Fatalf("%s: commands from XML: %v\n%s", name, err, strings.Join(cmds, "\n"))
		}
		if want, got := config.FormatSet(tree.Root), config.FormatSet(back.Root); want != got {
			t.Errorf("%s: round trip through XML:\nwant:\n%s\ngot:\n%s\nXML:\n%s", name, want, got, b.String())
		}
	}
}

func TestConfigXMLShape(t *testing.T) {
	tree, err := config.Parse("t", []byte(`set interfaces st0 unit 1 family inet address 198.51.100.1/32
set security ike policy pol proposals [ p q ]
set system services ssh
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	treeXML(tree.Root).writeXML(&b, 0)
	for _, want := range []string{
		"<interface>\n            <name>st0</name>",
		"<family>\n                    <inet>\n                        <address>\n                            <name>198.51.100.1/32</name>",
		"<proposals>p</proposals>\n                <proposals>q</proposals>",
		"<services>\n            <ssh/>",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in\n%s", want, b.String())
		}
	}
}

func TestConfigCommandsOperations(t *testing.T) {
	doc, err := ParseElement([]byte(`<configuration>
  <system><host-name>gw</host-name></system>
  <security><ike>
    <proposal replace="replace"><name>p</name><dh-group>group14</dh-group></proposal>
    <policy operation="delete"><name>old</name></policy>
    <gateway inactive="inactive"><name>g</name><address>192.0.2.9</address></gateway>
  </ike></security>
</configuration>`))
	if err != nil {
		t.Fatal(err)
	}
	cmds, rerr := configCommands(doc)
	if rerr != nil {
		t.Fatal(rerr.Message)
	}
	want := `set system host-name gw
delete security ike proposal p
set security ike proposal p
set security ike proposal p dh-group group14
delete security ike policy old
set security ike gateway g
set security ike gateway g address 192.0.2.9
deactivate security ike gateway g`
	if got := strings.Join(cmds, "\n"); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	doc, _ = ParseElement([]byte(`<configuration><security><ike><gateway><address>x</address></gateway></ike></security></configuration>`))
	if _, rerr := configCommands(doc); rerr == nil || rerr.Path != "[edit security ike gateway]" {
		t.Errorf("an entry without <name>: %+v", rerr)
	}
}

func TestJSONConfig(t *testing.T) {
	e, err := jsonConfig(`{"configuration": {"system": {"host-name": "gw", "services": {"ssh": [null]}},
		"security": {"ike": {"proposal": [{"name": "p", "dh-group": "group14"}]}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	cmds, rerr := configCommands(e)
	if rerr != nil {
		t.Fatal(rerr.Message)
	}
	got := strings.Join(cmds, "\n")
	for _, want := range []string{"set system host-name gw", "set system services ssh", "set security ike proposal p dh-group group14"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}
