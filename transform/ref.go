package transform

import "fmt"

// Ref names a row of the table by its wire identity, for state stored
// outside the process (a cluster's SA records, ike/ikev1 and ike/ikev2
// export.go): a *Transform is a pointer into this build's table, a Ref
// survives encoding and a node running another build. The zero Ref is none.
type Ref struct {
	Type    Type
	ID      ID
	KeyBits int
}

// RefOf is the reference to t; the zero Ref for nil.
func RefOf(t *Transform) Ref {
	if t == nil {
		return Ref{}
	}
	return Ref{Type: t.Type, ID: t.ID, KeyBits: t.KeyBits}
}

// Transform is the row r names; nil for the zero Ref, an error for a row
// this build does not have.
func (r Ref) Transform() (*Transform, error) {
	if r == (Ref{}) {
		return nil, nil
	}
	if t, ok := Lookup(r.Type, r.ID, r.KeyBits); ok {
		return t, nil
	}
	// A fixed-length transform is looked up without its key length.
	if t, ok := Lookup(r.Type, r.ID, 0); ok && t.KeyBits == r.KeyBits {
		return t, nil
	}
	return nil, fmt.Errorf("no transform type %d ID %d (%d bits) in this build", r.Type, r.ID, r.KeyBits)
}
