package daemon

import (
	"ipsecgw/ike"
	"ipsecgw/ike/ikev1"
)

// IKEv1 (package ike/ikev1): gateways with version v1-only and services
// ipsec-vpn IKE policies of version 1 (seed 001's Main Mode).
func init() {
	ikeVersions[1] = func(c ike.Config) ikeCore { return ikev1.NewEngine(c) }
}
