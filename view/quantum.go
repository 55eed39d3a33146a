package view

import (
	"strings"

	"ipsecgw/ike"
)

// quantumSecured says whether an IKE SA's keys resist a quantum computer:
// they mix in a postquantum preshared key (RFC 8784) or come from an
// ML-KEM additional key exchange (RFC 9370). A classical additional key
// exchange does not count.
func quantumSecured(info ike.SAInfo) bool {
	if info.PPKUsed {
		return true
	}
	for _, ke := range info.AdditionalKE {
		if strings.Contains(ke, "ML-KEM") {
			return true
		}
	}
	return false
}
