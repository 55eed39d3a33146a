package show

import (
	"bytes"
	"encoding/json"
	"strings"
)

// writeJSONReply prints root the way `| display json` does. Junos JSON maps
// XML one to one:
//
//   - every element becomes a member whose value is an array of objects,
//     one object per occurrence; same-named siblings share one array, in
//     document order (so an interleaved list, the tunnel events, becomes
//     parallel arrays aligned by index);
//   - the text of a value element is the member "data" of its object; an
//     empty element (a flag such as <iff-up/>) has "data" : [null];
//   - attributes are the member "attributes", an object of strings;
//   - no rpc-reply wrapper and no cli banner.
//
// The layout copies Junos's: four spaces a level, " : " between key and
// value, the objects of an array at the indentation of their key:
//
//	{
//	    "ike-security-associations-information" : [
//	    {
//	        "attributes" : {"junos:style" : "brief"},
//	        "ike-security-associations" : [
//	        {
//	            "ike-sa-remote-address" : [
//	            {
//	                "data" : "16.1.1.1"
//	            }
//	            ],
func writeJSONReply(b *strings.Builder, root *element) {
	b.WriteString("{\n")
	writeJSONMembers(b, &element{children: []*element{root}}, 1)
	b.WriteString("}\n")
}

// writeJSONMembers prints the members of e's object (its attributes, its
// text, its children grouped by name), one per line at depth.
func writeJSONMembers(b *strings.Builder, e *element, depth int) {
	indent := strings.Repeat(xmlIndent, depth)
	var members []string
	if len(e.attrs) > 0 {
		var attrs []string
		for _, a := range e.attrs {
			attrs = append(attrs, jsonString(a.name)+" : "+jsonString(a.value))
		}
		members = append(members, indent+`"attributes" : {`+strings.Join(attrs, ", ")+"}")
	}
	switch {
	case e.leaf:
		members = append(members, indent+`"data" : `+jsonString(e.text))
	case len(e.children) == 0 && len(e.attrs) == 0:
		// An element whose presence is its value (<iff-up/>).
		members = append(members, indent+`"data" : [null]`)
	}
	for _, group := range groupByName(e.children) {
		var s strings.Builder
		s.WriteString(indent + jsonString(group[0].name) + " : [\n")
		for i, c := range group {
			s.WriteString(indent + "{\n")
			writeJSONMembers(&s, c, depth+1)
			s.WriteString(indent + "}")
			if i < len(group)-1 {
				s.WriteString(",")
			}
			s.WriteString("\n")
		}
		s.WriteString(indent + "]")
		members = append(members, s.String())
	}
	for i, m := range members {
		b.WriteString(m)
		if i < len(members)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
}

// groupByName gathers same-named elements, in order of first appearance.
func groupByName(children []*element) [][]*element {
	var groups [][]*element
	at := map[string]int{}
	for _, c := range children {
		i, ok := at[c.name]
		if !ok {
			i = len(groups)
			at[c.name] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	return groups
}

// jsonString quotes s as a JSON string without Go's HTML escaping, so "<"
// prints as itself, as Junos prints it.
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
