package ikev2

import (
	"net/netip"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// newPeer makes the wire forms of a resolved peer: the IKE offer, the
// identities, and its VPN with the traffic selectors (vpns.go).
func newPeer(p *ike.Peer) (*peer, error) {
	if _, err := ESPOffer(p.ESPProposals, nil, 1); err != nil {
		return nil, err
	}
	ep := &peer{Peer: p, ikeOffer: IKEOffer(p.IKEProposals), localID: wireID(p.LocalID), remoteID: wireID(p.RemoteID)}
	ep.vpns = []*vpn{newVPN(p)} // vpns.go
	return ep, nil
}

// wireID is an identity's ID payload body (both versions number the
// types alike).
func wireID(id ike.Identity) wire.Identification {
	return wire.Identification{Type: wire.IDType(id.Type), Data: id.Data}
}

func prefixSelectors(ps []netip.Prefix) []wire.TrafficSelector {
	out := make([]wire.TrafficSelector, len(ps))
	for i, p := range ps {
		out[i] = PrefixSelector(p)
	}
	return out
}
