package daemon

import (
	"ipsecgw/config/schema"
	"ipsecgw/ike"
)

// The operator's clear commands. Each runs on the daemon's goroutine, like
// a commit, so it never interleaves with a configuration change.

// ClearIKE deletes the IKE SAs that match, with their Child SAs ("clear
// security ike security-associations"); tunnels kept up are negotiated
// again. It returns how many it cleared.
func (d *Daemon) ClearIKE(match func(ike.SAInfo) bool) int {
	n := 0
	d.do(func() error {
		for _, ike := range d.ikeAll() {
			n += ike.Clear(match)
		}
		return nil
	})
	return n
}

// ClearIPsec clears the IPsec SAs of the named VPNs, services tunnels
// included (all when vpns is nil).
// A Child SA lives and dies with its IKE SA here: the IKE SAs of those
// VPNs' gateways are deleted and, for tunnels kept up, negotiated again;
// on a gateway several VPNs share, only the named VPNs' Child SAs go
// (vpnshare.go); manual SAs cannot be cleared (Junos keeps them too).
func (d *Daemon) ClearIPsec(vpns []string) int {
	gateways := map[string]bool{}
	vpnsOf := append([]*schema.VPN(nil), d.Config().IPsec.VPNs...)
	for _, st := range *d.services.Load() {
		vpnsOf = append(vpnsOf, st.VPN)
	}
	for _, v := range vpnsOf {
		if v.IKE != nil && v.IKE.Gateway != nil && (vpns == nil || contains(vpns, v.Name)) {
			gateways[v.IKE.Gateway.Name] = true
		}
	}
	shared := d.clearSharedVPNs(vpns, vpnsOf, gateways) // vpnshare.go
	return shared + d.ClearIKE(func(i ike.SAInfo) bool { return gateways[i.Gateway] })
}

// ClearStatistics zeroes the ESP counters: of the named VPN's SAs, or of
// every SA and the global ones when vpn is "".
func (d *Daemon) ClearStatistics(vpn string) int {
	n := 0
	d.do(func() error {
		if vpn == "" {
			d.engine.Stats.Reset()
		}
		for _, sa := range d.engine.InboundSAs() {
			if vpn == "" || sa.VPN == vpn {
				sa.Counters.Reset()
				n++
			}
		}
		for _, sa := range d.engine.OutboundSAs() {
			if vpn == "" || sa.VPN == vpn {
				sa.Counters.Reset()
				n++
			}
		}
		return nil
	})
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
