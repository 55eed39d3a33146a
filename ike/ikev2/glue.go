package ikev2

import (
	"fmt"

	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// The exchanges call the negotiation functions (select.go, selectors.go)
// through these small adapters, which turn their results into what an
// exchange keeps.

// firstGroup is the key exchange group of the first proposal: the KE
// payload of an IKE_SA_INIT request is for it (§1.2).
func firstGroup(offer []wire.Proposal) (*transform.Transform, error) {
	for _, p := range offer {
		for _, t := range p.Transforms {
			if t.Type == transform.TypeKE {
				if row, ok := t.Lookup(); ok {
					return row, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("ikev2: the IKE proposals name no key exchange group")
}

func offersGroup(offer []wire.Proposal, id transform.ID) bool {
	for _, p := range offer {
		for _, t := range p.Transforms {
			if t.Type == transform.TypeKE && t.ID == id {
				return true
			}
		}
	}
	return false
}

func checkIKE(sent []wire.Proposal, chosen *wire.SA) (keymat.IKESuite, *transform.Transform, error) {
	sel, err := CheckIKEChosen(sent, chosen.Proposals)
	if err != nil {
		return keymat.IKESuite{}, nil, err
	}
	return sel.Suite, sel.KE, nil
}

func selectIKE(offered, mine []wire.Proposal) (wire.Proposal, keymat.IKESuite, *transform.Transform, error) {
	sel, err := SelectIKE(offered, mine)
	if err != nil {
		return wire.Proposal{}, keymat.IKESuite{}, nil, err
	}
	return sel.Proposal, sel.Suite, sel.KE, nil
}
