package ikev2

import (
	"bytes"
	"encoding/binary"
	"ipsecgw/ike"
	"math/rand/v2"
	"time"

	"ipsecgw/ike/keymat"

	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// Keeping an IKE SA alive: dead peer detection, Child SA rekeying before
// the lifetime runs out (make-before-break), and negotiating again after a
// failure when the tunnel is to stay up.

// startKeepalive arms DPD once the IKE SA is up.
func (sa *ikeSA) startKeepalive() {
	sa.lastHeard = sa.e.clock.Now()
	if sa.peer.DPDInterval > 0 {
		sa.armDPD()
	}
}

func (sa *ikeSA) armDPD() {
	t := sa.e.clock.AfterFunc(sa.peer.DPDInterval, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state != stateEstablished {
			return
		}
		if sa.pending == nil && sa.dpdDue() {
			sa.probe()
		}
		sa.armDPD()
	})
	sa.timers = append(sa.timers, t)
}

// dpdDue decides, once per DPD interval, whether to probe the peer, by the
// gateway's dead-peer-detection mode (ike.DPDDue).
func (sa *ikeSA) dpdDue() bool {
	quiet := sa.e.clock.Now().Sub(sa.lastHeard) >= sa.peer.DPDInterval
	tc, counted := sa.e.installer.(ike.TrafficCounter)
	var sent, received bool
	if counted && sa.peer.DPDMode != ike.DPDAlwaysSend {
		var in, out uint64
		for _, c := range sa.children {
			i, o := tc.ChildTraffic(c)
			in, out = in+i, out+o
		}
		sent, received = out != sa.dpdOut, in != sa.dpdIn
		sa.dpdIn, sa.dpdOut = in, out
	}
	return ike.DPDDue(sa.peer.DPDMode, quiet, counted, sent, received)
}

// probe sends a liveness check: an empty INFORMATIONAL request (§1.4),
// retransmitted every DPD interval up to the threshold.
func (sa *ikeSA) probe() {
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, nil)
	if err != nil {
		return
	}
	threshold := sa.peer.DPDThreshold
	if threshold <= 0 {
		threshold = 5
	}
	sa.probing = true
	sa.requestEvery(b, sa.nextID, sa.peer.DPDInterval, threshold)
}

// childTimers schedules the rekey of a new Child SA at its soft lifetime
// and its removal at the hard one. The soft lifetime is 85-90 % of the
// hard one on the IKE SA's initiator and 90-95 % on the responder, so the
// two sides seldom rekey at once (RFC 7296 §2.8.1's collisions).
func (sa *ikeSA) childTimers(c *ike.ChildSA) {
	life := sa.peer.ChildLifetime
	if life <= 0 {
		return
	}
	lo := 0.85
	if !sa.initiator {
		lo = 0.90
	}
	soft := time.Duration(float64(life) * (lo + 0.05*rand.Float64()))
	// Lifetimes run from the Child SA's birth, also when a rekeyed IKE SA
	// takes it over.
	age := sa.e.clock.Now().Sub(c.Born)
	soft, life = max(soft-age, 0), max(life-age, 0)
	sa.timers = append(sa.timers,
		sa.e.clock.AfterFunc(soft, func() {
			sa.e.mu.Lock()
			defer sa.e.mu.Unlock()
			if sa.state == stateEstablished && sa.hasChild(c) && !sa.peer.NoRekey {
				sa.startRekey(c)
			}
		}),
		sa.e.clock.AfterFunc(life, func() {
			sa.e.mu.Lock()
			defer sa.e.mu.Unlock()
			if sa.hasChild(c) {
				sa.e.log.Warn("Child SA hard lifetime reached without a rekey; removed", "vpn", sa.peer.VPN, "in", spiHex(c.InboundSPI))
				sa.removeChild(c.OutboundSPI)
			}
		}))
}

func (sa *ikeSA) hasChild(c *ike.ChildSA) bool {
	for _, x := range sa.children {
		if x == c {
			return true
		}
	}
	return false
}

