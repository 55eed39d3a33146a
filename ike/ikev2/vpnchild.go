package ikev2

import (
	"fmt"
	"net/netip"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// A VPN's Child SA on an IKE SA already up (vpns.go): the IKE SA's
// initiator asks for one for each VPN of the gateway kept up
// (establish-tunnels immediately) after IKE_AUTH made the first, and any
// IKE SA asks for the Child SA of such a VPN a commit adds. One exchange
// at a time (§2.3): a VPN waits while another exchange is out.
//
//	HDR, SK {SA, Ni, [KEi], TSi, TSr}  -->
//	                                   <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}

// InitiateVPNFrom brings up a VPN on the gateway of the peer at remote
// that runs from local: with no IKE SA to the peer, one whose IKE_AUTH
// makes the VPN's Child SA; with one up, a CREATE_CHILD_SA for it (unless
// it has one). ifIdle is establish-tunnels on-traffic: nothing while an
// IKE SA is being negotiated. A VPN alone on its gateway is InitiateFrom
// or InitiateFromIfIdle.
func (e *Engine) InitiateVPNFrom(local, remote netip.Addr, name string, ifIdle bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.peerFor(local, remote)
	if err != nil {
		return err
	}
	if e.closed {
		return fmt.Errorf("ikev2: engine closed")
	}
	v := p.vpnNamed(name)
	if v == nil {
		return fmt.Errorf("ikev2: no VPN %s on gateway %s", name, p.Gateway)
	}
	sas := e.sasOf(p)
	if len(p.vpns) == 1 && (!ifIdle || len(sas) == 0) {
		return e.initiate(p)
	}
	for _, sa := range sas {
		if sa.carries() { // rekeywindow.go: not the IKE SA a rekey replaced
			sa.want(v)
			sa.startVPNChildrenAsRole()
			return nil
		}
	}
	if len(sas) > 0 {
		return nil // negotiating: the kept-up VPNs follow IKE_AUTH, traffic asks again
	}
	return e.initiateVPN(p, v)
}

// childCreate is our CREATE_CHILD_SA for a VPN's new Child SA.
type childCreate struct {
	vpn      *vpn
	inSPI    uint32
	offer    []wire.Proposal
	ni       []byte
	kex      transform.KeyExchange
	tsi, tsr []wire.TrafficSelector
}

// vpnCreateRetry is how long a VPN's Child SA waits for another exchange
// to finish.
const vpnCreateRetry = time.Second

// responderVPNWait is how long the IKE SA's responder leaves the kept-up
// VPNs' Child SAs to the initiator before it asks for those still missing:
// both sides asking at once would make two Child SAs for one VPN.
const responderVPNWait = 3 * time.Second

// startVPNChildrenAsRole asks for the kept-up VPNs' Child SAs: at once on
// the IKE SA's initiator, after responderVPNWait on its responder.
func (sa *ikeSA) startVPNChildrenAsRole() {
	if sa.initiator {
		sa.startVPNChildren()
		return
	}
	if sa.vpnWithoutChild() == nil {
		return
	}
	sa.after(responderVPNWait, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		sa.startVPNChildren()
	})
}

// startVPNChildren asks for the Child SA of the next VPN kept up that has
// none on this IKE SA and was not asked for yet.
func (sa *ikeSA) startVPNChildren() {
	if !sa.carries() || sa.create != nil {
		return // rekeywindow.go: a replaced IKE SA's replacement asks
	}
	v := sa.vpnWithoutChild()
	if v == nil {
		return
	}
	if sa.pending != nil || sa.rekey != nil || sa.ikeRekey != nil || sa.followup != nil || sa.peerFollowup != nil {
		sa.after(vpnCreateRetry, func() {
			sa.e.mu.Lock()
			defer sa.e.mu.Unlock()
			sa.startVPNChildren()
		})
		return
	}
	if sa.tried == nil {
		sa.tried = map[string]bool{}
	}
	sa.tried[v.VPN] = true // once, until a want, a commit, a clear or createFailed's wait for a kept-up VPN asks again
	if err := sa.sendCreate(v); err != nil {
		sa.e.log.Warn("Child SA not requested", "vpn", v.VPN, "err", err)
		sa.startVPNChildren()
	}
}

