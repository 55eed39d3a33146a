package ikev2

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// Selection order. RFC 7296 §2.7 lets the responder accept any proposal it
// likes. ipsecgw follows Junos (reference §3.4): the responder walks its
// own proposals in configured order, and for each looks through the
// initiator's proposals in their order; the first pair that fits wins.
// Within a proposal each type takes the first of the local transforms the
// peer also offered. Local order first means the operator's priority list
// decides, whoever initiates, so both ends of a Junos-to-ipsecgw tunnel
// settle on the same suite, and a peer cannot steer the gateway to a
// weaker suite it allows by listing that one first.
//
// The choice that results is not yet a commitment to the key exchange:
// in IKE_SA_INIT the initiator's KE payload must be of the chosen group,
// else the state machine answers INVALID_KE_PAYLOAD naming it (§1.2).

// IKESelection is the IKE SA suite both sides agreed on.
type IKESelection struct {
	// Proposal is the SA payload's one proposal as the response carries
	// it: the initiator's proposal number, exactly one transform of each
	// type the proposal had, and this gateway's SPI (from the local
	// proposal: empty in IKE_SA_INIT, the new IKE SA's 8 bytes in a
	// rekey). On the initiator, it is the responder's choice as received.
	Proposal wire.Proposal
	// Local indexes the local proposal list that matched, which is the
	// Junos proposal list IKEOffer was given.
	Local int
	Suite keymat.IKESuite
	KE    *transform.Transform
	// PeerSPI is the peer's SPI from its proposal: empty in IKE_SA_INIT,
	// the peer's new IKE SA SPI in a rekey.
	PeerSPI []byte
	// AddKE are the additional key exchanges ADDKE1..ADDKE7 (RFC 9370),
	// nil where none or NONE was chosen (addke.go).
	AddKE [7]*transform.Transform
}

// ESPSelection is the Child SA suite both sides agreed on.
type ESPSelection struct {
	// Proposal is as in IKESelection; its SPI is this gateway's inbound
	// SPI for the responder, the responder's for the initiator.
	Proposal wire.Proposal
	// Local indexes the local proposal list, that is the Junos IPsec
	// proposal list ESPOffer was given.
	Local int
	Suite keymat.ChildSuite
	// KE is the PFS group of a CREATE_CHILD_SA, nil without PFS.
	KE *transform.Transform
	// ESN says whether the SA uses 64-bit extended sequence numbers.
	ESN bool
	// PeerSPI is the peer's inbound SPI: the SPI of ESP packets this
	// gateway sends.
	PeerSPI uint32
	// AddKE are the additional key exchanges of a CREATE_CHILD_SA (RFC
	// 9370), as in IKESelection.
	AddKE [7]*transform.Transform
}

// negotiation is what one protocol negotiates (RFC 7296 §3.3.3): the
// transform types, ENCR first because it decides whether INTEG is wanted.
type negotiation struct {
	protocol wire.ProtocolID
	types    []transform.Type
	// ignoreKE drops KE transforms from both sides: the Child SA of
	// IKE_AUTH has no key exchange (§1.2).
	ignoreKE bool
}

var (
	ikeNegotiation = negotiation{protocol: wire.ProtocolIKE,
		types: append([]transform.Type{transform.TypeENCR, transform.TypePRF, transform.TypeINTEG, transform.TypeKE}, addKETypes...)}
	espNegotiation = negotiation{protocol: wire.ProtocolESP,
		types: append([]transform.Type{transform.TypeENCR, transform.TypeINTEG, transform.TypeKE, transform.TypeESN}, addKETypes...)}
)

func (r negotiation) allows(t transform.Type) bool {
	for _, x := range r.types {
		if x == t {
			return true
		}
	}
	return false
}

func childNegotiation(exchange wire.ExchangeType) (negotiation, error) {
	r := espNegotiation
	switch exchange {
	case wire.IKE_AUTH:
		r.ignoreKE = true
	case wire.CREATE_CHILD_SA:
	default:
		return r, fmt.Errorf("ikev2: Child SAs are negotiated in IKE_AUTH or CREATE_CHILD_SA, not %v", exchange)
	}
	return r, nil
}

// SelectIKE is the responder's choice among the initiator's IKE proposals
// (IKE_SA_INIT, or CREATE_CHILD_SA rekeying the IKE SA). mine is IKEOffer's
// list, with this gateway's new SPI set on each proposal when rekeying.
// Insecure transforms and transforms the table does not know are never
// chosen; a proposal with a transform type IKE does not negotiate is
// skipped whole (§3.3.6). With no match the error is a *ProposalError
// listing both sides.
func SelectIKE(offered, mine []wire.Proposal) (*IKESelection, error) {
	chosen, local, peer, err := selectProposal(offered, mine, ikeNegotiation)
	if err != nil {
		return nil, err
	}
	return ikeSelection(chosen, local, bytes.Clone(peer.SPI))
}

