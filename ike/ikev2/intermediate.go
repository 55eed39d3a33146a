package ikev2

import (
	"encoding/binary"
	"errors"
	"fmt"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// IKE_INTERMEDIATE (RFC 9242) carrying the additional key exchanges that
// IKE_SA_INIT negotiated (RFC 9370 §2.2.1): one exchange per ADDKE method,
// in ADDKE order, after IKE_SA_INIT and before IKE_AUTH.
//
//	HDR, SK {KEi(n)}  -->
//	                  <--  HDR, SK {KEr(n)}
//
// Each exchange is protected with the keys in effect; once it is done both
// sides derive new ones from SK_d and the new shared secret:
//
//	SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr)
//	{SK_d(n) | SK_ai(n) | ... | SK_pr(n)} = prf+ (SKEYSEED(n), Ni | Nr | SPIi | SPIr)
//
// with the nonces of IKE_SA_INIT. AUTH then covers the intermediate
// messages (RFC 9242 §3.3.2): each side chains a MAC of the messages it
// sent,
//
//	IntAuth_i(n) = prf(SK_pi(n-1), IntAuth_i(n-1) | IntAuth_i(n)_A | IntAuth_i(n)_P)
//
// (IntAuth_r alike with SK_pr), A being the IKE header and the Encrypted
// payload's header with their lengths as if the message were not
// encrypted, P the inner payloads in clear, and both AUTH payloads sign
// IntAuth_i | IntAuth_r | the IKE_AUTH request's Message ID after the
// usual octets.

// intermediate is the handshake's IKE_INTERMEDIATE state.
type intermediate struct {
	// supported: both sides sent INTERMEDIATE_EXCHANGE_SUPPORTED.
	supported bool
	// methods are the additional key exchanges negotiated, in order
	// (NONE left out); names says them for show ("ke1 ML-KEM-768").
	methods []*transform.Transform
	names   []string
	// done counts the additional key exchanges completed, exchanges the
	// IKE_INTERMEDIATE exchanges; kex is the initiator's key exchange of
	// the one in flight.
	done, exchanges int
	kex             transform.KeyExchange
	// intI and intR are IntAuth_i and IntAuth_r so far.
	intI, intR []byte
}

// intermediateNotify adds INTERMEDIATE_EXCHANGE_SUPPORTED to the
// initiator's IKE_SA_INIT request when it offers additional key exchanges.
func (sa *ikeSA) intermediateNotify(ps []wire.Payload) []wire.Payload {
	if !offersAddKE(sa.peer.ikeOffer) {
		return ps
	}
	return append(ps, &wire.Notify{Type: wire.INTERMEDIATE_EXCHANGE_SUPPORTED})
}

// intermediateAnswer is the responder's side in IKE_SA_INIT: it echoes
// INTERMEDIATE_EXCHANGE_SUPPORTED and notes the additional key exchanges
// of the chosen proposal. It runs in computeInit, on the SA nobody else
// touches yet.
func (sa *ikeSA) intermediateAnswer(req, resp []wire.Payload, chosen wire.Proposal) ([]wire.Payload, error) {
	_, peerSupports := wire.FindNotify(req, wire.INTERMEDIATE_EXCHANGE_SUPPORTED)
	sel, err := CheckIKEChosen(sa.peer.ikeOffer, []wire.Proposal{chosen})
	if err != nil {
		return resp, nil // not ours to judge here: the selection stands
	}
	in := &sa.hs.inter
	in.methods, in.names = addKEMethods(sel.AddKE)
	if len(in.methods) > 0 && !peerSupports {
		return nil, fmt.Errorf("%w: additional key exchanges chosen but the initiator did not send INTERMEDIATE_EXCHANGE_SUPPORTED", errNoIntermediate)
	}
	if peerSupports && offersAddKE(sa.peer.ikeOffer) {
		in.supported = true
		resp = append(resp, &wire.Notify{Type: wire.INTERMEDIATE_EXCHANGE_SUPPORTED})
	}
	return resp, nil
}

// errNoIntermediate is an initiator that did not offer IKE_INTERMEDIATE
// while the proposal chosen needs it.
var errNoIntermediate = errors.New("no IKE_INTERMEDIATE support")

// afterInit is the initiator's step after the IKE_SA_INIT response: the
// additional key exchanges, if the responder chose any, then IKE_AUTH.
func (sa *ikeSA) afterInit(ps []wire.Payload, chosen *wire.SA) {
	sel, err := CheckIKEChosen(sa.peer.ikeOffer, chosen.Proposals)
	if err != nil {
		sa.fail(failureOf(err))
		return
	}
	in := &sa.hs.inter
	in.methods, in.names = addKEMethods(sel.AddKE)
	if len(in.methods) > 0 {
		if _, ok := wire.FindNotify(ps, wire.INTERMEDIATE_EXCHANGE_SUPPORTED); !ok {
			sa.fail(ike.Failf(ike.CauseNoProposal, "responder chose additional key exchanges without INTERMEDIATE_EXCHANGE_SUPPORTED"))
			return
		}
		in.supported = true
		if err := sa.sendIntermediate(); err != nil {
			sa.fail(failureOf(err))
		}
		return
	}
	sa.toAuth()
}

// toAuth mixes in the PPK, when both sides use one, and sends IKE_AUTH.
func (sa *ikeSA) toAuth() {
	if err := sa.ppkBeforeAuth(); err != nil {
		sa.fail(failureOf(err))
		return
	}
	sa.addKE = sa.hs.inter.names
	if err := sa.sendAuth(); err != nil {
		sa.fail(failureOf(err))
	}
}

// sendIntermediate starts the next additional key exchange.
func (sa *ikeSA) sendIntermediate() error {
	in := &sa.hs.inter
	m := in.methods[in.done]
	kex, err := m.NewKeyExchange(sa.e.rand)
	if err != nil {
		return err
	}
	in.kex = kex
	inner := []wire.Payload{&wire.KE{Group: m.ID, Data: kex.PublicKey()}}
	id := sa.nextID
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.IKE_INTERMEDIATE,
		Flags: wire.FlagInitiator, MessageID: id}}
	b, err := sa.sealIntAuth(msg, inner, sa.keys.PI, &in.intI)
	if err != nil {
		return err
	}
	sa.state = stateIntermediateSent
	sa.request(b, id)
	return nil
}

