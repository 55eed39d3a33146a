package ikev2

import (
	"net/netip"
	"slices"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// Several VPNs on one gateway, as Junos allows: one IKE SA to the peer
// carries a Child SA (pair) for each VPN, each with its VPN's IPsec
// proposals, PFS, lifetimes, traffic selectors and establish-tunnels
// setting. The peer is the gateway's: its embedded ike.Peer (the first
// VPN's, all of whose IKE settings are the gateway's) drives the IKE SA;
// its vpns drive the Child SAs. A Child SA knows its VPN by name
// (ike.ChildSA.VPN), and a responder tells which VPN a new Child SA is
// for by the traffic selectors the initiator proposes.

// vpn is one VPN on the peer's gateway and its traffic selectors in wire
// form (nil in the configuration: the route-based default, both
// families' whole space).
type vpn struct {
	*ike.Peer
	policy []Selectors
}

func newVPN(p *ike.Peer) *vpn {
	v := &vpn{Peer: p}
	for _, s := range p.Selectors {
		v.policy = append(v.policy, Selectors{Local: prefixSelectors(s.Local), Remote: prefixSelectors(s.Remote)})
	}
	if len(v.policy) == 0 {
		all := []netip.Prefix{anyIPv4, anyIPv6}
		v.policy = []Selectors{{Local: prefixSelectors(all), Remote: prefixSelectors(all)}}
	}
	return v
}

// vpnNamed is the peer's VPN of that name, or nil (configured away).
func (p *peer) vpnNamed(name string) *vpn {
	for _, v := range p.vpns {
		if v.VPN == name {
			return v
		}
	}
	return nil
}

// vpnOf is the VPN of a Child SA, nil when it was configured away.
func (p *peer) vpnOf(c *ike.ChildSA) *vpn { return p.vpnNamed(c.VPN) }

// firstVPN is the VPN whose Child SA IKE_AUTH negotiates: the first one
// kept up (establish-tunnels immediately), else the first.
func (p *peer) firstVPN() *vpn {
	for _, v := range p.vpns {
		if v.Reinitiate {
			return v
		}
	}
	return p.vpns[0]
}

// initiatedVPN is the VPN whose Child SA our IKE_AUTH negotiates: the
// one the initiation is for (InitiateVPNFrom) unless configured away
// since, else the gateway's first.
func (sa *ikeSA) initiatedVPN() *vpn {
	if v := sa.hs.vpn; v != nil && sa.peer.vpnNamed(v.VPN) != nil {
		return v
	}
	return sa.peer.firstVPN()
}

// keepUp: a VPN on the gateway is kept up, so a failed or ended IKE SA is
// negotiated again.
func (p *peer) keepUp() bool {
	return slices.ContainsFunc(p.vpns, func(v *vpn) bool { return v.Reinitiate })
}

// narrow is the responder's choice of VPN for a new Child SA: Narrow over
// the traffic selectors of every VPN on the gateway, in configuration
// order, so the first VPN that accepts the triggering packet's selectors
// wins, as Narrow's first policy entry does within one VPN. Nothing in
// common with any VPN is ErrTSUnacceptable.
func (p *peer) narrow(tsi, tsr []wire.TrafficSelector) (*vpn, Narrowed, error) {
	var all []Selectors
	var owner []*vpn
	for _, v := range p.vpns {
		all = append(all, v.policy...)
		for range v.policy {
			owner = append(owner, v)
		}
	}
	n, err := Narrow(tsi, tsr, all)
	if err != nil {
		return nil, Narrowed{}, err
	}
	return owner[n.Policy], n, nil
}

// addVPN puts a VPN on the peer, replacing one of the same name; the
// gateway's settings stay the first VPN's.
func (p *peer) addVPN(v *vpn) {
	if i := slices.IndexFunc(p.vpns, func(o *vpn) bool { return o.VPN == v.VPN }); i >= 0 {
		p.vpns[i] = v
		return
	}
	p.vpns = append(p.vpns, v)
}

// dropVPN takes a VPN off the peer; the next one's settings drive the IKE
// SA from now on (the gateway's, as before).
func (p *peer) dropVPN(name string) {
	p.vpns = slices.DeleteFunc(p.vpns, func(v *vpn) bool { return v.VPN == name })
	if len(p.vpns) > 0 && p.VPN == name {
		p.Peer = p.vpns[0].Peer
	}
}

// childVPN is the VPN of a Child SA the peer asks for, and the selectors
// the answer narrows to: a rekey keeps old's VPN (and its selectors
// narrowed as before); a new Child SA takes the VPN its selectors fit.
func (sa *ikeSA) childVPN(old *ike.ChildSA, tsi, tsr []wire.TrafficSelector) (*vpn, Narrowed, error) {
	if old == nil {
		return sa.peer.narrow(tsi, tsr)
	}
	v := sa.peer.vpnOf(old)
	if v == nil {
		return nil, Narrowed{}, tsError(tsi, tsr, nil, "the Child SA's VPN was removed from the configuration")
	}
	n, err := Narrow(tsi, tsr, v.policy)
	return v, n, err
}

// joinPeer puts a VPN on the peer of its gateway when one is here with
// other VPNs, and reports whether it did; a VPN alone on its gateway, or
// the only VPN of a peer, makes or replaces the peer as before. A VPN kept
// up (establish-tunnels immediately) gets its Child SA on the gateway's
// IKE SAs that are up.
func (e *Engine) joinPeer(ep *peer) bool {
	var o *peer
	for _, p := range e.peers[peerKeyOf(ep.Local, ep.Remote)] {
		if p.Gateway == ep.Gateway {
			o = p
		}
	}
	if o == nil || len(o.vpns) == 1 && o.VPN == ep.VPN {
		return false
	}
	v := ep.vpns[0]
	o.addVPN(v)
	for _, sa := range e.sasOf(o) {
		delete(sa.tried, v.VPN)
		if sa.state == stateEstablished && v.Reinitiate {
			sa.startVPNChildrenAsRole() // vpnchild.go
		}
	}
	return true
}

// RemoveVPNFrom takes one VPN off the gateway of the peer at remote that
// runs from local: its Child SAs are removed from the data plane and a
// DELETE tells the peer; the IKE SA and the other VPNs' Child SAs stay.
// The gateway's last VPN takes the peer with it (RemovePeerFrom).
func (e *Engine) RemoveVPNFrom(local, remote netip.Addr, name string) {
	e.mu.Lock()
	p, err := e.peerFor(local, remote)
	if err != nil || len(p.vpns) <= 1 || p.vpnNamed(name) == nil {
		e.mu.Unlock()
		if err == nil {
			e.RemovePeerFrom(local, remote)
		}
		return
	}
	defer e.mu.Unlock()
	p.dropVPN(name)
	for _, sa := range e.sasOf(p) {
		sa.dropVPNChildren(name, "VPN removed from the gateway; deleting its Child SAs")
	}
}

// ClearVPN deletes the Child SAs of the named VPN on every IKE SA (a
// DELETE tells the peer), as "clear security ipsec security-associations
// vpn V" and vpn-monitor do on a gateway several VPNs share: the IKE SA
// and the other VPNs' Child SAs stay. A VPN kept up asks for a new one.
// It returns how many Child SAs it deleted.
func (e *Engine) ClearVPN(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for spi, sa := range e.sas {
		if spi != sa.localSPI() || sa.state == stateDead {
			continue
		}
		n += sa.dropVPNChildren(name, "Child SAs of a VPN cleared")
		delete(sa.tried, name)
		if v := sa.peer.vpnNamed(name); v != nil && v.Reinitiate {
			sa.startVPNChildren() // vpnchild.go: waits for the DELETE's answer
		}
	}
	return n
}

// dropVPNChildren removes the Child SAs of the named VPN from the data
// plane and tells the peer; it returns how many.
func (sa *ikeSA) dropVPNChildren(name, why string) int {
	var gone []uint32
	for _, c := range slices.Clone(sa.children) {
		if c.VPN == name {
			sa.removeChild(c.OutboundSPI)
			gone = append(gone, c.InboundSPI)
		}
	}
	if len(gone) > 0 && sa.state == stateEstablished {
		sa.e.log.Info(why, "gateway", sa.peer.Gateway, "vpn", name, "child-sas", len(gone))
		sa.deleteChildren(gone, 0)
	}
	return len(gone)
}
