package ikev1

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	v1 "ipsecgw/ike/wire/v1"
)

// Main Mode with pre-shared keys (RFC 2409 §5, §5.4), both roles.

// initiate starts Main Mode to p (message 1).
func (e *Engine) initiate(p *peer) error {
	if p.Aggressive {
		return e.initiateAggressive(p)
	}
	cky, err := e.newCookie()
	if err != nil {
		return err
	}
	sa := &isakmpSA{e: e, peer: p, initiator: true, ckyI: cky, local: netip.AddrPortFrom(p.Local, 500),
		remote: netip.AddrPortFrom(p.Current(), 500), state: stateMMSentSA, qms: map[uint32]*quickMode{}, infoIVs: map[uint32][]byte{}, started: e.clock.Now()}
	ps := append([]v1.Payload{phase1Offer(p.phase1)}, vendorIDs(p)...)
	b, c, err := sa.plain(sa.header(v1.MainMode, 0, false), ps)
	if err != nil {
		return err
	}
	sa.saiB = append([]byte(nil), c.RawBody(0)...)
	e.sas[sa.key()] = sa
	e.log.Info("IKEv1 Main Mode started", "gateway", p.Gateway, "peer", p.Remote)
	sa.send(b, true)
	return nil
}

// vendorIDs are the capabilities we announce: RFC 3947 NAT traversal and
// RFC 3706 dead peer detection.
func vendorIDs(p *peer) []v1.Payload {
	out := []v1.Payload{&v1.VendorID{Data: v1.VendorDPD}}
	if p.NATTraversal {
		out = append(out, &v1.VendorID{Data: v1.VendorNATT})
	}
	return out
}

// noteVendorIDs records what the peer supports.
func (sa *isakmpSA) noteVendorIDs(ps []v1.Payload) {
	for _, p := range ps {
		if v, ok := p.(*v1.VendorID); ok {
			sa.peerNATT = sa.peerNATT || v.Is(v1.VendorNATT)
			sa.peerDPD = sa.peerDPD || v.Is(v1.VendorDPD)
		}
	}
}

// handle takes a message of this SA.
func (sa *isakmpSA) handle(msg *v1.Message, from, to netip.AddrPort) {
	if sa.duplicate(msg.Received) {
		return
	}
	h := msg.Header
	if h.Exchange == v1.Informational && !h.Encrypted() {
		sa.plainInformational(msg)
		return
	}
	switch {
	case sa.state == stateMMSentSA && h.Exchange == v1.MainMode:
		sa.mainMode2(msg)
	case sa.state == stateMMSentKE && h.Exchange == v1.MainMode:
		sa.mainMode4(msg)
	case sa.state == stateMMSentID && h.Exchange == v1.MainMode:
		sa.mainMode6(msg)
	case sa.state == stateMMRepliedSA && h.Exchange == v1.MainMode:
		sa.mainMode3(msg)
	case sa.state == stateMMRepliedKE && h.Exchange == v1.MainMode:
		sa.mainMode5(msg, from, to)
	case sa.state == stateAMSent && h.Exchange == v1.AggressiveMode:
		sa.aggressive2(msg)
	case sa.state == stateAMReplied && h.Exchange == v1.AggressiveMode:
		sa.aggressive3(msg, from, to)
	case sa.state == stateEstablished && h.Exchange == v1.QuickMode:
		sa.quickMode(msg)
	case sa.state == stateEstablished && h.Exchange == v1.Informational:
		sa.informational(msg)
	default:
		sa.e.log.Debug("IKEv1 message out of order; dropped", "peer", from, "exchange", h.Exchange, "state", sa.state)
	}
}

// plainInformational is an unencrypted notification: before keys exist, a
// peer can only refuse that way (NO-PROPOSAL-CHOSEN and the like).
func (sa *isakmpSA) plainInformational(msg *v1.Message) {
	if sa.state == stateEstablished {
		return // after phase 1 only protected ones count
	}
	for _, p := range msg.Payloads {
		if n, ok := p.(*v1.Notify); ok && n.Type.IsError() {
			sa.fail(ike.Failf(notifyCause(n.Type), "peer refused Main Mode: %s", n.Type).Received(uint16(n.Type)))
			return
		}
	}
}