// handleIntermediateResponse completes the initiator's exchange: the
// responder's KE, the shared secret, new keys, then the next exchange or
// IKE_AUTH. msg was opened in place (Raw holds the plaintext).
func (sa *ikeSA) handleIntermediateResponse(msg *wire.Message, ps []wire.Payload) {
	in := &sa.hs.inter
	if t, ok := errorNotify(ps); ok {
		sa.fail(ike.Failf(notifyCause(t), "peer refused IKE_INTERMEDIATE: %v", t).Received(uint16(t)))
		return
	}
	if err := sa.chainIntAuth(msg, ps, sa.keys.PR, &in.intR); err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "IKE_INTERMEDIATE response: %v", err))
		return
	}
	m := in.methods[in.done]
	ke, ok := wire.Find[*wire.KE](ps)
	if !ok || ke.Group != m.ID {
		sa.fail(ike.Failf(ike.CauseOther, "IKE_INTERMEDIATE response lacks the KE payload of %s", m.Display))
		return
	}
	in.exchanges++
	shared, err := in.kex.SharedSecret(ke.Data)
	in.kex = nil
	if err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "peer's %s key exchange data: %v", m.Display, err))
		return
	}
	if err := sa.rekeyIntermediate(shared); err != nil {
		sa.fail(failureOf(err))
		return
	}
	if in.done < len(in.methods) {
		if err := sa.sendIntermediate(); err != nil {
			sa.fail(failureOf(err))
		}
		return
	}
	sa.toAuth()
}

