package transform

import "fmt"

// rowKey identifies a row as a proposal does: IKEv2 carries the key length
// only for variable-length ciphers, so it is zero for every other row.
type rowKey struct {
	typ     Type
	id      ID
	keyBits int
}

type keywordKey struct {
	ctx     Context
	typ     Type
	keyword string
}

// The indexes are built once from the table and only read afterwards, so
// concurrent lookups need no lock.
var (
	byID      = map[rowKey]*Transform{}
	byKeyword = map[keywordKey]*Transform{}
	keywords  = map[keywordKey][]string{} // keyword field empty: the list for (ctx, typ)
)

func init() {
	for i := range table {
		t := &table[i]
		k := rowKey{t.Type, t.ID, 0}
		if t.KeyLengthAttribute {
			k.keyBits = t.KeyBits
		}
		if _, dup := byID[k]; dup {
			panic(fmt.Sprintf("transform: table has two rows for %s %s", t.Type, t))
		}
		byID[k] = t
		index(IKE, t, t.IKEKeyword)
		index(IPsec, t, t.IPsecKeyword)
	}
}

func index(ctx Context, t *Transform, keyword string) {
	if keyword == "" {
		return
	}
	k := keywordKey{ctx, t.Type, keyword}
	if _, dup := byKeyword[k]; dup {
		panic(fmt.Sprintf("transform: keyword %q names two %s rows in %s proposals", keyword, t.Type, ctx))
	}
	byKeyword[k] = t
	list := keywordKey{ctx: ctx, typ: t.Type}
	keywords[list] = append(keywords[list], keyword)
}

// Lookup finds the row a proposal names. keyBits is the value of the IKEv2
// Key Length attribute, and must be zero for a transform that has none
// (RFC 7296 §3.3.5: a proposal with a Key Length on a fixed-length
// transform, or without one on AES, names no row).
//
// An ADDKE type (RFC 9370) names a TypeKE row: the two share their IDs.
func Lookup(typ Type, id ID, keyBits int) (*Transform, bool) {
	if typ.IsAdditionalKE() {
		typ = TypeKE
	}
	t, ok := byID[rowKey{typ, id, keyBits}]
	return t, ok
}

// LookupKeyword finds the row a Junos configuration keyword names in a
// context. In an IKE proposal, authentication-algorithm names both a PRF and
// an integrity transform: look it up once with TypePRF and once with
// TypeINTEG.
func LookupKeyword(ctx Context, typ Type, keyword string) (*Transform, bool) {
	t, ok := byKeyword[keywordKey{ctx, typ, keyword}]
	return t, ok
}

// Keywords lists the Junos keywords valid for typ in ctx, in the order Junos
// documents them, including insecure ones (configuration must parse them to
// reject them by name). The configuration schema builds its enumerations
// from these lists:
//
//	ike proposal encryption-algorithm       Keywords(IKE, TypeENCR)
//	ike proposal authentication-algorithm   Keywords(IKE, TypePRF)
//	ike proposal dh-group                   Keywords(IKE, TypeKE)
//	ipsec proposal encryption-algorithm     Keywords(IPsec, TypeENCR)
//	ipsec proposal authentication-algorithm Keywords(IPsec, TypeINTEG)
//	ipsec policy perfect-forward-secrecy    Keywords(IPsec, TypeKE)
//
// The result is a fresh slice the caller may keep.
func Keywords(ctx Context, typ Type) []string {
	list := keywords[keywordKey{ctx: ctx, typ: typ}]
	return append([]string(nil), list...)
}

// All returns every row in table order.
func All() []*Transform {
	rows := make([]*Transform, len(table))
	for i := range table {
		rows[i] = &table[i]
	}
	return rows
}
