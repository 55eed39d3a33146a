package schema

import (
	"fmt"
	"net/netip"

	"ipsecgw/config"
)

// Gateways that share a peer address. Several IKE gateways may name one
// peer address (two uplinks, or the virtual IPs of two services redundancy
// groups active on one node, each a gateway with its own local-address):
// the IKE engines key a peer by its local and remote address, and take a
// request by the local address it came to. Two gateways of one IKE
// version from the same local address to the same peer address cannot be
// told apart by any message before IKE_AUTH, nor named by the daemon, so
// they are refused here, with both statements named. The IKEv1 engine
// keys its peers by remote address alone: two IKEv1 gateways to one peer
// address are refused whatever their local addresses.

// gatewayEnd is where a gateway's IKE runs: its version, its local end
// (local-address, else the external interface whose address it takes)
// and one of the peer's addresses.
type gatewayEnd struct {
	version int
	local   string
	remote  string
}

func (g *IKEGateway) ends() []gatewayEnd {
	local := ""
	switch {
	case g.Version == 1:
		local = "any local address"
	case g.LocalAddress.IsValid():
		local = g.LocalAddress.Unmap().String()
	case g.ExternalInterface != nil:
		local = "interface " + g.ExternalInterface.Name()
	}
	var out []gatewayEnd
	for _, a := range g.Addresses {
		if ip, err := netip.ParseAddr(a); err == nil {
			a = ip.Unmap().String()
		}
		out = append(out, gatewayEnd{g.Version, local, a})
	}
	return out
}

// checkGatewayClash refuses a gateway whose version, local end and a peer
// address are another's; gss are the gateway statements, gws what they
// built, in the same order.
func (b *builder) checkGatewayClash(gss []*config.Stmt, gws []*IKEGateway) {
	first := map[gatewayEnd]int{}
	for i, g := range gws {
		for _, end := range g.ends() {
			j, seen := first[end]
			if !seen {
				first[end] = i
				continue
			}
			if j == i {
				continue
			}
			from := end.local
			if from == "" {
				from = "the same local address"
			}
			expected := "a local-address of its own for each gateway to one peer address"
			if end.version == 1 {
				expected = "one IKEv1 gateway per peer address (IKEv2 gateways may share one when their local-address differs)"
			}
			b.fail(gss[i], fmt.Sprintf("IKE gateways %s and %s both run IKEv%d from %s to %s: a message to one could be the other's",
				gws[j].Name, g.Name, end.version, from, end.remote), expected)
			break
		}
	}
}
