package ikev1

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"ipsecgw/ike"
	v1 "ipsecgw/ike/wire/v1"
)

// Several VPNs on one gateway, the Junos policy-based norm: one ISAKMP SA
// to the peer, and a Quick Mode IPsec SA pair for each VPN, each with its
// VPN's IPsec proposals, PFS group, lifetimes and proxy identities. The
// engine's peer is the gateway's (its embedded ike.Peer is the first
// VPN's, whose IKE settings are the gateway's, so phase 1 runs as
// before); vpns, set once a second VPN joins, holds one peer per VPN for
// its Quick Modes. A Quick Mode knows its VPN (quickMode.vpn), an IPsec
// SA by name (ike.ChildSA.VPN), and a responder picks the VPN whose proxy
// identities hold the initiator's IDci and IDcr (fitting).

// vpnList is the peer's VPNs: vpns, or the peer itself when it carries
// one.
func (p *peer) vpnList() []*peer {
	if len(p.vpns) == 0 {
		return []*peer{p}
	}
	return p.vpns
}

// vpnNamed is the peer's VPN of that name, or nil.
func (p *peer) vpnNamed(name string) *peer {
	for _, v := range p.vpnList() {
		if v.VPN == name {
			return v
		}
	}
	return nil
}

// vpnOf is the VPN of an IPsec SA: its own, else (an SA of before it
// carried one) the gateway's first.
func (p *peer) vpnOf(c *ike.ChildSA) *peer {
	if c != nil {
		if v := p.vpnNamed(c.VPN); v != nil {
			return v
		}
	}
	return p.vpnList()[0]
}

// keepUp: a VPN on the gateway is kept up (establish-tunnels
// immediately), so an ISAKMP SA that ended is negotiated again.
func (p *peer) keepUp() bool {
	return slices.ContainsFunc(p.vpnList(), func(v *peer) bool { return v.Reinitiate })
}

// fitting is the VPN a peer's Quick Mode with identities idci (the
// initiator's traffic, remote to us) and idcr is for: the first, in
// configuration order, whose proxy identities hold them; nil when none
// does.
func (p *peer) fitting(idci, idcr *v1.Identification) *peer {
	for _, v := range p.vpnList() {
		if within(p2(idci), v.remoteTS) && within(p2(idcr), v.localTS) {
			return v
		}
	}
	return nil
}

// accepted names the proxy identities the peer's VPNs accept, for a
// refusal's reason.
func (p *peer) accepted() string {
	var s []string
	for _, v := range p.vpnList() {
		s = append(s, v.remoteTS.String()+" ↔ "+v.localTS.String())
	}
	return strings.Join(s, ", ")
}

// joinPeer puts the VPN of ep on the peer of its gateway when one is here
// with another VPN, and reports whether it did; a VPN alone on its
// gateway makes or replaces the peer as before. A VPN kept up gets its
// Quick Mode on the gateway's ISAKMP SAs that are up.
func (e *Engine) joinPeer(ep *peer) bool {
	o := e.peers[ep.Remote]
	if o == nil || o.Gateway != ep.Gateway || len(o.vpns) == 0 && o.VPN == ep.VPN {
		return false
	}
	if len(o.vpns) == 0 {
		first, err := newPeer(o.Peer)
		if err != nil {
			return false
		}
		o.vpns = []*peer{first}
	}
	if i := slices.IndexFunc(o.vpns, func(v *peer) bool { return v.VPN == ep.VPN }); i >= 0 {
		o.vpns[i] = ep
	} else {
		o.vpns = append(o.vpns, ep)
	}
	if ep.Reinitiate {
		for _, sa := range e.sasOf(o) {
			if sa.state == stateEstablished && !sa.closing {
				sa.startQuickModes()
			}
		}
	}
	return true
}

// dropVPN takes a VPN off the peer; when it was the first, the next one's
// settings are the gateway's from now on (the same IKE settings), in
// place, so that the ISAKMP SAs keep their peer.
func (p *peer) dropVPN(name string) {
	p.vpns = slices.DeleteFunc(p.vpns, func(v *peer) bool { return v.VPN == name })
	if len(p.vpns) == 0 || p.VPN != name {
		return
	}
	next, err := newPeer(p.vpns[0].Peer)
	if err != nil {
		return
	}
	next.vpns = p.vpns
	*p = *next
}

// RemoveVPNFrom takes one VPN off the gateway of the peer at remote that
// runs from local: its IPsec SAs are removed and a DELETE tells the peer;
// the ISAKMP SA and the other VPNs' IPsec SAs stay. The gateway's last
// VPN takes the peer with it (RemovePeerFrom).
func (e *Engine) RemoveVPNFrom(local, remote netip.Addr, name string) {
	if e.checkLocal(local, remote) != nil {
		return
	}
	e.mu.Lock()
	p := e.peers[remote]
	if p == nil || len(p.vpns) <= 1 || p.vpnNamed(name) == nil {
		e.mu.Unlock()
		e.RemovePeerFrom(local, remote)
		return
	}
	defer e.mu.Unlock()
	for _, sa := range e.sasOf(p) {
		sa.dropVPNChildren(name, "VPN removed from the gateway; deleting its IPsec SAs")
	}
	p.dropVPN(name)
}