// childRekey is our CREATE_CHILD_SA rekeying old.
type childRekey struct {
	old   *ike.ChildSA
	inSPI uint32
	offer []wire.Proposal
	ni    []byte
	kex   transform.KeyExchange
	tsi   []wire.TrafficSelector
	tsr   []wire.TrafficSelector
	// collided is set when the peer rekeyed old too while ours was in
	// flight (§2.8.1): its exchange's nonces and the Child SA it made.
	collided *collision
}

// collision is the peer's half of a simultaneous Child SA rekey.
type collision struct {
	ni, nr []byte       // the peer's exchange: its Ni, our Nr
	child  *ike.ChildSA // the Child SA that exchange created
}

// ourRekeyRedundant applies RFC 7296 §2.8.1 to a collision: of the two new
// Child SAs the one created with the lowest of the four nonces is closed by
// the side that created it. It reports whether that is the one our
// exchange (nonces ni, nr) created.
func ourRekeyRedundant(ni, nr []byte, c *collision) bool {
	lowest := func(a, b []byte) []byte {
		if bytes.Compare(a, b) < 0 {
			return a
		}
		return b
	}
	return bytes.Compare(lowest(ni, nr), lowest(c.ni, c.nr)) < 0
}

// startRekey sends CREATE_CHILD_SA with REKEY_SA for c (§1.3.3).
func (sa *ikeSA) startRekey(c *ike.ChildSA) {
	if sa.pending != nil {
		// One exchange at a time: try again shortly.
		sa.timers = append(sa.timers, sa.e.clock.AfterFunc(time.Second, func() {
			sa.e.mu.Lock()
			defer sa.e.mu.Unlock()
			if sa.state == stateEstablished && sa.hasChild(c) {
				sa.startRekey(c)
			}
		}))
		return
	}
	inSPI, err := sa.e.installer.AllocateSPI()
	if err != nil {
		return
	}
	offer, err := ESPOffer(sa.peer.ESPProposals, sa.peer.PFSGroup, inSPI)
	if err != nil {
		return
	}
	ni, err := sa.e.random(nonceSize)
	if err != nil {
		return
	}
	r := &childRekey{old: c, inSPI: inSPI, offer: offer, ni: ni}
	for _, p := range c.LocalTS {
		r.tsi = append(r.tsi, PrefixSelector(p))
	}
	for _, p := range c.RemoteTS {
		r.tsr = append(r.tsr, PrefixSelector(p))
	}
	inner := []wire.Payload{&wire.Notify{Protocol: wire.ProtocolESP, SPI: spiBytes(c.InboundSPI), Type: wire.REKEY_SA},
		&wire.SA{Proposals: offer}, &wire.Nonce{Data: ni}}
	if g := sa.peer.PFSGroup; g != nil {
		if r.kex, err = g.NewKeyExchange(sa.e.rand); err != nil {
			return
		}
		inner = append(inner, &wire.KE{Group: g.ID, Data: r.kex.PublicKey()})
	}
	inner = append(inner, &wire.TSi{Selectors: r.tsi}, &wire.TSr{Selectors: r.tsr})
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.CREATE_CHILD_SA,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, inner)
	if err != nil {
		return
	}
	sa.rekey = r
	sa.e.log.Info("rekeying Child SA", "vpn", sa.peer.VPN, "old-in", spiHex(c.InboundSPI))
	sa.request(b, sa.nextID)
}