// handleIntermediateRequest is the responder's exchange. msg was opened
// in place.
func (sa *ikeSA) handleIntermediateRequest(id uint32, msg *wire.Message, ps []wire.Payload) {
	in := &sa.hs.inter
	refuse := func(t wire.NotifyType, format string, args ...any) {
		sa.answer(id, wire.IKE_INTERMEDIATE, []wire.Payload{&wire.Notify{Type: t}})
		sa.fail(ike.Failf(ike.CauseOther, format, args...).Sent(uint16(t)))
	}
	if !in.supported {
		refuse(wire.INVALID_SYNTAX, "IKE_INTERMEDIATE without INTERMEDIATE_EXCHANGE_SUPPORTED in IKE_SA_INIT")
		return
	}
	if err := sa.chainIntAuth(msg, ps, sa.keys.PI, &in.intI); err != nil {
		refuse(wire.INVALID_SYNTAX, "IKE_INTERMEDIATE request: %v", err)
		return
	}
	var out []wire.Payload
	var shared []byte
	if in.done < len(in.methods) {
		m := in.methods[in.done]
		ke, ok := wire.Find[*wire.KE](ps)
		if !ok || ke.Group != m.ID {
			refuse(wire.INVALID_SYNTAX, "IKE_INTERMEDIATE request lacks the KE payload of %s", m.Display)
			return
		}
		pub, secret, err := m.Respond(sa.e.rand, ke.Data)
		if err != nil {
			refuse(wire.INVALID_SYNTAX, "peer's %s key exchange data: %v", m.Display, err)
			return
		}
		out, shared = []wire.Payload{&wire.KE{Group: m.ID, Data: pub}}, secret
	}
	// An IKE_INTERMEDIATE with nothing left to exchange gets an empty
	// answer; it still counts in IntAuth (RFC 9242 §3).
	resp := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.IKE_INTERMEDIATE,
		Flags: wire.FlagResponse, MessageID: id}}
	b, err := sa.sealIntAuth(resp, out, sa.keys.PR, &in.intR)
	if err != nil {
		sa.fail(failureOf(err))
		return
	}
	sa.respond(b, id)
	in.exchanges++
	if shared == nil {
		return
	}
	if err := sa.rekeyIntermediate(shared); err != nil {
		sa.fail(failureOf(err))
	}
}

// rekeyIntermediate derives the keys after an additional key exchange and
// counts it done.
func (sa *ikeSA) rekeyIntermediate(shared []byte) error {
	defer clear(shared)
	hs, old := sa.hs, sa.keys
	skeyseed, err := keymat.RekeySKEYSEED(sa.suite.PRF, old.D, shared, hs.ni, hs.nr)
	if err != nil {
		return err
	}
	if err := sa.keysFromSKEYSEED(skeyseed, hs.ni, hs.nr); err != nil {
		return err
	}
	old.Zero()
	hs.inter.done++
	return nil
}

// sealIntAuth seals an IKE_INTERMEDIATE message (no clear payloads) and
// chains it into IntAuth with skp, the sender's SK_p in effect.
func (sa *ikeSA) sealIntAuth(msg *wire.Message, inner []wire.Payload, skp []byte, chain *[]byte) ([]byte, error) {
	_, plain, err := wire.AppendPayloads(nil, inner)
	if err != nil {
		return nil, err
	}
	b, err := sa.out.seal(msg, inner)
	if err != nil {
		return nil, err
	}
	// Header and the SK payload's generic header: no clear payloads here.
	const aLen = wire.HeaderLen + 4
	return b, sa.intAuth(skp, chain, b[:aLen], plain)
}

