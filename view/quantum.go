package view

import (
	"strings"

	"ipsecgw/ike"
	"ipsecgw/show"
)

// quantumSecured says whether an IKE SA's keys resist a quantum computer:
// they mix in a postquantum preshared key (RFC 8784) or come from an
// ML-KEM additional key exchange (RFC 9370). A classical additional key
// exchange does not count.
func quantumSecured(info ike.SAInfo) bool {
	return info.PPKUsed || quantumKE(info.AdditionalKE)
}

// quantumKE reports whether additional key exchanges include ML-KEM.
func quantumKE(addKE []string) bool {
	for _, ke := range addKE {
		if strings.Contains(ke, "ML-KEM") {
			return true
		}
	}
	return false
}

// quantumSAs says whether a tunnel's SAs are quantum secured by their own
// key exchanges, whatever their IKE SA's keys: every one of them (there
// is at least one) ran an ML-KEM additional key exchange in the
// CREATE_CHILD_SA that made it (RFC 9370).
func quantumSAs(sas []show.IPsecSA) bool {
	for _, sa := range sas {
		if !quantumKE(sa.AdditionalKE) {
			return false
		}
	}
	return len(sas) > 0
}