// handleRekeyResponse installs the new Child SA, then deletes the old one
// (make-before-break: the old SA keeps receiving until the DELETE).
func (sa *ikeSA) handleRekeyResponse(ps []wire.Payload) {
	r := sa.rekey
	sa.rekey = nil
	if t, ok := errorNotify(ps); ok {
		sa.e.log.Warn("Child SA rekey refused; the old SA stays until its hard lifetime", "vpn", sa.peer.VPN, "reason", t)
		return
	}
	chosen, okSA := wire.Find[*wire.SA](ps)
	nr, okN := wire.Find[*wire.Nonce](ps)
	tsi, okI := wire.Find[*wire.TSi](ps)
	tsr, okR := wire.Find[*wire.TSr](ps)
	if !okSA || !okN || !okI || !okR {
		sa.e.log.Warn("Child SA rekey answer incomplete", "vpn", sa.peer.VPN)
		return
	}
	sel, err := CheckESPChosen(r.offer, chosen.Proposals, wire.CREATE_CHILD_SA)
	if err != nil {
		sa.e.log.Warn("Child SA rekey answer refused", "vpn", sa.peer.VPN, "err", err)
		return
	}
	var gir []byte
	if r.kex != nil {
		ke, ok := wire.Find[*wire.KE](ps)
		if !ok {
			return
		}
		if gir, err = r.kex.SharedSecret(ke.Data); err != nil {
			return
		}
		defer clear(gir)
	}
	if !sa.installChild(true, sel.Suite, sel.ESN, r.inSPI, sel.PeerSPI, tsi.Selectors, tsr.Selectors, gir, r.ni, nr.Data) {
		return
	}
	sa.emit(ike.ChildRekeyed, spiHex(r.inSPI), ike.Failure{})
	// Make-before-break: delete the SA replaced, or, when the peer rekeyed
	// it at the same time and our new SA is the redundant one, ours (the
	// peer then deletes the replaced SA).
	gone := r.old
	if r.collided != nil {
		if ourRekeyRedundant(r.ni, nr.Data, r.collided) {
			gone = sa.children[len(sa.children)-1]
			sa.e.log.Info("simultaneous Child SA rekey: ours is redundant; deleting it", "vpn", sa.peer.VPN, "in", spiHex(gone.InboundSPI))
		} else {
			sa.e.log.Info("simultaneous Child SA rekey: the peer's is redundant; it deletes it", "vpn", sa.peer.VPN,
				"peer-created", spiHex(r.collided.child.InboundSPI))
		}
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, []wire.Payload{&wire.Delete{Protocol: wire.ProtocolESP, SPIs: []uint32{gone.InboundSPI}}})
	if err != nil {
		return
	}
	sa.deleting = gone
	sa.request(b, sa.nextID)
}

// reinitiateLater negotiates a kept-up tunnel again after its IKE SA ended,
// unless another IKE SA to the peer is up (a rekeyed one) or the engine is
// shutting down.
func (e *Engine) reinitiateLater(sa *ikeSA) {
	if e.closed || !sa.peer.Reinitiate || sa.closing {
		return
	}
	p := sa.peer
	e.clock.AfterFunc(ike.ReinitiateDelay, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			return
		}
		for _, o := range e.sas {
			if o.peer == p && o.state != stateDead {
				return
			}
		}
		e.log.Info("negotiating the tunnel again", "gateway", p.Gateway)
		if err := e.initiate(p); err != nil {
			e.log.Warn("re-initiation", "gateway", p.Gateway, "err", err)
		}
	})
}

// ikeTimers rekeys the IKE SA before its lifetime ends: the original
// initiator at 85-90 %, the responder only at 95-98 % (should the
// initiator not), which keeps simultaneous rekeys rare.
func (sa *ikeSA) ikeTimers() {
	life := sa.peer.IKELifetime
	if life <= 0 || sa.peer.NoRekey {
		return
	}
	lo, span := 0.85, 0.05
	if !sa.initiator {
		lo, span = 0.95, 0.03
	}
	soft := time.Duration(float64(life) * (lo + span*rand.Float64()))
	sa.timers = append(sa.timers, sa.e.clock.AfterFunc(soft, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state == stateEstablished {
			sa.startIKERekey()
		}
	}))
}

// ikeRekey is our CREATE_CHILD_SA rekeying the IKE SA (§1.3.2).
type ikeRekey struct {
	spi   uint64
	offer []wire.Proposal
	kex   transform.KeyExchange
	group *transform.Transform
	ni    []byte
}