// SelectESP is the responder's choice among the initiator's Child SA
// proposals in exchange (IKE_AUTH or CREATE_CHILD_SA). mine is ESPOffer's
// list, carrying this gateway's inbound SPI. In IKE_AUTH, KE transforms on
// either side are ignored (§1.2); in CREATE_CHILD_SA a local KE (PFS) must
// be matched, and a peer's KE without a local one is accepted only as
// NONE. Otherwise as SelectIKE.
func SelectESP(offered, mine []wire.Proposal, exchange wire.ExchangeType) (*ESPSelection, error) {
	r, err := childNegotiation(exchange)
	if err != nil {
		return nil, err
	}
	chosen, local, peer, err := selectProposal(offered, mine, r)
	if err != nil {
		return nil, err
	}
	return espSelection(chosen, local, binary.BigEndian.Uint32(peer.SPI))
}

// CheckIKEChosen is the initiator's check of the responder's SA payload:
// exactly one proposal, numbered as one that was sent, of the same
// protocol and SPI size, with exactly one transform of each type that
// proposal had, each one that was offered. Anything else fails the IKE SA
// with a *ProposalError saying what was wrong.
func CheckIKEChosen(sent, chosen []wire.Proposal) (*IKESelection, error) {
	c, local, err := checkChosen(sent, chosen, ikeNegotiation)
	if err != nil {
		return nil, err
	}
	return ikeSelection(c, local, bytes.Clone(c.SPI))
}

// CheckESPChosen is CheckIKEChosen for a Child SA negotiated in exchange.
// In IKE_AUTH the answer may carry no KE transform but NONE.
func CheckESPChosen(sent, chosen []wire.Proposal, exchange wire.ExchangeType) (*ESPSelection, error) {
	r, err := childNegotiation(exchange)
	if err != nil {
		return nil, err
	}
	c, local, err := checkChosen(sent, chosen, r)
	if err != nil {
		return nil, err
	}
	return espSelection(c, local, binary.BigEndian.Uint32(c.SPI))
}

// selectProposal finds the first local proposal, in local order, that one
// of the offered proposals can satisfy, and builds the answer.
func selectProposal(offered, mine []wire.Proposal, r negotiation) (wire.Proposal, int, *wire.Proposal, error) {
	for li := range mine {
		for oi := range offered {
			ts, ok := chooseFrom(&offered[oi], &mine[li], r)
			if !ok {
				continue
			}
			p := wire.Proposal{Number: offered[oi].Number, Protocol: offered[oi].Protocol,
				SPI: bytes.Clone(mine[li].SPI), Transforms: ts}
			return p, li, &offered[oi], nil
		}
	}
	return wire.Proposal{}, -1, nil, newProposalError(r.protocol, "", offered, mine)
}

// transformsByType holds a proposal's transforms grouped by type;
// groupTransforms fills it, ok false when one has a type the protocol does
// not negotiate.
type transformsByType [transform.TypeADDKE7 + 1][]wire.Transform

func groupTransforms(p *wire.Proposal, r negotiation) (g transformsByType, ok bool) {
	for _, t := range p.Transforms {
		if !r.allows(t.Type) {
			return g, false
		}
		g[t.Type] = append(g[t.Type], t)
	}
	if r.ignoreKE {
		g[transform.TypeKE] = nil
		for _, t := range addKETypes {
			g[t] = nil
		}
	}
	return g, true
}

// chooseFrom returns the answer to off from the transforms of mine, one per
// type, or false when mine cannot be satisfied by off.
func chooseFrom(off, mine *wire.Proposal, r negotiation) ([]wire.Transform, bool) {
	if off.Protocol != r.protocol || mine.Protocol != r.protocol || len(off.SPI) != len(mine.SPI) || !validProposalSPI(off) {
		return nil, false
	}
	o, ok := groupTransforms(off, r)
	if !ok {
		return nil, false // §3.3.6: an unknown transform type voids the proposal
	}
	m, ok := groupTransforms(mine, r)
	if !ok {
		return nil, false
	}
	for _, encr := range m[transform.TypeENCR] {
		row, ok := usableRow(encr)
		if !ok || !hasTransform(o[transform.TypeENCR], encr) {
			continue
		}
		if ts, ok := completeSuite(encr, row, &o, &m, r); ok {
			return ts, true
		}
	}
	return nil, false
}

