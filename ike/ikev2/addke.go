package ikev2

import (
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// Additional key exchanges (RFC 9370): ADDKE1..ADDKE7 transforms in the SA
// proposals, each a key exchange method run after the first one, in order.
// In IKE_SA_INIT they run in IKE_INTERMEDIATE exchanges (intermediate.go),
// in CREATE_CHILD_SA in IKE_FOLLOWUP_KE exchanges.

// addKETypes are the transform types ADDKE1..ADDKE7 in order.
var addKETypes = []transform.Type{transform.TypeADDKE1, transform.TypeADDKE2, transform.TypeADDKE3,
	transform.TypeADDKE4, transform.TypeADDKE5, transform.TypeADDKE6, transform.TypeADDKE7}

// addKERows picks the ADDKE rows out of a chosen proposal's rows.
func addKERows(r [transform.TypeADDKE7 + 1]*transform.Transform) (out [7]*transform.Transform) {
	for i, t := range addKETypes {
		out[i] = r[t]
	}
	return out
}

// appendAddKE adds the ADDKE transforms of the methods configured.
func appendAddKE(ts []wire.Transform, addke [7]*transform.Transform) []wire.Transform {
	for i, t := range addke {
		if t != nil {
			ts = append(ts, wire.Transform{Type: addKETypes[i], ID: t.ID})
		}
	}
	return ts
}