// want has the IKE SA ask for v's Child SA (startVPNChildren) though v
// is not kept up, and again if it asked before, until one is up here.
//
// A want is met, and forgotten (installChild), as soon as a Child SA of
// the VPN comes up on this IKE SA, whoever asked for it (we, the peer, an
// IKE_AUTH). That is right for every caller: each wants the VPN up now,
// none for the IKE SA's life. Traffic (InitiateVPNFrom) asks again when
// it needs the VPN; a duplicate IKE SA's VPNs (dupvpns.go) and an
// initiation given up (abandoninit.go) only move, once, what was up or
// being asked for elsewhere. What keeps a VPN up is its configuration
// (vpn.Reinitiate), which vpnWithoutChild reads directly. A want left
// after it was met had the next bring-up on the IKE SA ask again for an
// on-traffic VPN cleared since (an idle timeout, an operator's clear),
// without traffic.
func (sa *ikeSA) want(v *vpn) {
	if sa.hasVPNChild(v.VPN) {
		return // met already: the peer's IKE_AUTH or CREATE_CHILD_SA made it
	}
	if sa.wanted == nil {
		sa.wanted = map[string]bool{}
	}
	sa.wanted[v.VPN] = true
	delete(sa.tried, v.VPN)
}

// vpnWithoutChild is the first VPN kept up without a Child SA here.
func (sa *ikeSA) vpnWithoutChild() *vpn {
	for _, v := range sa.peer.vpns {
		if !v.Reinitiate && !sa.wanted[v.VPN] || sa.tried[v.VPN] || sa.hasVPNChild(v.VPN) {
			continue
		}
		return v
	}
	return nil
}

func (sa *ikeSA) hasVPNChild(name string) bool {
	for _, c := range sa.children {
		if c.VPN == name {
			return true
		}
	}
	return false
}

// sendCreate sends the CREATE_CHILD_SA request for v's first traffic
// selectors, with its IPsec policy's proposals, PFS group and additional
// key exchanges.
func (sa *ikeSA) sendCreate(v *vpn) error {
	inSPI, err := sa.e.installer.AllocateSPI()
	if err != nil {
		return err
	}
	offer, err := ESPOffer(v.ESPProposals, v.PFSGroup, inSPI)
	if err != nil {
		return err
	}
	offer = withAddKE(offer, v.PFSAddKE) // followup.go: as a rekey offers them
	ni, err := sa.e.random(nonceSize)
	if err != nil {
		return err
	}
	policy := v.policy[0]
	r := &childCreate{vpn: v, inSPI: inSPI, offer: offer, ni: ni, tsi: policy.Local, tsr: policy.Remote}
	inner := []wire.Payload{&wire.SA{Proposals: offer}, &wire.Nonce{Data: ni}}
	if g := v.PFSGroup; g != nil {
		if r.kex, err = g.NewKeyExchange(sa.e.rand); err != nil {
			return err
		}
		inner = append(inner, &wire.KE{Group: g.ID, Data: r.kex.PublicKey()})
	}
	inner = append(inner, &wire.TSi{Selectors: r.tsi}, &wire.TSr{Selectors: r.tsr})
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.CREATE_CHILD_SA,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, inner)
	if err != nil {
		return err
	}
	sa.create = r
	sa.e.log.Info("requesting a Child SA", "gateway", sa.peer.Gateway, "vpn", v.VPN)
	sa.request(b, sa.nextID)
	return nil
}

// handleCreateResponse installs the VPN's Child SA the peer agreed to,
// then asks for the next VPN's.
func (sa *ikeSA) handleCreateResponse(ps []wire.Payload) {
	r := sa.create
	sa.create = nil
	defer sa.startVPNChildren()
	f, ok := sa.createAnswer(r, ps)
	switch {
	case ok:
		sa.passOnLateChildren() // rekeywindow.go: answered after a rekey replaced sa
	case sa.replacedBy != nil:
		// The replacement asks for the VPN (takeWants moved the want).
		sa.e.log.Info("Child SA not made on the IKE SA a rekey replaced", "gateway", sa.peer.Gateway, "vpn", r.vpn.VPN, "reason", f.Message)
	default:
		sa.createFailed(r, f)
	}
}

