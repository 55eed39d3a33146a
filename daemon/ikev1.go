package daemon

import (
	"net/netip"

	"ipsecgw/config/schema"
	"ipsecgw/ike/ikev1"
	"ipsecgw/ike/ikev2"
)

// IKEv1 (package ike/ikev1) behind the daemon's ikeEngine: gateways with
// version v1-only and services ipsec-vpn IKE policies of version 1 (seed
// 001's Main Mode).
func init() {
	ikeVersions[1] = func(c ikev2.Config) ikeEngine {
		return ikev1Engine{ikev1.NewEngine(ikev1.Config{Logger: c.Logger, Transport: c.Transport, Installer: c.Installer,
			Clock: c.Clock, Rand: c.Rand, Events: c.Events})}
	}
}

// ikev1Engine is *ikev1.Engine with the peer built from the Junos model.
type ikev1Engine struct{ *ikev1.Engine }

func (e ikev1Engine) AddVPN(v *schema.VPN, local netip.Addr) (netip.Addr, error) {
	p, err := ikev1.PeerFromConfig(v, local)
	if err != nil {
		return netip.Addr{}, err
	}
	e.AddPeer(p)
	return p.Remote, nil
}