// chainIntAuth chains a received IKE_INTERMEDIATE message, opened in place,
// into IntAuth with skp, the peer's SK_p in effect. A message that came
// in fragments (RFC 7383; msg is its last fragment, ps its payloads)
// counts as if it had come whole (RFC 9242 §3.3.2): the IKE header with
// SK as its Next Payload, the SK payload's generic header, the inner
// payloads.
func (sa *ikeSA) chainIntAuth(msg *wire.Message, ps []wire.Payload, skp []byte, chain *[]byte) error {
	if _, ok := wire.Find[*wire.Encrypted](msg.Payloads); !ok {
		if _, frag := wire.Find[*wire.EncryptedFragment](msg.Payloads); !frag || len(msg.Raw) < wire.HeaderLen {
			return fmt.Errorf("no SK payload")
		}
		first, plain, err := wire.AppendPayloads(nil, ps)
		if err != nil {
			return err
		}
		a := make([]byte, wire.HeaderLen+4)
		copy(a, msg.Raw[:wire.HeaderLen])
		a[16] = byte(wire.PayloadSK) // the header's Next Payload
		a[wire.HeaderLen] = byte(first)
		return sa.intAuth(skp, chain, a, plain)
	}
	r, err := msg.Regions(sa.in.sizes())
	if err != nil {
		return err
	}
	plain, err := wire.TrimPadding(r.Ciphertext)
	if err != nil {
		return err
	}
	return sa.intAuth(skp, chain, r.AssociatedData, plain)
}

// intAuth is one step of the IntAuth chain: a is the message from the IKE
// header through the Encrypted payload's generic header, plain the inner
// payloads; both length fields of a are set as if the message were sent
// in clear (RFC 9242 §3.3.2).
func (sa *ikeSA) intAuth(skp []byte, chain *[]byte, a, plain []byte) error {
	if len(a) < wire.HeaderLen+4 {
		return fmt.Errorf("IKE_INTERMEDIATE message too short")
	}
	adj := append([]byte(nil), a...)
	binary.BigEndian.PutUint32(adj[24:28], uint32(len(adj)+len(plain)))
	binary.BigEndian.PutUint16(adj[len(adj)-2:], uint16(4+len(plain)))
	mac, err := keymat.PRF(sa.suite.PRF, skp, *chain, adj, plain)
	if err != nil {
		return err
	}
	*chain = mac
	return nil
}

// intAuthOctets appends IntAuth_i | IntAuth_r | IKE_AUTH's Message ID to
// the octets an AUTH payload signs, once IKE_INTERMEDIATE ran.
func (sa *ikeSA) intAuthOctets(octets []byte) []byte {
	if sa.hs == nil || sa.hs.inter.exchanges == 0 {
		return octets
	}
	in := &sa.hs.inter
	out := append(append(append([]byte(nil), octets...), in.intI...), in.intR...)
	return binary.BigEndian.AppendUint32(out, uint32(in.exchanges+1))
}

// intermediateDone refuses an IKE_AUTH request before the additional key
// exchanges are all done: it reports false, having answered and failed
// the SA.
func (sa *ikeSA) intermediateDone(id uint32) bool {
	in := &sa.hs.inter
	if in.done == len(in.methods) {
		sa.addKE = in.names
		return true
	}
	sa.answer(id, wire.IKE_AUTH, []wire.Payload{&wire.Notify{Type: wire.INVALID_SYNTAX}})
	sa.fail(ike.Failf(ike.CauseOther, "IKE_AUTH before the additional key exchanges (%d of %d done)", in.done, len(in.methods)).Sent(uint16(wire.INVALID_SYNTAX)))
	return false
}

// addKEMethods lists the methods of a selection's ADDKE rows in order.
func addKEMethods(rows [7]*transform.Transform) (methods []*transform.Transform, names []string) {
	for i, t := range rows {
		if t != nil {
			methods = append(methods, t)
			names = append(names, fmt.Sprintf("ke%d %s", i+1, t.Display))
		}
	}
	return methods, names
}

// offersAddKE reports whether an IKE offer has additional key exchanges.
func offersAddKE(offer []wire.Proposal) bool {
	for _, p := range offer {
		for _, t := range p.Transforms {
			if t.Type.IsAdditionalKE() {
				return true
			}
		}
	}
	return false
}
