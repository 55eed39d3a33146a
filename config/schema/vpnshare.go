package schema

import (
	"fmt"

	"ipsecgw/config"
)

// VPNs that share an IKE gateway. On Junos several [security ipsec vpn]
// stanzas may name one ike gateway: one IKE SA to the peer then carries a
// Child SA (IKEv1: a Quick Mode) for each VPN, each bound to its own st0
// unit, ipsec-policy and traffic selectors. ipsecgw runs one IKE peer per
// VPN, and the IKE engines hold one peer per gateway, so the second VPN
// would replace the first without a word. Until one IKE SA can carry the
// Child SAs of several VPNs, a second VPN on a gateway is refused here,
// at its ike gateway statement, naming both VPNs.

// checkSharedGateway refuses an IKE VPN whose gateway an earlier VPN
// already uses; vss are the VPN statements, vpns what they built, in the
// same order.
func (b *builder) checkSharedGateway(vss []*config.Stmt, vpns []*VPN) {
	first := map[*IKEGateway]*VPN{}
	for i, v := range vpns {
		if v.IKE == nil || v.IKE.Gateway == nil {
			continue
		}
		g := v.IKE.Gateway
		w, seen := first[g]
		if !seen {
			first[g] = v
			continue
		}
		gs := child(child(vss[i], "ike"), "gateway")
		if gs == nil {
			gs = vss[i]
		}
		b.fail(gs, fmt.Sprintf("VPNs %s and %s both use IKE gateway %s: one IKE SA carrying the Child SAs of several VPNs is not supported yet (IKEv1 or IKEv2)",
			w.Name, v.Name, g.Name),
			"one VPN per IKE gateway (several traffic-selector entries in one VPN make several Child SAs on one IKE SA)")
	}
}