// mainMode2: the initiator reads the responder's choice and sends its key
// exchange (message 3).
func (sa *isakmpSA) mainMode2(msg *v1.Message) {
	chosen, _ := v1.Find[*v1.SA](msg.Payloads)
	if chosen == nil || len(chosen.Proposals) != 1 || len(chosen.Proposals[0].Transforms) != 1 {
		sa.fail(ike.Failf(ike.CauseOther, "Main Mode message 2 has no single chosen transform"))
		return
	}
	pp, err := phase1Of(chosen.Proposals[0].Transforms[0])
	if err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "responder chose an unusable transform: %v", err))
		return
	}
	ok := false
	for _, mine := range sa.peer.phase1 {
		if mine.Encryption == pp.Encryption && mine.Hash == pp.Hash && mine.Group == pp.Group && mine.auth() == pp.auth() {
			ok, pp.Lifetime = true, shorter(pp.Lifetime, mine.Lifetime)
		}
	}
	if !ok {
		sa.fail(ike.Failf(ike.CauseOther, "responder chose %s, which we did not offer", phase1Name(pp)))
		return
	}
	sa.answered()
	sa.ckyR, sa.chosen = msg.Header.ResponderCookie, pp
	sa.noteVendorIDs(msg.Payloads)
	if sa.kex, err = pp.Group.NewKeyExchange(sa.e.rand); err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	if sa.ni, err = sa.e.random(nonceSize); err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	sa.gxi = sa.kex.PublicKey()
	ps := append([]v1.Payload{&v1.KE{Data: sa.gxi}, &v1.Nonce{Data: sa.ni}}, sa.natDPayloads()...)
	ps = append(ps, sa.certReqs()...)
	b, _, err := sa.plain(sa.header(v1.MainMode, 0, false), ps)
	if err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	sa.state = stateMMSentKE
	sa.send(b, true)
}

// mainMode4: the initiator takes the responder's key exchange, derives the
// keys and sends its identity and HASH_I (message 5, encrypted).
func (sa *isakmpSA) mainMode4(msg *v1.Message) {
	ke, _ := v1.Find[*v1.KE](msg.Payloads)
	nr, _ := v1.Find[*v1.Nonce](msg.Payloads)
	if ke == nil || nr == nil {
		sa.fail(ike.Failf(ike.CauseOther, "Main Mode message 4 lacks KE or nonce"))
		return
	}
	sa.answered()
	sa.gxr, sa.nr = append([]byte(nil), ke.Data...), append([]byte(nil), nr.Data...)
	if err := sa.deriveKeys(); err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	sa.checkNAT(msg.Payloads)
	if sa.natT {
		// RFC 3947 §4: from message 5 on, IKE runs on port 4500.
		sa.local = netip.AddrPortFrom(sa.local.Addr(), 4500)
		sa.remote = netip.AddrPortFrom(sa.remote.Addr(), 4500)
	}
	id := sa.localID()
	hashI := sa.prf(sa.keys.SKEYID, sa.gxi, sa.gxr, cookies(sa.ckyI, sa.ckyR), sa.saiB, id.AppendBody(nil))
	ps, err := sa.authPayloads(&id, hashI)
	if err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	b, err := sa.sealPhase1(ps)
	if err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	sa.state = stateMMSentID
	sa.send(b, true)
}

// mainMode6: the initiator checks the responder's identity and HASH_R;
// phase 1 is done and Quick Mode starts.
func (sa *isakmpSA) mainMode6(msg *v1.Message) {
	c, next, err := sa.openMessage(msg, sa.iv)
	if err != nil {
		sa.e.drops.Unauthenticated.Add(1)
		sa.e.log.Info("Main Mode message 6 does not decrypt; dropped", "peer", sa.remote, "err", err)
		return
	}
	id, _ := v1.Find[*v1.Identification](c.Payloads)
	if id == nil || !sa.hasAuth(c.Payloads) {
		sa.fail(ike.Failf(ike.CauseOther, "Main Mode message 6 lacks ID or HASH (SIG)"))
		return
	}
	want := sa.prf(sa.keys.SKEYID, sa.gxr, sa.gxi, cookies(sa.ckyR, sa.ckyI), sa.saiB, id.AppendBody(nil))
	if f := sa.checkPeerAuth(c.Payloads, *id, want, "HASH_R"); f.Failed() {
		sa.fail(f)
		return
	}
	if !sa.remoteIDOK(*id) {
		sa.fail(ike.Failf(ike.CauseAuthentication, "peer identity %s is not the configured remote-identity", id))
		return
	}
	sa.answered()
	sa.iv = next
	sa.establish()
	// A phase 1 rekey (or a settled duplicate) took the other SA's pairs.
	sa.startQuickModes() // vpns.go
}