func (sa *ikeSA) startIKERekey() {
	if sa.pending != nil || sa.rekey != nil || sa.ikeRekey != nil {
		sa.timers = append(sa.timers, sa.e.clock.AfterFunc(time.Second, func() {
			sa.e.mu.Lock()
			defer sa.e.mu.Unlock()
			if sa.state == stateEstablished {
				sa.startIKERekey()
			}
		}))
		return
	}
	spi, err := sa.e.newSPI()
	if err != nil {
		return
	}
	offer := make([]wire.Proposal, len(sa.peer.ikeOffer))
	for i, p := range sa.peer.ikeOffer {
		p.SPI = binary.BigEndian.AppendUint64(nil, spi)
		offer[i] = p
	}
	group, err := firstGroup(offer)
	if err != nil {
		return
	}
	kex, err := group.NewKeyExchange(sa.e.rand)
	if err != nil {
		return
	}
	ni, err := sa.e.random(nonceSize)
	if err != nil {
		return
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.CREATE_CHILD_SA,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, []wire.Payload{&wire.SA{Proposals: offer}, &wire.Nonce{Data: ni}, &wire.KE{Group: group.ID, Data: kex.PublicKey()}})
	if err != nil {
		return
	}
	sa.ikeRekey = &ikeRekey{spi: spi, offer: offer, kex: kex, group: group, ni: ni}
	sa.e.sas[spi] = sa // reserve the SPI until the new SA takes it
	sa.e.log.Info("rekeying IKE SA", "gateway", sa.peer.Gateway)
	sa.request(b, sa.nextID)
}

// handleIKERekeyResponse makes the new IKE SA, moves the Child SAs to it
// and deletes the old one.
func (sa *ikeSA) handleIKERekeyResponse(ps []wire.Payload) {
	r := sa.ikeRekey
	sa.ikeRekey = nil
	delete(sa.e.sas, r.spi)
	if t, ok := errorNotify(ps); ok {
		sa.e.log.Warn("IKE SA rekey refused", "gateway", sa.peer.Gateway, "reason", t)
		return
	}
	chosen, okSA := wire.Find[*wire.SA](ps)
	nr, okN := wire.Find[*wire.Nonce](ps)
	ke, okKE := wire.Find[*wire.KE](ps)
	if !okSA || !okN || !okKE {
		return
	}
	sel, err := CheckIKEChosen(r.offer, chosen.Proposals)
	if err != nil || len(sel.PeerSPI) != 8 || ke.Group != r.group.ID {
		sa.e.log.Warn("IKE SA rekey answer refused", "gateway", sa.peer.Gateway, "err", err)
		return
	}
	gir, err := r.kex.SharedSecret(ke.Data)
	if err != nil {
		return
	}
	defer clear(gir)
	n := &ikeSA{e: sa.e, peer: sa.peer, initiator: true, spiI: r.spi, spiR: binary.BigEndian.Uint64(sel.PeerSPI),
		local: sa.local, remote: sa.remote, natT: sa.natT, ni: r.ni, nr: append([]byte(nil), nr.Data...),
		group: r.group, suite: sel.Suite, state: stateEstablished, established: sa.e.clock.Now()}
	skeyseed, err := keymat.RekeySKEYSEED(sa.suite.PRF, sa.keys.D, gir, n.ni, n.nr)
	if err != nil || n.keysFromSKEYSEED(skeyseed) != nil {
		return
	}
	sa.handOver(n)
	sa.e.sas[r.spi] = n
	sa.e.track(n)
	sa.e.log.Info("IKE SA rekeyed", "gateway", sa.peer.Gateway)
	n.emit(ike.IKERekeyed, n.ikeSPIs(), ike.Failure{})
	sa.sendDelete()
}

// handOver moves the Child SAs to the IKE SA that replaces this one and
// starts the new SA's timers.
func (sa *ikeSA) handOver(n *ikeSA) {
	n.children, sa.children = sa.children, nil
	n.startKeepalive()
	n.ikeTimers()
	for _, c := range n.children {
		n.childTimers(c)
	}
}

// forgetInit lets go of the raw IKE_SA_INIT messages once both AUTH
// payloads are done with them: with 100,000 tunnels they are a good part
// of an SA's memory.
func (sa *ikeSA) forgetInit() { sa.initReq, sa.initResp = nil, nil }