// createFailed records why our CREATE_CHILD_SA for r's VPN made no Child
// SA (the peer's error notify, a bad answer, its follow-ups undone) and,
// for a VPN kept up (establish-tunnels immediately), asks again on this
// IKE SA after ike.ReinitiateDelay, as a kept-up tunnel whose IKE_AUTH
// made no Child SA negotiates again (childFailed, auth.go): the VPN may
// have been moved here from a duplicate IKE SA (dupvpns.go) or an
// initiation given up (abandoninit.go), and the peer refuse while it
// still holds the Child SA of the IKE SA that went. An on-traffic VPN is
// asked for again by its traffic, a responder-only one only by the peer.
// A request the peer never answers fails the IKE SA itself (resend, in
// sa.go), and a kept-up tunnel is negotiated anew (reinitiateLater).
func (sa *ikeSA) createFailed(r *childCreate, f ike.Failure) {
	sa.failure = f
	sa.e.log.Warn("Child SA not established", "gateway", sa.peer.Gateway, "vpn", r.vpn.VPN, "reason", f.Message)
	sa.emitFor(r.vpn.VPN, ike.NegotiationFailed, sa.ikeSPIs(), f)
	if !r.vpn.Reinitiate {
		return
	}
	name := r.vpn.VPN
	sa.after(ike.ReinitiateDelay, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if v := sa.peer.vpnNamed(name); v != nil && v.Reinitiate && !sa.e.closed {
			delete(sa.tried, name)
			sa.startVPNChildren() // nothing if the IKE SA went, or the peer made one meanwhile
		}
	})
}

// createAnswer checks the answer to r and installs the Child SA; on
// false, the failure says why not.
func (sa *ikeSA) createAnswer(r *childCreate, ps []wire.Payload) (ike.Failure, bool) {
	if t, ok := errorNotify(ps); ok {
		return ike.Failf(notifyCause(t), "Child SA refused: %v", t).Received(uint16(t)), false
	}
	chosen, okSA := wire.Find[*wire.SA](ps)
	nr, okN := wire.Find[*wire.Nonce](ps)
	tsi, okI := wire.Find[*wire.TSi](ps)
	tsr, okR := wire.Find[*wire.TSr](ps)
	if !okSA || !okN || !okI || !okR {
		return ike.Failf(ike.CauseOther, "CREATE_CHILD_SA response lacks SA, nonce or traffic selectors"), false
	}
	sel, err := CheckESPChosen(r.offer, chosen.Proposals, wire.CREATE_CHILD_SA)
	if err == nil {
		err = CheckNarrowed(r.tsi, r.tsr, tsi.Selectors, tsr.Selectors)
	}
	if err != nil {
		return failureOf(err), false
	}
	var gir []byte
	if r.kex != nil {
		ke, ok := wire.Find[*wire.KE](ps)
		if !ok {
			return ike.Failf(ike.CauseOther, "CREATE_CHILD_SA response lacks the KE payload of the PFS group"), false
		}
		if gir, err = r.kex.SharedSecret(ke.Data); err != nil {
			return failureOf(err), false
		}
		defer clear(gir)
	}
	if sa.createFollowups(r, sel, ps, gir, nr.Data, tsi.Selectors, tsr.Selectors) { // vpnaddke.go
		return ike.Failure{}, true
	}
	if !sa.installChild(newChild{weInitiated: true, suite: sel.Suite, esn: sel.ESN, inSPI: r.inSPI, outSPI: sel.PeerSPI,
		tsi: tsi.Selectors, tsr: tsr.Selectors, gir: gir, pfs: sel.KE, ni: r.ni, nr: nr.Data, vpn: sa.peer.vpnNamed(r.vpn.VPN)}) {
		return sa.failure, false
	}
	sa.freshChild(sa.children[len(sa.children)-1], r.ni, nr.Data, true) // childdup.go
	return ike.Failure{}, true
}

// deleteChildren tells the peer the Child SAs of inbound SPIs spis are
// gone (they are out of the data plane already), when no other exchange
// is out; a few seconds' tries, then the peer's own lifetimes clean up.
func (sa *ikeSA) deleteChildren(spis []uint32, tries int) {
	if sa.state != stateEstablished || sa.closing {
		return
	}
	if sa.pending != nil {
		if tries < 30 {
			sa.after(vpnCreateRetry, func() {
				sa.e.mu.Lock()
				defer sa.e.mu.Unlock()
				sa.deleteChildren(spis, tries+1)
			})
		}
		return
	}
	msg := &wire.Message{Header: wire.Header{InitiatorSPI: sa.spiI, ResponderSPI: sa.spiR, Exchange: wire.INFORMATIONAL,
		Flags: sa.flags(), MessageID: sa.nextID}}
	b, err := sa.out.seal(msg, []wire.Payload{&wire.Delete{Protocol: wire.ProtocolESP, SPIs: spis}})
	if err != nil {
		return
	}
	sa.request(b, sa.nextID)
}
