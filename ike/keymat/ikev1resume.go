package keymat

import (
	"fmt"

	"ipsecgw/transform"
)

// ResumePhase1Keys rebuilds an ISAKMP SA's keys from SKEYID_d, SKEYID_a
// and SKEYID_e exported by another node (package ikev1's export.go): all
// that phase 2, Informational exchanges and the phase 1 cipher use once
// Main Mode is done. SKEYID itself is not carried over (it keys only Main
// Mode's HASH_I and HASH_R) and stays empty. The keys are copied.
func ResumePhase1Keys(prfRow *transform.Transform, d, a, e []byte) (*Phase1Keys, error) {
	if err := checkRow(prfRow, transform.TypePRF, "PRF"); err != nil {
		return nil, err
	}
	if len(d) == 0 || len(a) == 0 || len(e) == 0 {
		return nil, fmt.Errorf("keymat: a phase 1 key is missing")
	}
	return &Phase1Keys{prf: prfRow, D: append(Key(nil), d...), A: append(Key(nil), a...), E: append(Key(nil), e...)}, nil
}
