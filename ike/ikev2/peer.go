package ikev2

import (
	"net/netip"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// newPeer makes the wire forms of a resolved peer: the IKE offer, the
// identities, the traffic selectors (nil: the route-based default, both
// families' whole space).
func newPeer(p *ike.Peer) (*peer, error) {
	if _, err := ESPOffer(p.ESPProposals, nil, 1); err != nil {
		return nil, err
	}
	ep := &peer{Peer: p, ikeOffer: IKEOffer(p.IKEProposals), localID: wireID(p.LocalID), remoteID: wireID(p.RemoteID)}
	for _, s := range p.Selectors {
		ep.policy = append(ep.policy, Selectors{Local: prefixSelectors(s.Local), Remote: prefixSelectors(s.Remote)})
	}
	if len(ep.policy) == 0 {
		all := []netip.Prefix{anyIPv4, anyIPv6}
		ep.policy = []Selectors{{Local: prefixSelectors(all), Remote: prefixSelectors(all)}}
	}
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
