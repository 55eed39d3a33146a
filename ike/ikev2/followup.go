package ikev2

import (
	"bytes"
	"encoding/binary"
	"slices"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// A CREATE_CHILD_SA with additional key exchanges (RFC 9370 §2.2.2 to
// §2.2.4): the responder answers with ADDITIONAL_KEY_EXCHANGE carrying a
// link, and the initiator runs one IKE_FOLLOWUP_KE exchange per ADDKE
// method, each echoing the last link:
//
//	HDR(CREATE_CHILD_SA), SK {SA, Ni, KEi, ...}  -->
//	                  <--  HDR(CREATE_CHILD_SA), SK {SA, Nr, KEr, N(ADDITIONAL_KEY_EXCHANGE)(link1), ...}
//	HDR(IKE_FOLLOWUP_KE), SK {KEi(1), N(ADDITIONAL_KEY_EXCHANGE)(link1)}  -->
//	                  <--  HDR(IKE_FOLLOWUP_KE), SK {KEr(1)[, N(ADDITIONAL_KEY_EXCHANGE)(link2)]}
//
// The new SA is made once the last exchange is done, with every shared
// secret after the nonces:
//
//	SKEYSEED = prf(SK_d, SK(0) | Ni | Nr | SK(1) | ... | SK(n))      IKE SA rekey
//	KEYMAT = prf+ (SK_d, SK(0) | Ni | Nr | SK(1) | ... | SK(n))      Child SA
//
// so the derivations of RFC 7296 take Nr | SK(1) | ... | SK(n) where
// they took Nr. Rekey collisions, and a responder whose initiator never
// sends the follow-ups, are in followupcollide.go.

// followup is a CREATE_CHILD_SA waiting for its IKE_FOLLOWUP_KE exchanges:
// ours (ikeSA.followup) or the peer's (ikeSA.peerFollowup).
type followup struct {
	initiator bool // we sent the CREATE_CHILD_SA
	methods   []*transform.Transform
	names     []string
	done      int
	secrets   []byte // SK(1) | ... so far
	link      []byte // the last ADDITIONAL_KEY_EXCHANGE data
	kex       transform.KeyExchange
	// finish makes the new SA from SK(1) | ... | SK(n); false when it
	// could not.
	finish func(extra []byte) bool
	// abort releases what was held for the exchange.
	abort func()
	// expiry drops the responder's state when the initiator abandons
	// the exchanges (followupcollide.go).
	expiry clock.Timer
}

// withAddKE adds the IPsec policy's additional key exchanges to a
// CREATE_CHILD_SA ESP offer.
func withAddKE(offer []wire.Proposal, addke [7]*transform.Transform) []wire.Proposal {
	for i := range offer {
		offer[i].Transforms = appendAddKE(offer[i].Transforms, addke)
		// ESN stays last, as ESPOffer writes it: move it after the ADDKEs.
		ts := offer[i].Transforms
		for j, t := range ts {
			if t.Type == transform.TypeESN && j != len(ts)-1 {
				ts = append(append(ts[:j:j], ts[j+1:]...), t)
				break
			}
		}
		offer[i].Transforms = ts
	}
	return offer
}

// startFollowup begins the initiator's IKE_FOLLOWUP_KE exchanges after a
// CREATE_CHILD_SA response that chose additional key exchanges. It
// reports false when there are none to run.
func (sa *ikeSA) startFollowup(addke [7]*transform.Transform, ps []wire.Payload, finish func([]byte) bool, abort func()) bool {
	methods, names := addKEMethods(addke)
	if len(methods) == 0 {
		return false
	}
	n, ok := wire.FindNotify(ps, wire.ADDITIONAL_KEY_EXCHANGE)
	if !ok || len(n.Data) == 0 {
		sa.e.log.Warn("CREATE_CHILD_SA answer chose additional key exchanges without ADDITIONAL_KEY_EXCHANGE", "gateway", sa.peer.Gateway)
		abort()
		return true
	}
	sa.followup = &followup{initiator: true, methods: methods, names: names, link: bytes.Clone(n.Data), finish: finish, abort: abort}
	if err := sa.sendFollowup(); err != nil {
		sa.followup = nil
		abort()
	}
	return true
}

func (sa *ikeSA) sendFollowup() error {
	f := sa.followup
	m := f.methods[f.done]
	kex, err := m.NewKeyExchange(sa.e.rand)
	if err != nil {
		return err
	}
	f.kex = kex
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.IKE_FOLLOWUP_KE,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, []wire.Payload{&wire.KE{Group: m.ID, Data: kex.PublicKey()},
		&wire.Notify{Type: wire.ADDITIONAL_KEY_EXCHANGE, Data: f.link}})
	if err != nil {
		return err
	}
	sa.request(b, sa.nextID)
	return nil
}

