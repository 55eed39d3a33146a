package netconf

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"ipsecgw/config"
)

// The configuration as Junos XML (<configuration><security><ike>...), both
// ways. Out: a tree becomes xnodes (filtered by a subtree filter, printed
// as XML or Junos JSON). In: an XML <configuration> becomes the set,
// delete, activate and deactivate commands the API's Edit applies (one
// door: the API validates them as it validates the CLI's).
//
// The mapping follows Junos: a container or leaf is an element of its
// name; a list entry is an element of the list's name whose <name> child
// is the key, except "family", whose entries are elements named by their
// key inside one <family>; the interfaces are <interface> entries;
// leaf-list values repeat the element; a flag is an empty element; an
// inactive statement has inactive="inactive".

// xnode is one element of the configuration's XML.
type xnode struct {
	name     string
	text     string
	value    bool // a leaf: printed <name>text</name> even when empty
	many     bool // one of several siblings of this name (list entry, leaf-list value)
	inactive bool
	children []*xnode
}

// keyAsElement are the lists whose entries Junos names by their key.
var keyAsElement = map[string]bool{"family": true}

// blockList reports whether container n is one of the lists Junos prints
// as a block in text ("interfaces { st0.1; }" in a security zone,
// "system-services { ike; }") and as entries of the list's own name in
// XML (<interfaces><name>st0.1</name></interfaces>); ipsecgw's grammar
// has them as a container of named entries, as the interfaces at the top.
func blockList(n *config.Node) bool {
	if n == nil || n.Kind != config.KindContainer || n.KeyedList() == nil || n.Parent() == nil {
		return false
	}
	switch n.Parent().Name {
	case "host-inbound-traffic":
		return n.Name == "system-services" || n.Name == "protocols"
	case "security-zone", "functional-zone":
		return n.Name == "interfaces"
	}
	return false
}

// listElement is the element name of a list's entries.
func listElement(n *config.Node) string {
	if n.Name != "" {
		return n.Name
	}
	// The entries of "interfaces" are <interface>.
	return strings.TrimSuffix(n.Parent().Name, "s")
}

// treeXML is the xnode of statement s (the root: <configuration>).
func treeXML(root *config.Stmt) *xnode {
	x := &xnode{name: "configuration"}
	appendChildren(x, root)
	return x
}

func appendChildren(x *xnode, s *config.Stmt) {
	var family *xnode
	for _, c := range s.Children {
		switch {
		case c.Node.Kind == config.KindList && keyAsElement[c.Node.Name]:
			if family == nil {
				family = &xnode{name: c.Node.Name}
				x.children = append(x.children, family)
			}
			e := &xnode{name: c.Key, inactive: c.Inactive}
			appendChildren(e, c)
			family.children = append(family.children, e)
		case blockList(c.Node):
			for _, entry := range c.Children {
				e := &xnode{name: c.Node.Name, many: true, inactive: c.Inactive || entry.Inactive}
				e.children = append(e.children, &xnode{name: "name", text: entry.Key, value: true})
				appendChildren(e, entry)
				x.children = append(x.children, e)
			}
		case c.Node.Kind == config.KindList:
			e := &xnode{name: listElement(c.Node), many: true, inactive: c.Inactive}
			e.children = append(e.children, &xnode{name: "name", text: c.Key, value: true})
			appendChildren(e, c)
			x.children = append(x.children, e)
		case c.Node.Kind == config.KindLeaf:
			x.children = append(x.children, &xnode{name: c.Node.Name, text: c.Value(), value: true, inactive: c.Inactive})
		case c.Node.Kind == config.KindLeafList:
			for _, v := range c.Values {
				x.children = append(x.children, &xnode{name: c.Node.Name, text: v, value: true, many: true, inactive: c.Inactive})
			}
		default: // container, flag
			e := &xnode{name: c.Node.Name, inactive: c.Inactive}
			appendChildren(e, c)
			x.children = append(x.children, e)
		}
	}
}

// writeXML prints x at depth.
func (x *xnode) writeXML(b *strings.Builder, depth int) {
	pad := strings.Repeat("    ", depth)
	b.WriteString(pad + "<" + x.name)
	if x.inactive {
		b.WriteString(` inactive="inactive"`)
	}
	switch {
	case x.value:
		b.WriteString(">" + escape(x.text) + "</" + x.name + ">\n")
	case len(x.children) == 0:
		b.WriteString("/>\n")
	default:
		b.WriteString(">\n")
		for _, c := range x.children {
			c.writeXML(b, depth+1)
		}
		b.WriteString(pad + "</" + x.name + ">\n")
	}
}

