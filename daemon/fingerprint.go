package daemon

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"ipsecgw/config/schema"
)

// fingerprint prints everything a part of the typed model says, following
// pointers, so that two parts with the same fingerprint configure the same
// thing. A commit re-applies only parts whose fingerprint changed: a VPN
// whose gateway, policies, proposals, keys or interfaces did not change
// keeps its SAs and its traffic.
//
// Interfaces and units are printed by what the VPN uses of them (name,
// addresses, MTU), not by their siblings, so adding st0.2 for a new VPN
// does not touch the VPN on st0.1.
func fingerprint(v any) string {
	var b strings.Builder
	writeFingerprint(&b, reflect.ValueOf(v))
	return b.String()
}

var stringer = reflect.TypeFor[fmt.Stringer]()

func writeFingerprint(b *strings.Builder, v reflect.Value) {
	if !v.IsValid() {
		b.WriteString("nil")
		return
	}
	switch x := v.Interface().(type) {
	case *schema.Unit:
		if x == nil {
			b.WriteString("nil")
			return
		}
		fmt.Fprintf(b, "unit(%s %v inet=%v inet6=%v mtu=%d host=%s)", x.Name(), x.Addresses, x.Inet, x.Inet6,
			x.Interface.MTU, x.Interface.HostName)
		return
	case *schema.Interface:
		if x == nil {
			b.WriteString("nil")
			return
		}
		fmt.Fprintf(b, "interface(%s host=%s mtu=%d)", x.Name, x.HostName, x.MTU)
		return
	}
	if v.Type().Implements(stringer) && (v.Kind() != reflect.Pointer || !v.IsNil()) {
		b.WriteString(v.Interface().(fmt.Stringer).String())
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		writeFingerprint(b, v.Elem())
	case reflect.Struct:
		b.WriteByte('{')
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			b.WriteString(v.Type().Field(i).Name)
			b.WriteByte(':')
			writeFingerprint(b, v.Field(i))
			b.WriteByte(' ')
		}
		b.WriteByte('}')
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := range v.Len() {
			writeFingerprint(b, v.Index(i))
			b.WriteByte(' ')
		}
		b.WriteByte(']')
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteByte('{')
		for _, k := range keys {
			fmt.Fprintf(b, "%v=", k)
			writeFingerprint(b, v.MapIndex(k))
			b.WriteByte(' ')
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", v.Interface())
	}
}