// respondMainMode answers message 1 from a configured peer with the chosen
// proposal (message 2).
func (e *Engine) respondMainMode(msg *v1.Message, from, to netip.AddrPort) {
	p := e.peers[from.Addr()]
	if p == nil {
		e.log.Info("IKEv1 Main Mode from an address no gateway is configured for", "from", from)
		return
	}
	offered, i := v1.Find[*v1.SA](msg.Payloads)
	if offered == nil {
		return
	}
	chosen, pp, err := selectPhase1(offered, p.phase1)
	if err != nil {
		e.log.Warn("IKEv1 Main Mode: no proposal chosen", "gateway", p.Gateway, "peer", from.Addr(), "err", err)
		e.noProposal(p, from.Addr(), err)
		e.notifyPlain(msg.Header.InitiatorCookie, v1.NO_PROPOSAL_CHOSEN, from, to)
		return
	}
	ckyR, err := e.newCookie()
	if err != nil {
		return
	}
	local := to
	if !local.Addr().IsValid() {
		local = netip.AddrPortFrom(p.Local, 500)
	}
	sa := &isakmpSA{e: e, peer: p, ckyI: msg.Header.InitiatorCookie, ckyR: ckyR, local: local, remote: from,
		state: stateMMRepliedSA, chosen: pp, saiB: append([]byte(nil), msg.RawBody(i)...),
		qms: map[uint32]*quickMode{}, infoIVs: map[uint32][]byte{}, started: e.clock.Now()}
	sa.noteVendorIDs(msg.Payloads)
	ps := append([]v1.Payload{&v1.SA{DOI: v1.DOIIPsec, Situation: v1.SIT_IDENTITY_ONLY, Proposals: []v1.Proposal{chosen}}}, vendorIDs(p)...)
	b, _, err := sa.plain(sa.header(v1.MainMode, 0, false), ps)
	if err != nil {
		return
	}
	e.sas[sa.key()] = sa
	sa.remember(msg.Received, b)
	e.log.Debug("IKEv1 Main Mode answered", "gateway", p.Gateway, "local", sa.local, "peer", sa.remote, "proposal", phase1Name(pp))
	sa.send(b, false)
}

// notifyPlain sends an unencrypted error notification (before keys exist).
func (e *Engine) notifyPlain(ckyI uint64, t v1.NotifyType, from, to netip.AddrPort) {
	m := &v1.Message{Header: v1.Header{InitiatorCookie: ckyI, Exchange: v1.Informational, NextPayload: v1.PayloadNotification}}
	c, err := v1.BuildChain([]v1.Payload{&v1.Notify{DOI: v1.DOIIPsec, Protocol: v1.ProtocolISAKMP, Type: t}})
	if err != nil {
		return
	}
	m.Chain = *c
	if b, err := m.Marshal(); err == nil {
		e.transport.Send(b, to, from)
	}
}

// notifyPlainSA tells the peer of an SA, unencrypted, why it failed.
func (e *Engine) notifyPlainSA(sa *isakmpSA, t v1.NotifyType) {
	m := &v1.Message{Header: v1.Header{InitiatorCookie: sa.ckyI, ResponderCookie: sa.ckyR, Exchange: v1.Informational,
		NextPayload: v1.PayloadNotification}}
	c, err := v1.BuildChain([]v1.Payload{&v1.Notify{DOI: v1.DOIIPsec, Protocol: v1.ProtocolISAKMP,
		SPI: v1.CookieSPI(sa.ckyI, sa.ckyR), Type: t}})
	if err != nil {
		return
	}
	m.Chain = *c
	if b, err := m.Marshal(); err == nil {
		sa.transmit(b)
	}
}