// InitiateVPNFrom brings up a VPN on the gateway of the peer at remote
// that runs from local: with no ISAKMP SA to the peer, Main Mode and then
// the VPN's Quick Mode; with one up, the VPN's Quick Mode (unless it has
// its pair). ifIdle is establish-tunnels on-traffic: nothing while an
// ISAKMP SA is being negotiated. A VPN alone on its gateway is
// InitiateFrom or InitiateFromIfIdle.
func (e *Engine) InitiateVPNFrom(local, remote netip.Addr, name string, ifIdle bool) error {
	if err := e.checkLocal(local, remote); err != nil {
		return err
	}
	e.mu.Lock()
	p := e.peers[remote]
	if p == nil || len(p.vpns) == 0 {
		e.mu.Unlock()
		if ifIdle {
			return e.InitiateIfIdle(remote)
		}
		return e.Initiate(remote)
	}
	defer e.mu.Unlock()
	if e.closed {
		return fmt.Errorf("ikev1: engine closed")
	}
	v := p.vpnNamed(name)
	if v == nil {
		return fmt.Errorf("ikev1: no VPN %s on gateway %s", name, p.Gateway)
	}
	sas := e.sasOf(p)
	for _, sa := range sas {
		if sa.state == stateEstablished && !sa.closing {
			sa.want(v.VPN)
			sa.startQuickModes()
			return nil
		}
	}
	if len(sas) > 0 {
		for _, sa := range sas {
			sa.want(v.VPN) // its Quick Mode follows phase 1
		}
		return nil
	}
	if err := e.initiate(p); err != nil {
		return err
	}
	for _, sa := range e.sasOf(p) {
		sa.want(v.VPN)
	}
	return nil
}

// want marks a VPN whose Quick Mode the ISAKMP SA runs though the VPN is
// not kept up (on-traffic, or asked for).
func (sa *isakmpSA) want(name string) {
	if sa.wanted == nil {
		sa.wanted = map[string]bool{}
	}
	sa.wanted[name] = true
}

// startQuickModes starts, on an ISAKMP SA up, the Quick Mode of each VPN
// kept up or asked for that has neither an IPsec SA pair here nor a Quick
// Mode under way; with none such and no pair at all, the first VPN's (an
// ISAKMP SA is negotiated for a Quick Mode). A gateway of one VPN runs
// its Quick Mode when it has no pair, as it always has.
func (sa *isakmpSA) startQuickModes() {
	if sa.state != stateEstablished || sa.closing {
		return
	}
	p := sa.peer
	if len(p.vpns) == 0 {
		if len(sa.children) == 0 {
			sa.startQuickMode(nil)
		}
		return
	}
	started := false
	for _, v := range p.vpns {
		if !v.Reinitiate && !sa.wanted[v.VPN] || sa.hasVPN(v) {
			continue
		}
		sa.startQuickModeFor(v, nil)
		started = true
	}
	if !started && len(sa.children) == 0 && len(sa.qms) == 0 {
		sa.startQuickModeFor(p.vpns[0], nil)
	}
}

// hasVPN: the ISAKMP SA holds an IPsec SA pair of v, or a Quick Mode for
// one is under way.
func (sa *isakmpSA) hasVPN(v *peer) bool {
	for _, c := range sa.children {
		if sa.peer.vpnOf(c) == v {
			return true
		}
	}
	for _, qm := range sa.qms {
		if qm.vpn == v && (!qm.initiator || qm.lastReply == nil) {
			return true
		}
	}
	return false
}

// responderVPNWait is how long the ISAKMP SA's responder leaves the
// kept-up VPNs' Quick Modes to the initiator before it starts those still
// missing: both sides starting one would make two pairs for one VPN.
const responderVPNWait = 3 * time.Second

// startVPNsAsResponder is establish's hook: the responder of an ISAKMP SA
// of a gateway with several VPNs starts, after responderVPNWait, the
// Quick Modes of its kept-up VPNs the initiator did not.
func (sa *isakmpSA) startVPNsAsResponder() {
	if sa.initiator || len(sa.peer.vpns) == 0 || !sa.peer.keepUp() {
		return
	}
	sa.after(responderVPNWait, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		for _, v := range sa.peer.vpns {
			if v.Reinitiate && !sa.hasVPN(v) && sa.state == stateEstablished && !sa.closing {
				sa.startQuickModeFor(v, nil)
			}
		}
	})
}

// ClearVPN deletes the IPsec SAs of the named VPN on every ISAKMP SA (a
// DELETE tells the peer), as "clear security ipsec security-associations
// vpn V" does on a gateway several VPNs share: the ISAKMP SA and the
// other VPNs' pairs stay. A VPN kept up negotiates a new pair. It returns
// how many pairs it deleted.
func (e *Engine) ClearVPN(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, sa := range e.sas {
		if sa.state != stateEstablished || sa.closing {
			continue
		}
		n += sa.dropVPNChildren(name, "IPsec SAs of a VPN cleared")
		if v := sa.peer.vpnNamed(name); v != nil && v.Reinitiate && len(sa.peer.vpns) > 0 {
			sa.startQuickModeFor(v, nil)
		}
	}
	return n
}

// dropVPNChildren removes the IPsec SAs of the named VPN (and its Quick
// Modes under way) and tells the peer; it returns how many pairs.
func (sa *isakmpSA) dropVPNChildren(name, why string) int {
	n := 0
	for _, c := range slices.Clone(sa.children) {
		if sa.peer.vpnOf(c).VPN == name {
			sa.removeChild(c, true)
			n++
		}
	}
	for id, qm := range sa.qms {
		if qm.vpn != nil && qm.vpn.VPN == name {
			qm.stop()
			sa.unstage(qm)
			delete(sa.qms, id)
		}
	}
	delete(sa.wanted, name)
	if n > 0 {
		sa.e.log.Info(why, "gateway", sa.peer.Gateway, "vpn", name, "ipsec-sas", n)
	}
	return n
}
