package transform

import (
	"encoding/json"
	"strings"
	"testing"
)

// A reference survives encoding and names the same row again; the zero
// reference is none, and a row this build lacks is an error.
func TestRef(t *testing.T) {
	for i := range table {
		tr := &table[i]
		r := RefOf(tr)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Ref
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		got, err := back.Transform()
		if err != nil || got == nil || RefOf(got) != r {
			t.Fatalf("row %d: %+v round-trips to %+v (%v)", i, r, got, err)
		}
	}
	if got, err := (Ref{}).Transform(); got != nil || err != nil {
		t.Errorf("zero Ref: %v, %v", got, err)
	}
	if RefOf(nil) != (Ref{}) {
		t.Error("RefOf(nil) is not the zero Ref")
	}
	if _, err := (Ref{Type: 3, ID: 60000}).Transform(); err == nil || !strings.Contains(err.Error(), "no transform type 3 ID 60000") {
		t.Errorf("unknown row: %v", err)
	}
}