// mainMode3: the responder takes the initiator's key exchange and answers
// with its own (message 4); the keys exist from here.
func (sa *isakmpSA) mainMode3(msg *v1.Message) {
	ke, _ := v1.Find[*v1.KE](msg.Payloads)
	ni, _ := v1.Find[*v1.Nonce](msg.Payloads)
	if ke == nil || ni == nil {
		return
	}
	var err error
	if sa.kex, err = sa.chosen.Group.NewKeyExchange(sa.e.rand); err != nil {
		return
	}
	if sa.nr, err = sa.e.random(nonceSize); err != nil {
		return
	}
	sa.gxi, sa.ni, sa.gxr = append([]byte(nil), ke.Data...), append([]byte(nil), ni.Data...), sa.kex.PublicKey()
	if err := sa.deriveKeys(); err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	sa.checkNAT(msg.Payloads)
	ps := append([]v1.Payload{&v1.KE{Data: sa.gxr}, &v1.Nonce{Data: sa.nr}}, sa.natDPayloads()...)
	ps = append(ps, sa.certReqs()...)
	b, _, err := sa.plain(sa.header(v1.MainMode, 0, false), ps)
	if err != nil {
		return
	}
	sa.state = stateMMRepliedKE
	sa.remember(msg.Received, b)
	sa.send(b, false)
}

// mainMode5: the responder checks the initiator's identity and HASH_I and
// answers with its own (message 6); phase 1 is done.
func (sa *isakmpSA) mainMode5(msg *v1.Message, from, to netip.AddrPort) {
	c, next, err := sa.openMessage(msg, sa.iv)
	if err != nil {
		// Message 5 is the first one under the keys the pre-shared key
		// made: garbage here is, in practice, a key that differs.
		sa.e.notifyPlainSA(sa, v1.AUTHENTICATION_FAILED)
		sa.fail(ike.Failf(ike.CauseAuthentication, "authentication of the peer failed: message 5 does not decrypt (wrong pre-shared key)"))
		return
	}
	id, _ := v1.Find[*v1.Identification](c.Payloads)
	if id == nil || !sa.hasAuth(c.Payloads) {
		return
	}
	want := sa.prf(sa.keys.SKEYID, sa.gxi, sa.gxr, cookies(sa.ckyI, sa.ckyR), sa.saiB, id.AppendBody(nil))
	if f := sa.checkPeerAuth(c.Payloads, *id, want, "HASH_I"); f.Failed() {
		if sa.signs() {
			sa.e.notifyPlainSA(sa, v1.AUTHENTICATION_FAILED)
		}
		sa.fail(f)
		return
	}
	if !sa.remoteIDOK(*id) {
		sa.fail(ike.Failf(ike.CauseAuthentication, "peer identity %s is not the configured remote-identity", id))
		return
	}
	// After a NAT the initiator moved to port 4500 (RFC 3947 §4).
	sa.remote = from
	if to.IsValid() && to.Addr().IsValid() {
		sa.local = to
	}
	sa.iv = next
	mine := sa.localID()
	hashR := sa.prf(sa.keys.SKEYID, sa.gxr, sa.gxi, cookies(sa.ckyR, sa.ckyI), sa.saiB, mine.AppendBody(nil))
	ps, err := sa.authPayloads(&mine, hashR)
	if err != nil {
		sa.fail(ike.Failf(ike.CauseOther, "%v", err))
		return
	}
	b, err := sa.sealPhase1(ps)
	if err != nil {
		return
	}
	sa.remember(msg.Received, b)
	sa.send(b, false)
	sa.establish()
}

// sealPhase1 encrypts a Main Mode message on the phase 1 IV chain.
func (sa *isakmpSA) sealPhase1(ps []v1.Payload) ([]byte, error) {
	c, err := v1.BuildChain(ps)
	if err != nil {
		return nil, err
	}
	b, next, err := sa.sealChain(sa.header(v1.MainMode, 0, true), c, sa.iv)
	if err != nil {
		return nil, err
	}
	sa.iv = next
	return b, nil
}

// deriveKeys computes g^xy, SKEYID and its three keys, and keys the
// phase 1 cipher, whose first IV is hash(g^xi | g^xr).
func (sa *isakmpSA) deriveKeys() error {
	peerPub := sa.gxr
	if !sa.initiator {
		peerPub = sa.gxi
	}
	gxy, err := sa.kex.SharedSecret(peerPub)
	if err != nil {
		return fmt.Errorf("peer's key exchange value: %w", err)
	}
	defer clear(gxy)
	skeyid, err := keymat.SKEYIDPreShared(sa.chosen.Hash, sa.peer.PSK, sa.ni, sa.nr)
	if sa.signs() {
		skeyid, err = keymat.SKEYIDSignature(sa.chosen.Hash, sa.ni, sa.nr, gxy)
	}
	if err != nil {
		return err
	}
	if sa.keys, err = keymat.NewPhase1Keys(sa.chosen.Hash, skeyid, gxy, sa.ckyI, sa.ckyR); err != nil {
		return err
	}
	key, err := sa.keys.EncryptionKey(sa.chosen.Encryption)
	if err != nil {
		return err
	}
	defer key.Zero()
	if sa.cipher, err = newCBC(sa.chosen.Encryption, key, sa.chosen.Hash); err != nil {
		return err
	}
	sa.iv = sa.cipher.ivFrom(sa.gxi, sa.gxr)
	return nil
}

