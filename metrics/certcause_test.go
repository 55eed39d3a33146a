package metrics

import (
	"slices"
	"testing"

	"ipsecgw/pki"
)

// TestCertificateCauseOfEveryPKICause: each cause package pki refuses a
// certificate with has its own label among CertificateCauses; anything
// else is other.
func TestCertificateCauseOfEveryPKICause(t *testing.T) {
	seen := map[string]pki.Cause{}
	for c := pki.CauseNone + 1; c <= pki.CauseIdentityMismatch; c++ {
		l := CertificateCause(c.String())
		if l == other || !slices.Contains(CertificateCauses, l) {
			t.Errorf("%v: label %q", c, l)
		}
		if prev, dup := seen[l]; dup {
			t.Errorf("%v and %v share the label %q", prev, c, l)
		}
		seen[l] = c
	}
	for _, r := range []string{"certificate refused", "no AUTH payload", "key usage", ""} {
		if l := CertificateCause(r); l != other {
			t.Errorf("%q: label %q, want other", r, l)
		}
	}
}