// filter keeps what the subtree filter f (RFC 6241 §6) selects below x: a
// filter element with no children selects the whole subtree; one with
// only text (a content match, such as a list's <name>) must equal the
// data's; the others select their matching children recursively.
func (x *xnode) filter(f *Element) *xnode {
	if len(f.Children) == 0 {
		return x
	}
	out := &xnode{name: x.name, text: x.text, value: x.value, many: x.many, inactive: x.inactive}
	// Content matches first: an entry that fails one is not selected.
	var selectors []*Element
	for _, fc := range f.Children {
		if len(fc.Children) == 0 && fc.Text != "" {
			c := x.child(fc.Name)
			if c == nil || c.text != fc.Text {
				return nil
			}
			out.children = append(out.children, c)
			continue
		}
		selectors = append(selectors, fc)
	}
	if len(selectors) == 0 {
		// Only content matches: the whole matching entry.
		return x
	}
	for _, c := range x.children {
		for _, fc := range selectors {
			if fc.Name != c.name {
				continue
			}
			if k := c.filter(fc); k != nil {
				out.children = append(out.children, k)
			}
			break
		}
	}
	if len(out.children) == 0 {
		return nil
	}
	return out
}

func (x *xnode) child(name string) *xnode {
	for _, c := range x.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// json is the Junos JSON form of x's children: an object whose members
// are the child names; lists and leaf-lists are arrays, a flag [null].
func (x *xnode) jsonValue() any {
	if x.value {
		return x.text
	}
	if len(x.children) == 0 {
		return []any{nil}
	}
	obj := map[string]any{}
	for _, c := range x.children {
		v := c.jsonValue()
		if c.inactive {
			if m, ok := v.(map[string]any); ok {
				m["@"] = map[string]any{"inactive": true}
			}
		}
		if c.many {
			prev, _ := obj[c.name].([]any)
			obj[c.name] = append(prev, v)
		} else {
			obj[c.name] = v
		}
	}
	return obj
}

// JSON prints x as Junos JSON ({"configuration": {...}}).
func (x *xnode) JSON() string {
	b, _ := json.MarshalIndent(map[string]any{x.name: x.jsonValue()}, "", "    ")
	return string(b) + "\n"
}

// configCommands turns an XML <configuration> into the commands that
// apply it to the candidate, in document order: operation="delete" (or
// Junos's delete="delete") deletes, operation="replace" (replace=
// "replace") deletes and sets again, inactive="inactive" and
// active="active" deactivate and activate, everything else merges.
func configCommands(cfg *Element) ([]string, *rpcError) {
	c := &commander{}
	c.walk(cfg, config.Root, nil)
	if c.err != nil {
		return nil, c.err
	}
	return c.cmds, nil
}

type commander struct {
	cmds []string
	err  *rpcError
}

func (c *commander) add(verb string, path []string) {
	c.cmds = append(c.cmds, verb+" "+strings.Join(path, " "))
}

func (c *commander) fail(path []string, bad, msg string) {
	if c.err == nil {
		c.err = &rpcError{Type: "protocol", Tag: "unknown-element", Path: "[edit " + strings.Join(path, " ") + "]", BadElement: bad, Message: msg}
		c.err.Path = strings.Replace(c.err.Path, "[edit ]", "[edit]", 1)
	}
}

func operation(e *Element) string {
	switch {
	case e.Attr("operation") != "":
		return e.Attr("operation")
	case e.Attr("delete") == "delete":
		return "delete"
	case e.Attr("replace") == "replace":
		return "replace"
	}
	return "merge"
}

func (c *commander) walk(e *Element, n *config.Node, path []string) {
	for _, ce := range e.Children {
		if c.err != nil {
			return
		}
		cn := n.Child(ce.Name)
		if cn == nil && n.KeyedList() != nil && ce.Name == listElement(n.KeyedList()) {
			cn = n.KeyedList()
		}
		if cn == nil {
			c.fail(path, ce.Name, fmt.Sprintf("syntax error: %s is not a statement here; expected %s", ce.Name, expectedNames(n)))
			return
		}
		if blockList(cn) {
			// <interfaces><name>st0.1</name></interfaces>: an entry.
			key := ce.Child("name")
			if key == nil || key.Text == "" {
				c.fail(append(path, cn.Name), ce.Name, fmt.Sprintf("missing <name> in <%s>", ce.Name))
				return
			}
			c.entry(ce, cn.KeyedList(), append(path[:len(path):len(path)], cn.Name), key.Text)
			continue
		}
		if cn.Kind == config.KindList && keyAsElement[cn.Name] {
			// <family><inet>...</inet></family>: each child is an entry.
			for _, entry := range ce.Children {
				c.entry(entry, cn, path, entry.Name)
			}
			continue
		}
		switch cn.Kind {
		case config.KindList:
			key := ce.Child("name")
			if key == nil || key.Text == "" {
				c.fail(append(path, cn.Name), ce.Name, fmt.Sprintf("missing <name> in <%s>", ce.Name))
				return
			}
			c.entry(ce, cn, path, key.Text)
		case config.KindContainer:
			p := append(path[:len(path):len(path)], cn.Name)
			c.statement(ce, p, func() {
				if len(ce.Children) == 0 {
					c.add("set", p)
				}
				c.walk(ce, cn, p)
			})
		case config.KindFlag:
			p := append(path[:len(path):len(path)], cn.Name)
			c.statement(ce, p, func() { c.add("set", p) })
		case config.KindLeaf, config.KindLeafList:
			p := append(path[:len(path):len(path)], cn.Name)
			if operation(ce) == "delete" {
				if cn.Kind == config.KindLeafList && ce.Text != "" {
					c.add("delete", append(p, config.Quote(ce.Text)))
				} else {
					c.add("delete", p)
				}
				continue
			}
			c.statement(ce, p, func() { c.add("set", append(p[:len(p):len(p)], config.Quote(ce.Text))) })
		}
	}
}

// entry is one list entry; its <name> (when it has one) is not a child
// statement.
func (c *commander) entry(e *Element, n *config.Node, path []string, key string) {
	p := append(path[:len(path):len(path)], config.Quote(key))
	if n.Name != "" {
		p = append(path[:len(path):len(path)], n.Name, config.Quote(key))
	}
	c.statement(e, p, func() {
		c.add("set", p)
		body := &Element{Name: e.Name}
		for _, ch := range e.Children {
			if ch.Name != "name" || keyAsElement[n.Name] {
				body.Children = append(body.Children, ch)
			}
		}
		c.walk(body, n, p)
	})
}

// statement applies e's operation around set, which merges it.
func (c *commander) statement(e *Element, p []string, set func()) {
	switch operation(e) {
	case "delete", "remove":
		c.add("delete", p)
		return
	case "replace":
		c.add("delete", p)
	}
	set()
	if e.Attr("inactive") == "inactive" {
		c.add("deactivate", p)
	}
	if e.Attr("active") == "active" {
		c.add("activate", p)
	}
}

func expectedNames(n *config.Node) string {
	var names []string
	for _, c := range n.Children {
		if c.Name != "" {
			names = append(names, c.Name)
		} else {
			names = append(names, listElement(c))
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// jsonConfig turns Junos JSON ({"configuration": {...}}) into the XML
// element tree configCommands reads.
func jsonConfig(text string) (*Element, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("configuration JSON does not parse: %v", err)
	}
	root, ok := doc["configuration"]
	if !ok {
		return nil, fmt.Errorf(`configuration JSON has no "configuration" object`)
	}
	e := &Element{Name: "configuration"}
	if err := jsonChildren(e, root, 0); err != nil {
		return nil, err
	}
	return e, nil
}

func jsonChildren(e *Element, v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("configuration JSON nests too deep")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("configuration JSON: %s is not an object", e.Name)
	}
	for _, k := range sortedAnyKeys(obj) {
		if k == "@" {
			if a, ok := obj[k].(map[string]any); ok {
				for an, av := range a {
					if e.Attrs == nil {
						e.Attrs = map[string]string{}
					}
					if b, ok := av.(bool); ok && b {
						e.Attrs[an] = an
					} else {
						e.Attrs[an] = fmt.Sprint(av)
					}
				}
			}
			continue
		}
		items, isArray := obj[k].([]any)
		if !isArray {
			items = []any{obj[k]}
		}
		for _, it := range items {
			c := &Element{Name: k}
			switch x := it.(type) {
			case nil: // a flag: [null]
			case string:
				c.Text = x
			case float64, bool:
				c.Text = fmt.Sprint(x)
			default:
				if err := jsonChildren(c, x, depth+1); err != nil {
					return err
				}
			}
			e.Children = append(e.Children, c)
		}
	}
	return nil
}

// sortedAnyKeys orders an object's members: "name" first (a list entry's
// key), the rest by name (JSON objects have no order; the schema gives
// the printed one).
func sortedAnyKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "name" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if _, ok := m["name"]; ok {
		out = append([]string{"name"}, out...)
	}
	return out
}