// completeSuite picks the other types' transforms to go with encr.
func completeSuite(encr wire.Transform, encrRow *transform.Transform, o, m *transformsByType, r negotiation) ([]wire.Transform, bool) {
	out := []wire.Transform{encr}
	for _, typ := range r.types[1:] {
		var t wire.Transform
		var present, ok bool
		switch {
		case typ == transform.TypeINTEG && encrRow.IsAEAD():
			t, present, ok = noneOrAbsent(o[typ])
		case typ == transform.TypeKE && r.protocol == wire.ProtocolESP && len(m[typ]) == 0:
			t, present, ok = noneOrAbsent(o[typ]) // no PFS here
		case typ.IsAdditionalKE() && len(m[typ]) == 0:
			t, present, ok = noneOrAbsent(o[typ]) // addke.go: not wanted here
		default:
			t, ok = firstCommon(m[typ], o[typ])
			present = ok
		}
		if !ok {
			return nil, false
		}
		if present {
			out = append(out, t)
		}
	}
	return out, true
}

// firstCommon is the first of mine that off also has and that is usable.
func firstCommon(mine, off []wire.Transform) (wire.Transform, bool) {
	for _, t := range mine {
		if _, ok := usableRow(t); ok && hasTransform(off, t) {
			return t, true
		}
	}
	return wire.Transform{}, false
}

// noneOrAbsent handles a type this side does not want: acceptable when the
// peer offered none of it (nothing to echo) or offered NONE among them
// (echo NONE, since the answer has one transform of each type offered).
func noneOrAbsent(off []wire.Transform) (t wire.Transform, present, ok bool) {
	if len(off) == 0 {
		return t, false, true
	}
	for _, t := range off {
		if isNoneTransform(t) {
			return t, true, true
		}
	}
	return t, false, false
}

// isNoneTransform reports the NONE transform of INTEG or KE (ID 0): "this
// type is not wanted". ESN's ID 0 is a real choice and has a row.
func isNoneTransform(t wire.Transform) bool {
	return (t.Type == transform.TypeINTEG || t.Type == transform.TypeKE || t.Type.IsAdditionalKE()) &&
		t.ID == 0 && t.KeyLength == 0 && len(t.Attributes) == 0
}

// usableRow is the table row of t, unless there is none (unknown transform,
// Key Length where none belongs, unknown attributes) or it is insecure.
func usableRow(t wire.Transform) (*transform.Transform, bool) {
	row, ok := t.Lookup()
	if !ok || row.Insecure {
		return nil, false
	}
	return row, true
}

func sameTransform(a, b wire.Transform) bool {
	return a.Type == b.Type && a.ID == b.ID && a.KeyLength == b.KeyLength &&
		len(a.Attributes) == 0 && len(b.Attributes) == 0
}

func hasTransform(list []wire.Transform, t wire.Transform) bool {
	for _, x := range list {
		if sameTransform(x, t) {
			return true
		}
	}
	return false
}

// validProposalSPI refuses an ESP SPI that is not 4 bytes, or is zero,
// which RFC 4303 §2.1 reserves.
func validProposalSPI(p *wire.Proposal) bool {
	return p.Protocol != wire.ProtocolESP || len(p.SPI) == 4 && binary.BigEndian.Uint32(p.SPI) != 0
}

