package ikev2

import (
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike/wire"
)

// The tests write their peers and proposals in the Junos model; these
// resolve them as the daemon does (daemon/plan) and make the wire forms.

func ikeOfferOf(props []*schema.IKEProposal) ([]wire.Proposal, error) {
	rows, err := resolve.IKEv2Proposals(props)
	if err != nil {
		return nil, err
	}
	return IKEOffer(rows), nil
}

func espOfferOf(props []*schema.IPsecProposal, pfs string, spi uint32) ([]wire.Proposal, error) {
	rows, err := resolve.IKEv2ESPProposals(props)
	if err != nil {
		return nil, err
	}
	g, err := resolve.PFSGroup(pfs)
	if err != nil {
		return nil, err
	}
	return ESPOffer(rows, g, spi)
}

func vpnSelectorsOf(v *schema.VPN) ([]Selectors, error) {
	sels, err := resolve.Selectors(v)
	if err != nil {
		return nil, err
	}
	var out []Selectors
	for _, s := range sels {
		out = append(out, Selectors{Local: prefixSelectors(s.Local), Remote: prefixSelectors(s.Remote)})
	}
	return out, nil
}
