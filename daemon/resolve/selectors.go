package resolve

import (
	"fmt"
	"net/netip"

	"ipsecgw/config/schema"
	"ipsecgw/ike"
)

// Whole address spaces.
var (
	anyIPv4 = netip.MustParsePrefix("0.0.0.0/0")
	anyIPv6 = netip.MustParsePrefix("::/0")
)

// Selectors returns the Child SAs an IKEv2 VPN asks for, each with its
// traffic:
//
//   - each traffic-selector entry is one Child SA for its local-ip ↔
//     remote-ip pair (Junos negotiates one SA per traffic selector);
//   - else a proxy-identity is one Child SA for local ↔ remote, a side left
//     unset being the whole space of the other side's family;
//   - else, the route-based default: one Child SA for 0.0.0.0/0 ↔
//     0.0.0.0/0 and ::/0 ↔ ::/0, all protocols and ports (reference §2.7
//     gives 0.0.0.0/0 ↔ 0.0.0.0/0; the IPv6 pair lets an st0 unit carry
//     both families, whatever family the tunnel endpoints use).
//
// Only the service any is implemented: a named service is an error. A
// policy-based VPN (no bind-interface) takes its proxy-id from the security
// policy, which the model does not carry; it gets the default too.
func Selectors(v *schema.VPN) ([]ike.Selectors, error) {
	if v.IKE == nil {
		return nil, fmt.Errorf("ikev2: VPN %s has no ike stanza, so no traffic selectors to negotiate", v.Name)
	}
	if len(v.TrafficSelectors) > 0 {
		out := make([]ike.Selectors, 0, len(v.TrafficSelectors))
		for _, ts := range v.TrafficSelectors {
			s, err := pairSelectors(ts, "traffic-selector "+ts.Name)
			if err != nil {
				return nil, fmt.Errorf("ikev2: VPN %s: %w", v.Name, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	pid := v.IKE.ProxyIdentity
	if pid.Local.IsValid() || pid.Remote.IsValid() {
		s, err := pairSelectors(pid, "proxy-identity")
		if err != nil {
			return nil, fmt.Errorf("ikev2: VPN %s: %w", v.Name, err)
		}
		return []ike.Selectors{s}, nil
	}
	return []ike.Selectors{{
		Local:  []netip.Prefix{anyIPv4, anyIPv6},
		Remote: []netip.Prefix{anyIPv4, anyIPv6},
	}}, nil
}

func pairSelectors(ts schema.TrafficSelector, what string) (ike.Selectors, error) {
	if ts.Service != "" && ts.Service != "any" {
		return ike.Selectors{}, fmt.Errorf("%s: service %s is not implemented, want any", what, ts.Service)
	}
	local, remote := ts.Local, ts.Remote
	switch {
	case !local.IsValid() && !remote.IsValid():
		return ike.Selectors{}, fmt.Errorf("%s has neither a local nor a remote prefix", what)
	case !local.IsValid():
		local = wholeSpace(remote.Addr())
	case !remote.IsValid():
		remote = wholeSpace(local.Addr())
	}
	if local.Addr().Is4() != remote.Addr().Is4() {
		return ike.Selectors{}, fmt.Errorf("%s mixes %s and %s, want one address family", what, local, remote)
	}
	return ike.Selectors{Local: []netip.Prefix{local}, Remote: []netip.Prefix{remote}}, nil
}

func wholeSpace(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return anyIPv4
	}
	return anyIPv6
}
