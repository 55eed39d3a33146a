package daemon

import "net/netip"

// Several VPNs on one IKE gateway (IKEv2, ike/ikev2/vpns.go): the engine
// keeps one peer per gateway with one IKE SA, and a Child SA per VPN. A
// VPN configured away takes only its Child SAs with it, and a VPN brought
// up (establish-tunnels immediately, or on-traffic when its tunnel has
// traffic) gets its Child SA on the gateway's IKE SA when one is up.
// Engines without it (IKEv1) keep one VPN per gateway, which the
// configuration enforces (config/schema/vpnshare.go).

// vpnEngine is what an engine that carries several VPNs on one gateway
// adds to ikeCore.
type vpnEngine interface {
	RemoveVPNFrom(local, remote netip.Addr, vpn string)
	InitiateVPNFrom(local, remote netip.Addr, vpn string, ifIdle bool) error
}

// removeIKEVPN takes a VPN off its engine: only its Child SAs where the
// engine shares gateways, else its peer.
func removeIKEVPN(e *ikeEngine, name string, st runningVPN) {
	if ve, ok := e.ikeCore.(vpnEngine); ok {
		ve.RemoveVPNFrom(st.local, st.remote, name)
		return
	}
	e.RemovePeerFrom(st.local, st.remote)
}

// initiateIKE negotiates a peer (p.vpn set: that VPN's Child SA on its
// gateway's IKE SA, or a new IKE SA for it); ifIdle is on-traffic.
func initiateIKE(e *ikeEngine, p onTrafficPeer, ifIdle bool) error {
	if ve, ok := e.ikeCore.(vpnEngine); ok && p.vpn != "" {
		return ve.InitiateVPNFrom(p.local, p.remote, p.vpn, ifIdle)
	}
	if ifIdle {
		return e.InitiateFromIfIdle(p.local, p.remote)
	}
	return e.InitiateFrom(p.local, p.remote)
}