// establish marks phase 1 done.
func (sa *isakmpSA) establish() {
	sa.state, sa.established, sa.lastHeard = stateEstablished, sa.e.clock.Now(), sa.e.clock.Now()
	sa.e.log.Info("IKEv1 SA up", "gateway", sa.peer.Gateway, "peer", sa.remote.Addr(), "role", role(sa.initiator),
		"proposal", phase1Name(sa.chosen), "nat-t", sa.natT)
	sa.e.emit(ike.IKEUp, sa.peer, sa.remote.Addr(), sa.spis(), ike.Failure{})
	sa.takeOverChildren()
	if sa.state != stateEstablished {
		return // the duplicate of a simultaneous initiation, deleted
	}
	sa.armDPD()
	sa.phase1Timers()
	sa.startVPNsAsResponder() // vpns.go
}

func role(initiator bool) string {
	if initiator {
		return "initiator"
	}
	return "responder"
}

// localID is our identity: configured, or our address.
func (sa *isakmpSA) localID() v1.Identification {
	if id, ok := sa.certID(); ok {
		return id
	}
	if sa.peer.localID.Type != 0 {
		return sa.peer.localID
	}
	return v1.IDFromAddr(sa.peer.Local)
}

func (sa *isakmpSA) remoteIDOK(id v1.Identification) bool {
	if sa.signs() {
		return true // checkPeerAuth matched it against the certificate and remote-identity
	}
	want := sa.peer.remoteID
	return want.Type == 0 || want.Type == id.Type && bytes.Equal(want.Data, id.Data)
}

func cookies(a, b uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, a), b)
}

// NAT traversal (RFC 3947 §3.2): each side sends the hash of where it
// sends to, then of where it sends from; a mismatch on either means a NAT.

func (sa *isakmpSA) natHash(ap netip.AddrPort) []byte {
	h, err := sa.chosen.Hash.NewHash()
	if err != nil {
		return nil
	}
	h.Write(cookies(sa.ckyI, sa.ckyR))
	h.Write(ap.Addr().AsSlice())
	h.Write(binary.BigEndian.AppendUint16(nil, ap.Port()))
	return h.Sum(nil)
}

func (sa *isakmpSA) natDPayloads() []v1.Payload {
	if !sa.peer.NATTraversal || !sa.peerNATT {
		return nil
	}
	src := sa.natHash(sa.local)
	if sa.peer.ForceNAT {
		src = sa.natHash(netip.AddrPortFrom(sa.local.Addr(), 0)) // a value that cannot match: "behind a NAT"
	}
	return []v1.Payload{&v1.NATD{Data: sa.natHash(sa.remote)}, &v1.NATD{Data: src}}
}

// checkNAT reads the peer's NAT-D payloads.
func (sa *isakmpSA) checkNAT(ps []v1.Payload) {
	if !sa.peer.NATTraversal || !sa.peerNATT {
		return
	}
	var ds [][]byte
	for _, p := range ps {
		if d, ok := p.(*v1.NATD); ok {
			ds = append(ds, d.Data)
		}
	}
	if len(ds) < 2 {
		return
	}
	weBehind := !bytes.Equal(ds[0], sa.natHash(sa.local))
	peerBehind := true
	for _, d := range ds[1:] {
		if bytes.Equal(d, sa.natHash(sa.remote)) {
			peerBehind = false
		}
	}
	sa.natT = weBehind || peerBehind || sa.peer.ForceNAT
	if sa.natT {
		sa.e.log.Info("IKEv1 NAT detected: IKE moves to port 4500, ESP goes in UDP", "gateway", sa.peer.Gateway,
			"peer", sa.remote.Addr(), "local-behind-nat", weBehind, "peer-behind-nat", peerBehind, "forced", sa.peer.ForceNAT)
	}
}
