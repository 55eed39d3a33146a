package daemon

import "ipsecgw/ike"

// The operator's rekeys (ours: Junos has no such command). Each runs on the
// daemon's goroutine, like the clear commands.

// operatorRekeys is an engine that rekeys on request (IKEv2's).
type operatorRekeys interface {
	RekeyIKE(match func(ike.SAInfo) bool) int
	RekeyChildren(vpn func(string) bool) int
}

// RekeyIKE starts a rekey of the established IKE SAs that match ("request
// security ike security-associations rekey"); it returns how many. IKEv1
// SAs are not rekeyed on request.
func (d *Daemon) RekeyIKE(match func(ike.SAInfo) bool) int {
	n := 0
	d.do(func() error {
		for _, e := range d.ikeAll() {
			if r, ok := e.ikeCore.(operatorRekeys); ok {
				n += r.RekeyIKE(match)
			}
		}
		return nil
	})
	return n
}

// RekeyIPsec starts a rekey of the Child SAs of the named VPNs (all when
// vpns is nil): "request security ipsec security-associations rekey". It
// returns how many.
func (d *Daemon) RekeyIPsec(vpns []string) int {
	match := func(vpn string) bool { return vpns == nil || contains(vpns, vpn) }
	n := 0
	d.do(func() error {
		for _, e := range d.ikeAll() {
			if r, ok := e.ikeCore.(operatorRekeys); ok {
				n += r.RekeyChildren(match)
			}
		}
		return nil
	})
	return n
}
