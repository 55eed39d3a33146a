package daemon

import "ipsecgw/ike"

// timeLifetimes fills each SA's rekey and removal moments from the
// engines' schedules (ike.ChildLifetimes): the show commands count them
// down. An SA no engine schedules keeps zeros, which the show commands
// tell apart from a lifetime: they do not guess one.
func timeLifetimes(sas []SAStatus, engines []*ikeEngine) {
	at := map[childKEKey]ike.ChildLifetime{} // named as childke.go names an SA
	for _, e := range engines {
		for _, c := range e.ChildLifetimes() {
			at[childKEKey{c.VPN, true, c.InboundSPI}] = c.ChildLifetime
			at[childKEKey{c.VPN, false, c.OutboundSPI}] = c.ChildLifetime
		}
	}
	for i := range sas {
		s := &sas[i]
		if t, ok := at[childKEKey{s.VPN, s.Direction == "inbound", parseStatusSPI(s.SPI)}]; ok {
			s.RekeyAt, s.ExpiresAt = t.RekeyAt, t.ExpireAt
		}
	}
}
