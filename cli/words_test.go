package cli

import (
	"reflect"
	"testing"
)

// TestUnquoted: the separators inside a double-quoted string (and a quote
// escaped in one) are not separators; what splits a line at them.
func TestUnquoted(t *testing.T) {
	for _, tc := range []struct {
		line string
		sep  byte
		at   []int
		open bool
	}{
		{`show | match x | count`, '|', []int{5, 15}, false},
		{`set description "a|b" | display set`, '|', []int{22}, false},
		{`set description "a\"|b" | x`, '|', []int{24}, false},
		{`set description "a|b`, '|', nil, true},
		{`a; b ";" ; c`, ';', []int{1, 9}, false},
	} {
		at, open := unquoted(tc.line, tc.sep)
		if !reflect.DeepEqual(at, tc.at) || open != tc.open {
			t.Errorf("unquoted(%q, %q) = %v, %v; want %v, %v", tc.line, tc.sep, at, open, tc.at, tc.open)
		}
	}
	if got := splitCommands(`show version; set x "a;b"; commit`); !reflect.DeepEqual(got, []string{"show version", ` set x "a;b"`, " commit"}) {
		t.Errorf("splitCommands: %q", got)
	}
	if !openQuote(`set description "a b`) || openQuote(`set description "a b"`) {
		t.Error("openQuote")
	}
}
