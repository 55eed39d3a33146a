package show

import "strings"

// JunosNamespace is the junos: namespace the <rpc-reply> of `| display xml`
// declares. Junos puts its release in the URI; ipsecgw names the release
// whose layouts it follows (the iked of seed 004), so that tools which key
// on the URI (PyEZ, Ansible's junos modules) treat the reply as a modern
// Junos one.
const JunosNamespace = "http://xml.juniper.net/junos/24.4R1/junos"

// xmlIndent is the indentation of `| display xml`: four spaces a level,
// as Junos prints it.
const xmlIndent = "    "

// writeXMLReply prints root the way `| display xml` does:
//
//	<rpc-reply xmlns:junos="...">
//	    <root junos:style="...">...</root>
//	    <cli>
//	        <banner></banner>
//	    </cli>
//	</rpc-reply>
func writeXMLReply(b *strings.Builder, root *element) {
	b.WriteString(`<rpc-reply xmlns:junos="` + JunosNamespace + `">` + "\n")
	writeXMLElement(b, root, 1)
	writeXMLElement(b, &element{name: "cli", children: []*element{{name: "banner", leaf: true}}}, 1)
	b.WriteString("</rpc-reply>\n")
}

// writeXMLElement prints e at depth. A value element stays on one line,
// even when its text is empty (<banner></banner>, as Junos prints it); an
// element that is neither a value nor a container, a flag such as
// <iff-up/>, closes itself.
func writeXMLElement(b *strings.Builder, e *element, depth int) {
	indent := strings.Repeat(xmlIndent, depth)
	b.WriteString(indent + "<" + e.name)
	for _, a := range e.attrs {
		b.WriteString(" " + a.name + `="` + xmlEscaper.Replace(a.value) + `"`)
	}
	if !e.leaf && len(e.children) == 0 && len(e.attrs) == 0 {
		b.WriteString("/>\n") // a flag, whose presence is its value: <iff-up/>
		return
	}
	b.WriteString(">")
	if e.leaf || len(e.children) == 0 {
		b.WriteString(xmlEscaper.Replace(e.text) + "</" + e.name + ">\n")
		return
	}
	b.WriteString("\n")
	for _, c := range e.children {
		writeXMLElement(b, c, depth+1)
	}
	b.WriteString(indent + "</" + e.name + ">\n")
}

// xmlEscaper escapes what may not stand for itself in text or in a
// double-quoted attribute. Junos prints the IPsec direction "<" as &lt;.
var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
