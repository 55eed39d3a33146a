package daemon

import (
	"net/netip"

	"ipsecgw/config/schema"
)

// Several VPNs on one IKE gateway (ike/ikev2/vpns.go, ike/ikev1/vpns.go):
// the engine keeps one peer per gateway with one IKE SA, and a Child SA
// (IKEv1: a Quick Mode pair) per VPN. A VPN configured away takes only
// its Child SAs with it, and a VPN brought up (establish-tunnels
// immediately, or on-traffic when its tunnel has traffic) gets its Child
// SA on the gateway's IKE SA when one is up.

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

// vpnClearer is an engine that clears one VPN's Child SAs on a shared
// gateway.
type vpnClearer interface{ ClearVPN(vpn string) int }

// clearSharedVPNs clears the Child SAs of the named VPNs whose gateway
// other VPNs share (of vpnsOf, the configured VPNs), where the engine can,
// and takes those gateways out of the IKE SAs to clear: the IKE SA and
// the other VPNs' Child SAs stay, as on Junos. It returns how many Child
// SAs it cleared; nil vpns (clear all) leaves everything to the IKE clear.
func (d *Daemon) clearSharedVPNs(vpns []string, vpnsOf []*schema.VPN, gateways map[string]bool) int {
	if vpns == nil {
		return 0
	}
	users := map[*schema.IKEGateway]int{}
	for _, v := range vpnsOf {
		if v.IKE != nil && v.IKE.Gateway != nil {
			users[v.IKE.Gateway]++
		}
	}
	var names []string
	for _, v := range vpnsOf {
		if v.IKE == nil || v.IKE.Gateway == nil || users[v.IKE.Gateway] < 2 || !contains(vpns, v.Name) {
			continue
		}
		if e := d.ikeEngine(v.IKE.Gateway.Version); e != nil {
			if _, ok := e.ikeCore.(vpnClearer); ok {
				delete(gateways, v.IKE.Gateway.Name)
				names = append(names, v.Name)
			}
		}
	}
	n := 0
	d.do(func() error {
		for _, name := range names {
			for _, e := range d.ikeAll() {
				if c, ok := e.ikeCore.(vpnClearer); ok {
					n += c.ClearVPN(name)
				}
			}
		}
		return nil
	})
	return n
}
