package daemon

import (
	"fmt"
	"net/netip"

	"ipsecgw/config/schema"
)

// A services IKE term is an IKE peer of its own (serviceVPN's gateway,
// from the service set's local gateway), beside the [security ike
// gateway]s the VPNs use. The daemon hands an IKE message to the engine of
// its version (ikesock.VersionOf), and each engine finds the peer by what
// it keys peers by:
//   - IKEv2 by the local and the remote address (ike/ikev2/peers.go): a
//     term and another gateway to one peer address are told apart when
//     they run from different local addresses;
//   - IKEv1 by the remote address alone (ike/ikev1/engine.go, its peers
//     map): a term and another IKEv1 gateway to one peer address cannot
//     be told apart, whatever their local addresses.
// So a term is refused when another IKE user of its version has one of
// its peer addresses (the remote gateway, or the backup one, which the
// engine keys the peer by too) and, for IKEv2, runs from the same local
// address; config/schema's gatewayclash.go refuses the same between two
// [security ike gateway]s. A gateway no VPN uses is no peer of an engine,
// and clashes with nothing.

// ikeUser is one IKE peer an engine will hold: a gateway a VPN uses, or a
// services term.
type ikeUser struct {
	name    string // "IKE gateway g", "service set s rule r term t"
	version int
	local   netip.Addr // where its IKE runs from (gatewayLocal); invalid when it cannot run
	remotes []netip.Addr
}

func newIKEUser(name string, g *schema.IKEGateway) ikeUser {
	u := ikeUser{name: name, version: g.Version}
	if l, err := gatewayLocal(g); err == nil {
		u.local = l.Unmap()
	}
	for _, a := range g.Addresses {
		if ip, err := netip.ParseAddr(a); err == nil {
			u.remotes = append(u.remotes, ip.Unmap())
		}
	}
	return u
}

// clash is the first peer address the engine of u's version could not
// tell u and o apart by, if any.
func (u ikeUser) clash(o ikeUser) (netip.Addr, bool) {
	if u.version != o.version {
		return netip.Addr{}, false
	}
	if u.version != 1 && (!u.local.IsValid() || u.local != o.local) {
		return netip.Addr{}, false
	}
	for _, a := range u.remotes {
		for _, b := range o.remotes {
			if a == b {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// gatewayUsers are the IKE gateways cfg's VPNs use, each once, in
// configuration order.
func gatewayUsers(cfg *schema.Config) []ikeUser {
	used := map[*schema.IKEGateway]bool{}
	for _, v := range cfg.IPsec.VPNs {
		if v.IKE != nil && v.IKE.Gateway != nil {
			used[v.IKE.Gateway] = true
		}
	}
	var out []ikeUser
	for _, g := range cfg.IKE.Gateways {
		if used[g] {
			out = append(out, newIKEUser("IKE gateway "+g.Name, g))
		}
	}
	return out
}

// checkServiceIKE refuses a services IKE term (where) that an engine
// could not tell from one of users; it returns users with the term added.
func checkServiceIKE(users []ikeUser, where string, st ServiceTunnel) ([]ikeUser, error) {
	u := newIKEUser(where, st.VPN.IKE.Gateway)
	for _, o := range users {
		a, ok := u.clash(o)
		if !ok {
			continue
		}
		if u.version == 1 {
			return nil, fmt.Errorf("%s: remote gateway %s is also used by %s: the IKEv1 engine runs one peer per remote address",
				where, a, o.name)
		}
		return nil, fmt.Errorf("%s: remote gateway %s is also used by %s, both IKEv2 from %s: a message to one could be the other's; give each a local address of its own",
			where, a, o.name, u.local)
	}
	return append(users, u), nil
}