// checkChosen validates the responder's answer against what was sent and
// returns it with the index of the sent proposal it answers.
func checkChosen(sent, chosen []wire.Proposal, r negotiation) (wire.Proposal, int, error) {
	fail := func(format string, args ...any) (wire.Proposal, int, error) {
		return wire.Proposal{}, -1, newProposalError(r.protocol, "responder's choice: "+fmt.Sprintf(format, args...), chosen, sent)
	}
	if len(chosen) != 1 {
		return fail("%d proposals, want exactly one", len(chosen))
	}
	c := chosen[0]
	local := -1
	for i := range sent {
		if sent[i].Number == c.Number {
			local = i
			break
		}
	}
	if local < 0 {
		return fail("proposal number %d was not offered", c.Number)
	}
	s := &sent[local]
	switch {
	case c.Protocol != s.Protocol || c.Protocol != r.protocol:
		return fail("protocol %v, proposal %d offered %v", c.Protocol, c.Number, s.Protocol)
	case len(c.SPI) != len(s.SPI):
		return fail("SPI of %d bytes, want %d", len(c.SPI), len(s.SPI))
	case !validProposalSPI(&c):
		return fail("ESP SPI 0, which is reserved")
	}
	offered, ok := groupTransforms(s, r)
	if !ok {
		return fail("local proposal %d has a transform %v does not negotiate", s.Number, r.protocol)
	}
	var count [transform.TypeADDKE7 + 1]int
	for _, t := range c.Transforms {
		if !r.allows(t.Type) {
			return fail("transform type %v, which %v does not negotiate", t.Type, r.protocol)
		}
		if r.ignoreKE && t.Type.IsKeyExchange() {
			if isNoneTransform(t) {
				continue
			}
			return fail("KE %s in IKE_AUTH, which has no key exchange", describeTransform(t))
		}
		if !hasTransform(offered[t.Type], t) && !(isNoneTransform(t) && hasNoneTransform(offered[t.Type])) {
			if _, known := t.Lookup(); !known {
				return fail("unknown transform %v %s", t.Type, describeTransform(t))
			}
			return fail("%v %s was not offered in proposal %d", t.Type, describeTransform(t), c.Number)
		}
		if row, ok := t.Lookup(); ok && row.Insecure {
			return fail("%v %s is insecure", t.Type, describeTransform(t))
		}
		if count[t.Type]++; count[t.Type] > 1 {
			return fail("%d %v transforms, want exactly one", count[t.Type], t.Type)
		}
	}
	for _, typ := range r.types {
		if len(offered[typ]) > 0 && count[typ] == 0 {
			return fail("no %v transform, want one of those offered", typ)
		}
	}
	// The answer may alias a received message; the selection outlives it.
	c.SPI = bytes.Clone(c.SPI)
	c.Transforms = append([]wire.Transform(nil), c.Transforms...)
	return c, local, nil
}

func hasNoneTransform(list []wire.Transform) bool {
	for _, t := range list {
		if isNoneTransform(t) {
			return true
		}
	}
	return false
}

// chosenRows maps the answer's transforms to table rows; NONE and absent types
// stay nil.
func chosenRows(p wire.Proposal) (out [transform.TypeADDKE7 + 1]*transform.Transform) {
	for _, t := range p.Transforms {
		if row, ok := t.Lookup(); ok && int(t.Type) < len(out) {
			out[t.Type] = row
		}
	}
	return out
}

func ikeSelection(p wire.Proposal, local int, peerSPI []byte) (*IKESelection, error) {
	r := chosenRows(p)
	s := &IKESelection{Proposal: p, Local: local, PeerSPI: peerSPI, KE: r[transform.TypeKE],
		Suite: keymat.IKESuite{Encryption: r[transform.TypeENCR], PRF: r[transform.TypePRF], Integrity: r[transform.TypeINTEG]}}
	s.AddKE = addKERows(r) // addke.go
	if err := checkSuite(wire.ProtocolIKE, p, s.Suite.Encryption, s.Suite.Integrity); err != nil {
		return nil, err
	}
	if s.Suite.PRF == nil || s.KE == nil {
		return nil, newProposalError(wire.ProtocolIKE, "the suite lacks a PRF or a KE", []wire.Proposal{p}, nil)
	}
	return s, nil
}

func espSelection(p wire.Proposal, local int, peerSPI uint32) (*ESPSelection, error) {
	r := chosenRows(p)
	s := &ESPSelection{Proposal: p, Local: local, PeerSPI: peerSPI, KE: r[transform.TypeKE],
		Suite: keymat.ChildSuite{Encryption: r[transform.TypeENCR], Integrity: r[transform.TypeINTEG]}}
	s.AddKE = addKERows(r) // addke.go
	if err := checkSuite(wire.ProtocolESP, p, s.Suite.Encryption, s.Suite.Integrity); err != nil {
		return nil, err
	}
	esn := r[transform.TypeESN]
	if esn == nil {
		return nil, newProposalError(wire.ProtocolESP, "the suite lacks an ESN transform", []wire.Proposal{p}, nil)
	}
	s.ESN = esn.ID == transform.ESN
	return s, nil
}

// checkSuite is the last gate before keys are derived: a cipher, and an
// integrity transform exactly when the cipher is not an AEAD (§3.3). The
// selection and the check already ensure it; this keeps a mismatched
// sent list from turning into a suite keymat would refuse later.
func checkSuite(protocol wire.ProtocolID, p wire.Proposal, encr, integ *transform.Transform) error {
	switch {
	case encr == nil:
		return newProposalError(protocol, "the suite lacks an ENCR transform", []wire.Proposal{p}, nil)
	case encr.IsAEAD() && integ != nil:
		return newProposalError(protocol, fmt.Sprintf("%s is an AEAD, yet %s was chosen with it", encr, integ), []wire.Proposal{p}, nil)
	case !encr.IsAEAD() && integ == nil:
		return newProposalError(protocol, fmt.Sprintf("%s needs an integrity transform, none was chosen", encr), []wire.Proposal{p}, nil)
	}
	return nil
}
