package show

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// element is one XML element of a reply. Both `| display xml` and
// `| display json` are printed from this tree, so the two can never
// disagree about names, order or values.
type element struct {
	name     string
	attrs    []attribute
	leaf     bool // a value element: text only, even when the text is empty
	text     string
	children []*element
}

type attribute struct{ name, value string }

// junosPrefix is the namespace prefix of every attribute a model carries
// (junos:style, junos:seconds, ...). The model's tags name the local part
// ("style,attr"), which is also what encoding/xml matches when it decodes a
// reply, whatever prefix the reply binds.
const junosPrefix = "junos:"

// encodeModel turns a model (a struct, or a pointer to one, whose XMLName
// field names the root element) into its element tree.
//
// The mapping is encoding/xml's, restricted to what Junos replies use:
//
//	embedded struct, no tag  its fields belong to the enclosing element
//	`xml:"name"`             a child element; structs recurse, slices repeat
//	                         the element, nil pointers are left out
//	`xml:"name,omitempty"`   left out when the value is zero
//	`xml:"name,attr"`        the attribute junos:name (left out when empty)
//	`xml:"name,interleave"`  a struct (or non-nil pointer to one) of
//	                         parallel slices, printed as one element whose
//	                         children alternate a[0], b[0], a[1], b[1], ...
//	                         (Junos's tunnel-event lists); encoding/xml
//	                         ignores the flag and decodes the children back
//	                         into the slices in order
//
// Leaf values are strings, integers and fmt.Stringers. Anything else is a
// programming error in a model type and panics; every model is exercised by
// the golden tests.
func encodeModel(model any) *element {
	v := reflect.ValueOf(model)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	f, ok := v.Type().FieldByName("XMLName")
	if !ok {
		panic(fmt.Sprintf("show: model %s has no XMLName field", v.Type()))
	}
	name, _ := parseTag(f.Tag.Get("xml"))
	return encodeStruct(name, v)
}

type tagOptions struct {
	attr, omitEmpty, interleave bool
}

func parseTag(tag string) (string, tagOptions) {
	name, rest, _ := strings.Cut(tag, ",")
	var o tagOptions
	for _, opt := range strings.Split(rest, ",") {
		switch opt {
		case "attr":
			o.attr = true
		case "omitempty":
			o.omitEmpty = true
		case "interleave":
			o.interleave = true
		}
	}
	return name, o
}

func encodeStruct(name string, v reflect.Value) *element {
	e := &element{name: name}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous || f.Name == "XMLName" {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous && f.Tag.Get("xml") == "" && fv.Kind() == reflect.Struct {
			// An embedded struct adds its elements to this one, as in encoding/xml.
			inner := encodeStruct(name, fv)
			e.attrs = append(e.attrs, inner.attrs...)
			e.children = append(e.children, inner.children...)
			continue
		}
		tag, opts := parseTag(f.Tag.Get("xml"))
		if tag == "" || tag == "-" {
			panic(fmt.Sprintf("show: %s.%s has no element name", t, f.Name))
		}
		switch {
		case opts.attr:
			if s := leafText(tag, fv); s != "" {
				e.attrs = append(e.attrs, attribute{junosPrefix + tag, s})
			}
		case opts.interleave:
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			e.children = append(e.children, encodeInterleaved(tag, fv))
		default:
			e.children = append(e.children, encodeValue(tag, fv, opts.omitEmpty)...)
		}
	}
	return e
}

func encodeValue(name string, v reflect.Value, omitEmpty bool) []*element {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return encodeValue(name, v.Elem(), false)
	case reflect.Slice:
		var out []*element
		for i := range v.Len() {
			out = append(out, encodeValue(name, v.Index(i), false)...)
		}
		return out
	case reflect.Struct:
		if !isStringer(v) {
			return []*element{encodeStruct(name, v)}
		}
	}
	if omitEmpty && v.IsZero() {
		return nil
	}
	return []*element{{name: name, leaf: true, text: leafText(name, v)}}
}

// encodeInterleaved prints a struct of parallel slices as one element whose
// children take one entry from each slice in turn.
func encodeInterleaved(name string, v reflect.Value) *element {
	e := &element{name: name}
	t := v.Type()
	longest := 0
	for i := range t.NumField() {
		longest = max(longest, v.Field(i).Len())
	}
	for row := range longest {
		for i := range t.NumField() {
			tag, _ := parseTag(t.Field(i).Tag.Get("xml"))
			if s := v.Field(i); row < s.Len() {
				e.children = append(e.children, encodeValue(tag, s.Index(row), false)...)
			}
		}
	}
	return e
}

// isStringer reports whether v prints itself. A value reached through an
// unexported embedded struct cannot be asked; it is read by kind instead.
func isStringer(v reflect.Value) bool {
	if !v.CanInterface() {
		return false
	}
	_, ok := v.Interface().(fmt.Stringer)
	return ok
}

func leafText(name string, v reflect.Value) string {
	if isStringer(v) {
		return v.Interface().(fmt.Stringer).String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	}
	panic(fmt.Sprintf("show: element %s: a %s has no text form", name, v.Type()))
}
