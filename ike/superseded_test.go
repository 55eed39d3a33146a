package ike

import "testing"

// TestSuperseded: a marked Child SA is reported replaced once, when it
// goes; another, or nil, never is.
func TestSuperseded(t *testing.T) {
	var s Superseded
	old, other := &ChildSA{InboundSPI: 1}, &ChildSA{InboundSPI: 2}
	s.Mark(nil)
	s.Mark(old)
	if s.Forget(other) {
		t.Fatal("a Child SA never marked was reported replaced")
	}
	if !s.Forget(old) {
		t.Fatal("the marked Child SA was not reported replaced")
	}
	if s.Forget(old) || len(s) != 0 {
		t.Fatalf("the marked Child SA was not forgotten: %d left", len(s))
	}
}
