//go:build !(ipsecmb && linux && amd64 && cgo)

package ipsecmb

import "testing"

func TestUnavailableWithoutTag(t *testing.T) {
	if Available() {
		t.Fatal("Available in a build without the ipsecmb tag")
	}
	if a, err := NewGCM(make([]byte, 32)); err == nil || a != nil {
		t.Fatalf("NewGCM = %v, %v; want an error", a, err)
	}
}
