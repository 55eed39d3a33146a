package schema

import (
	"fmt"

	"ipsecgw/config"
)

// VPNs that share an IKE gateway. On Junos several [security ipsec vpn]
// stanzas may name one ike gateway: one IKE SA to the peer then carries a
// Child SA (IKEv1: a Quick Mode) for each VPN, each bound to its own st0
// unit, ipsec-policy and traffic selectors. Both engines do that
// (ike/ikev2/vpns.go, ike/ikev1/vpns.go): the responder tells the VPNs
// apart by the traffic selectors (IKEv1: the proxy identities IDci and
// IDcr) the initiator proposes, so each VPN on a shared gateway needs
// traffic selectors of its own (traffic-selector or proxy-identity); a
// shared gateway's VPN without them is refused here, naming both VPNs.

// checkSharedGateway refuses what the engines cannot do of VPNs sharing
// an IKE gateway; vss are the VPN statements, vpns what they built, in the
// same order.
func (b *builder) checkSharedGateway(vss []*config.Stmt, vpns []*VPN) {
	first := map[*IKEGateway]*VPN{}
	firstStmt := map[*IKEGateway]*config.Stmt{}
	said := map[*VPN]bool{}
	for i, v := range vpns {
		if v.IKE == nil || v.IKE.Gateway == nil {
			continue
		}
		g := v.IKE.Gateway
		w, seen := first[g]
		if !seen {
			first[g], firstStmt[g] = v, vss[i]
			continue
		}
		for _, x := range []struct {
			v  *VPN
			vs *config.Stmt
		}{{w, firstStmt[g]}, {v, vss[i]}} {
			if said[x.v] || hasSelectors(x.v) {
				continue
			}
			said[x.v] = true
			b.fail(x.vs, fmt.Sprintf("VPNs %s and %s both use IKE gateway %s, and VPN %s has no traffic selectors to tell its Child SA apart",
				w.Name, v.Name, g.Name, x.v.Name),
				"a traffic-selector (or ike proxy-identity) in each VPN on a shared IKE gateway")
		}
	}
}

// hasSelectors: the VPN names its traffic (traffic-selector entries or
// an ike proxy-identity).
func hasSelectors(v *VPN) bool {
	if len(v.TrafficSelectors) > 0 {
		return true
	}
	return v.IKE != nil && (v.IKE.ProxyIdentity.Local.IsValid() || v.IKE.ProxyIdentity.Remote.IsValid())
}
