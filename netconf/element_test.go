package netconf

import (
	"strings"
	"testing"
)

func TestParseElement(t *testing.T) {
	e, err := ParseElement([]byte(`<?xml version="1.0"?>
<rpc message-id="7" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/*/junos">
  <load-configuration action="merge" format="text"><configuration-text>system {
    host-name a&amp;b;
}</configuration-text></load-configuration>
</rpc>`))
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "rpc" || e.Attr("message-id") != "7" || len(e.Attrs) != 1 {
		t.Fatalf("rpc: %+v", e)
	}
	op := e.Children[0]
	if op.Attr("action") != "merge" || op.ChildText("configuration-text") != "system {\n    host-name a&b;\n}" {
		t.Fatalf("load-configuration: %+v %q", op, op.ChildText("configuration-text"))
	}
}

func TestParseElementRefuses(t *testing.T) {
	deep := strings.Repeat("<a>", maxDepth+1) + strings.Repeat("</a>", maxDepth+1)
	wide := "<a>" + strings.Repeat("<b/>", maxElements) + "</a>"
	for _, doc := range []string{
		"", "text", "<a>", "<a></b>", "<a/><b/>", "<a/>trailing", deep, wide,
		`<!DOCTYPE a [<!ENTITY x "xx">]><a>&x;</a>`, // no entities of its own
	} {
		if _, err := ParseElement([]byte(doc)); err == nil {
			t.Errorf("%.40q parsed", doc)
		}
	}
}

// FuzzParseRPC: any document either fails to parse or gives a tree whose
// configuration converts to commands or to an rpc-error, without a panic.
func FuzzParseRPC(f *testing.F) {
	f.Add([]byte(`<rpc message-id="1"><get-configuration format="text"/></rpc>`))
	f.Add([]byte(`<rpc><edit-config><target><candidate/></target><config><configuration><system><host-name>x</host-name></system></configuration></config></edit-config></rpc>`))
	f.Add([]byte(`<configuration><interfaces><interface><name>st0</name><unit><name>1</name><family><inet><address><name>10.0.0.1/32</name></address></inet></family></unit></interface></interfaces></configuration>`))
	f.Add([]byte(`<configuration><security><ike><proposal operation="delete"><name>p</name></proposal></ike></security></configuration>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		e, err := ParseElement(doc)
		if err != nil {
			return
		}
		var walk func(*Element, int)
		walk = func(x *Element, depth int) {
			if depth > maxDepth {
				t.Fatalf("a tree deeper than %d", maxDepth)
			}
			if x.Name == "configuration" {
				configCommands(x)
			}
			for _, c := range x.Children {
				walk(c, depth+1)
			}
		}
		walk(e, 1)
	})
}