// handleFollowupResponse is the initiator's side of one IKE_FOLLOWUP_KE.
func (sa *ikeSA) handleFollowupResponse(ps []wire.Payload) {
	f := sa.followup
	if f == nil || !f.initiator {
		return
	}
	fail := func(msg string, args ...any) {
		sa.followup = nil
		sa.e.log.Warn(msg, append([]any{"gateway", sa.peer.Gateway}, args...)...)
		f.abort()
	}
	if t, ok := errorNotify(ps); ok {
		fail("IKE_FOLLOWUP_KE refused", "reason", t)
		return
	}
	m := f.methods[f.done]
	ke, ok := wire.Find[*wire.KE](ps)
	if !ok || ke.Group != m.ID {
		fail("IKE_FOLLOWUP_KE answer lacks the KE payload", "method", m.Display)
		return
	}
	secret, err := f.kex.SharedSecret(ke.Data)
	f.kex = nil
	if err != nil {
		fail("IKE_FOLLOWUP_KE answer's key exchange data refused", "method", m.Display, "err", err)
		return
	}
	f.secrets = append(f.secrets, secret...)
	clear(secret)
	f.done++
	if f.done < len(f.methods) {
		n, ok := wire.FindNotify(ps, wire.ADDITIONAL_KEY_EXCHANGE)
		if !ok || len(n.Data) == 0 {
			fail("IKE_FOLLOWUP_KE answer lacks ADDITIONAL_KEY_EXCHANGE for the next exchange")
			return
		}
		f.link = bytes.Clone(n.Data)
		if err := sa.sendFollowup(); err != nil {
			fail("IKE_FOLLOWUP_KE", "err", err)
		}
		return
	}
	sa.followup = nil
	defer clear(f.secrets)
	if !f.finish(f.secrets) {
		f.abort()
	}
}

