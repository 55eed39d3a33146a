package netconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Element is one XML element of a request, namespaces reduced to local
// names (NETCONF's base namespace and Junos's are told apart by nothing a
// request needs).
type Element struct {
	Name     string
	Attrs    map[string]string // by local name
	Text     string            // character data directly inside, trimmed
	Children []*Element
}

// Bounds of one document, on top of the framing's size bound.
const (
	maxDepth    = 64
	maxElements = 200000
)

var errNotXML = errors.New("netconf: malformed XML")

// ParseElement reads one XML document into its element tree. It refuses
// a document deeper or larger than the bounds, one with more than one
// root element, and one that does not parse.
func ParseElement(doc []byte) (*Element, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var root *Element
	var stack []*Element
	var text []*strings.Builder
	count := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errNotXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if len(stack) >= maxDepth || count > maxElements {
				return nil, fmt.Errorf("%w: document too deep or too large", errNotXML)
			}
			e := &Element{Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				if e.Attrs == nil {
					e.Attrs = map[string]string{}
				}
				e.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", errNotXML)
				}
				root = e
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			}
			stack = append(stack, e)
			text = append(text, &strings.Builder{})
		case xml.EndElement:
			e := stack[len(stack)-1]
			e.Text = strings.TrimSpace(text[len(text)-1].String())
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(stack) > 0 {
				text[len(text)-1].Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", errNotXML)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no element", errNotXML)
	}
	return root, nil
}

// Child returns the first child called name, or nil.
func (e *Element) Child(name string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Has reports whether e has a child called name.
func (e *Element) Has(name string) bool { return e.Child(name) != nil }

// ChildText is the text of the child called name ("" without one).
func (e *Element) ChildText(name string) string {
	if c := e.Child(name); c != nil {
		return c.Text
	}
	return ""
}

// Attr returns attribute name ("" without one).
func (e *Element) Attr(name string) string {
	if e == nil {
		return ""
	}
	return e.Attrs[name]
}

// escape escapes text for an XML element or a double-quoted attribute
// (newlines stay: configuration text is multi-line).
func escape(s string) string { return escaper.Replace(s) }

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
