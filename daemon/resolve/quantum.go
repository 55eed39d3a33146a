package resolve

import (
	"fmt"

	"ipsecgw/config/schema"
	"ipsecgw/ike"
)

// ppk resolves a gateway's ppk-profile into the key the IKEv2 engine mixes
// in (RFC 8784); nil without one. Errors never contain the key.
func ppk(g *schema.IKEGateway) (*ike.PPK, error) {
	if g.PPK == nil {
		return nil, nil
	}
	prof := g.PPK.Profile
	key, err := prof.Key.Bytes()
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("ikev2: gateway %s: key profile %s has no usable key", g.Name, prof.Name)
	}
	return &ike.PPK{Profile: prof.Name, ID: append([]byte(nil), prof.KeyID...), Key: key, Mandatory: g.PPK.Mandatory}, nil
}