// answerFollowups is the responder's side of a CREATE_CHILD_SA that chose
// additional key exchanges: out (the answer) gets ADDITIONAL_KEY_EXCHANGE
// and finish waits for the IKE_FOLLOWUP_KE exchanges.
// abort releases what finish would have used. It reports false when the
// answer could not be made (TEMPORARY_FAILURE went instead).
func (sa *ikeSA) answerFollowups(id uint32, addke [7]*transform.Transform, out []wire.Payload, finish func([]byte) bool, abort func()) bool {
	methods, names := addKEMethods(addke)
	link, err := sa.e.random(8)
	if err != nil {
		abort()
		sa.answer(id, wire.CREATE_CHILD_SA, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return false
	}
	sa.dropPeerFollowup() // a new exchange replaces one the peer abandoned
	f := &followup{methods: methods, names: names, link: link, finish: finish, abort: abort}
	sa.peerFollowup = f
	sa.expireFollowup(f) // followupcollide.go
	sa.answer(id, wire.CREATE_CHILD_SA, append(out, &wire.Notify{Type: wire.ADDITIONAL_KEY_EXCHANGE, Data: link}))
	return true
}

// handleFollowupRequest is the responder's side of one IKE_FOLLOWUP_KE.
func (sa *ikeSA) handleFollowupRequest(id uint32, ps []wire.Payload) {
	f := sa.peerFollowup
	n, ok := wire.FindNotify(ps, wire.ADDITIONAL_KEY_EXCHANGE)
	if f == nil || !ok || !bytes.Equal(n.Data, f.link) {
		sa.answer(id, wire.IKE_FOLLOWUP_KE, []wire.Payload{&wire.Notify{Type: wire.STATE_NOT_FOUND}})
		return
	}
	m := f.methods[f.done]
	refuse := func(t wire.NotifyType, msg string, args ...any) {
		sa.dropPeerFollowup()
		sa.e.log.Warn(msg, append([]any{"gateway", sa.peer.Gateway, "method", m.Display}, args...)...)
		sa.answer(id, wire.IKE_FOLLOWUP_KE, []wire.Payload{&wire.Notify{Type: t}})
	}
	ke, ok := wire.Find[*wire.KE](ps)
	if !ok || ke.Group != m.ID {
		refuse(wire.INVALID_SYNTAX, "IKE_FOLLOWUP_KE request lacks the KE payload")
		return
	}
	pub, secret, err := m.Respond(sa.e.rand, ke.Data)
	if err != nil {
		refuse(wire.INVALID_SYNTAX, "IKE_FOLLOWUP_KE request's key exchange data refused", "err", err)
		return
	}
	f.secrets = append(f.secrets, secret...)
	clear(secret)
	f.done++
	out := []wire.Payload{&wire.KE{Group: m.ID, Data: pub}}
	if f.done < len(f.methods) {
		if f.link, err = sa.e.random(8); err != nil {
			refuse(wire.TEMPORARY_FAILURE, "IKE_FOLLOWUP_KE", "err", err)
			return
		}
		sa.expireFollowup(f) // the next one has its own time
		sa.answer(id, wire.IKE_FOLLOWUP_KE, append(out, &wire.Notify{Type: wire.ADDITIONAL_KEY_EXCHANGE, Data: f.link}))
		return
	}
	sa.peerFollowup = nil
	if f.expiry != nil {
		f.expiry.Stop()
	}
	defer clear(f.secrets)
	if !f.finish(f.secrets) {
		sa.answer(id, wire.IKE_FOLLOWUP_KE, []wire.Payload{&wire.Notify{Type: wire.TEMPORARY_FAILURE}})
		return
	}
	sa.answer(id, wire.IKE_FOLLOWUP_KE, out)
}

// rekeyIKEAddKE is the responder's IKE SA rekey when the proposal chosen
// has additional key exchanges: the CREATE_CHILD_SA answer, then the new
// IKE SA once the follow-ups are done. It reports false when there are
// none (the plain rekey goes on).
func (sa *ikeSA) rekeyIKEAddKE(id uint32, sel *IKESelection, ni []byte, ke *wire.KE, spi uint64) bool {
	if methods, _ := addKEMethods(sel.AddKE); len(methods) == 0 {
		return false
	}
	keR, gir, ok := sa.answerKE(id, sel.KE, ke)
	if !ok {
		return true
	}
	nr, err := sa.e.random(nonceSize)
	if err != nil {
		clear(gir)
		return true
	}
	ni = bytes.Clone(ni)
	_, names := addKEMethods(sel.AddKE)
	finish := func(extra []byte) bool {
		defer clear(gir)
		n := &ikeSA{e: sa.e, peer: sa.peer, initiator: false, spiI: binary.BigEndian.Uint64(sel.PeerSPI), spiR: spi,
			local: sa.local, remote: sa.remote, natT: sa.natT,
			group: sel.KE, suite: sel.Suite, state: stateEstablished, established: sa.e.clock.Now()}
		n.frag.on = sa.frag.on // the new IKE SA keeps fragmentation (fragment.go)
		n.inheritAuth(sa)      // certauth.go
		skeyseed, err := keymat.RekeySKEYSEED(sa.suite.PRF, sa.keys.D, gir, ni, slices.Concat(nr, extra))
		if err != nil || n.keysFromSKEYSEED(skeyseed, ni, nr) != nil {
			return false
		}
		sa.handOver(n)
		n.addKE = names
		sa.e.sas[spi] = n
		sa.e.track(n)
		sa.e.log.Info("IKE SA rekeyed by the peer", "gateway", sa.peer.Gateway, "new-spi", n.spiR, "additional-key-exchanges", names)
		n.emit(ike.IKERekeyed, n.ikeSPIs(), ike.Failure{})
		return true
	}
	if sa.answerFollowups(id, sel.AddKE, []wire.Payload{&wire.SA{Proposals: []wire.Proposal{sel.Proposal}}, &wire.Nonce{Data: nr}, keR},
		finish, func() { clear(gir) }) {
		sa.noteIKECollision(ni, nr) // followupcollide.go
	}
	return true
}

// ikeRekeyFollowups is the initiator's IKE SA rekey when the responder
// chose additional key exchanges. It reports false when there are none.
func (sa *ikeSA) ikeRekeyFollowups(r *ikeRekey, sel *IKESelection, ps []wire.Payload, gir, nr []byte) bool {
	gir, nr = bytes.Clone(gir), bytes.Clone(nr)
	_, names := addKEMethods(sel.AddKE)
	sa.ikeRekey = r // holds off other exchanges until the follow-ups are done
	abort := func() {
		sa.ikeRekey = nil
		clear(gir)
	}
	finish := func(extra []byte) bool {
		sa.ikeRekey = nil
		defer clear(gir)
		n := &ikeSA{e: sa.e, peer: sa.peer, initiator: true, spiI: r.spi, spiR: binary.BigEndian.Uint64(sel.PeerSPI),
			local: sa.local, remote: sa.remote, natT: sa.natT,
			group: r.group, suite: sel.Suite, state: stateEstablished, established: sa.e.clock.Now()}
		n.frag.on = sa.frag.on // the new IKE SA keeps fragmentation (fragment.go)
		n.inheritAuth(sa)      // certauth.go
		skeyseed, err := keymat.RekeySKEYSEED(sa.suite.PRF, sa.keys.D, gir, r.ni, slices.Concat(nr, extra))
		if err != nil || n.keysFromSKEYSEED(skeyseed, r.ni, nr) != nil {
			return false
		}
		sa.handOver(n)
		n.addKE = names
		sa.e.sas[r.spi] = n
		sa.e.track(n)
		sa.e.log.Info("IKE SA rekeyed", "gateway", sa.peer.Gateway, "additional-key-exchanges", names)
		n.emit(ike.IKERekeyed, n.ikeSPIs(), ike.Failure{})
		sa.sendDelete()
		return true
	}
	if methods, _ := addKEMethods(sel.AddKE); len(methods) > 0 && sa.lostCollision(r.collided, r.ni, nr, "IKE SA") { // followupcollide.go
		abort()
		return true
	}
	if !sa.startFollowup(sel.AddKE, ps, finish, abort) {
		sa.ikeRekey = nil
		return false
	}
	return true
}

// childAddKE is the responder's Child SA creation or rekey when the
// proposal chosen has additional key exchanges: the CREATE_CHILD_SA
// answer, then the Child SA once the follow-ups are done. It reports
// false when there are none.
func (sa *ikeSA) childAddKE(id uint32, sel *ESPSelection, ke *wire.KE, ni []byte, v *vpn, nar Narrowed, inSPI uint32, old *ike.ChildSA) bool {
	rekeyed := old != nil
	if methods, _ := addKEMethods(sel.AddKE); len(methods) == 0 {
		return false
	}
	var gir []byte
	var keR *wire.KE
	if sel.KE != nil {
		var ok bool
		if keR, gir, ok = sa.answerKE(id, sel.KE, ke); !ok {
			return true
		}
	}
	nr, err := sa.e.random(nonceSize)
	if err != nil {
		clear(gir)
		return true
	}
	ni = bytes.Clone(ni)
	_, names := addKEMethods(sel.AddKE)
	finish := func(extra []byte) bool {
		defer clear(gir)
		if !sa.installChild(newChild{suite: sel.Suite, esn: sel.ESN, inSPI: inSPI, outSPI: sel.PeerSPI,
			tsi: nar.TSi, tsr: nar.TSr, gir: gir, pfs: sel.KE, ni: ni, nr: slices.Concat(nr, extra), responderRekey: rekeyed, vpn: sa.peer.vpnNamed(v.VPN),
			addKE: names}) {
			return false
		}
		if !rekeyed {
			sa.freshChild(sa.children[len(sa.children)-1], ni, nr, false) // childdup.go
		}
		if rekeyed {
			sa.e.log.Info("Child SA rekeyed by the peer", "vpn", v.VPN, "new-in", spiHex(inSPI))
			sa.emitFor(v.VPN, ike.ChildRekeyed, spiHex(inSPI), ike.Failure{})
			sa.e.superseded.Mark(old) // childdown.go
		}
		return true
	}
	out := []wire.Payload{&wire.SA{Proposals: []wire.Proposal{sel.Proposal}}, &wire.Nonce{Data: nr}}
	if keR != nil {
		out = append(out, keR)
	}
	out = append(out, &wire.TSi{Selectors: nar.TSi}, &wire.TSr{Selectors: nar.TSr})
	if sa.answerFollowups(id, sel.AddKE, out, finish, func() { clear(gir) }) && rekeyed {
		sa.noteChildCollision(old, ni, nr) // followupcollide.go
	}
	return true
}

// childRekeyFollowups is the initiator's Child SA rekey when the responder
// chose additional key exchanges: the new Child SA, and the DELETE of the
// old one, once the follow-ups are done. It reports false when there are
// none.
func (sa *ikeSA) childRekeyFollowups(r *childRekey, sel *ESPSelection, ps []wire.Payload, gir, nr []byte, tsi, tsr []wire.TrafficSelector) bool {
	gir, nr = bytes.Clone(gir), bytes.Clone(nr)
	_, names := addKEMethods(sel.AddKE)
	sa.rekey = r // holds off other exchanges until the follow-ups are done
	abort := func() {
		sa.rekey = nil
		clear(gir)
	}
	finish := func(extra []byte) bool {
		sa.rekey = nil
		defer clear(gir)
		if !sa.installChild(newChild{weInitiated: true, suite: sel.Suite, esn: sel.ESN, inSPI: r.inSPI, outSPI: sel.PeerSPI,
			tsi: tsi, tsr: tsr, gir: gir, pfs: sel.KE, ni: r.ni, nr: slices.Concat(nr, extra), vpn: sa.peer.vpnOf(r.old), addKE: names}) {
			return false
		}
		sa.emitFor(r.vpn.VPN, ike.ChildRekeyed, spiHex(r.inSPI), ike.Failure{})
		sa.e.superseded.Mark(r.old) // childdown.go
		// Make-before-break: the new SA is in, the old one goes.
		msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
			Flags: sa.flags(), MessageID: sa.nextID}}
		b, err := sa.out.seal(msg, []wire.Payload{&wire.Delete{Protocol: wire.ProtocolESP, SPIs: []uint32{r.old.InboundSPI}}})
		if err != nil {
			return true
		}
		sa.deleting = r.old
		sa.request(b, sa.nextID)
		return true
	}
	if methods, _ := addKEMethods(sel.AddKE); len(methods) > 0 && sa.lostCollision(r.peerAddKE, r.ni, nr, "Child SA") { // followupcollide.go
		abort()
		return true
	}
	if !sa.startFollowup(sel.AddKE, ps, finish, abort) {
		sa.rekey = nil
		return false
	}
	return true
}
