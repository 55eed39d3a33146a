package ikev2

import (
	"fmt"
	"net/netip"
	"slices"
)

// The configured peers, found by the local address IKE runs from and the
// remote one. Several gateways may share a remote address when their
// local addresses differ (two uplinks, or the virtual IPs of two services
// redundancy groups active on one node): a request is taken by the peer
// of the local address it came to. The configuration refuses two
// gateways of one IKE version with the same local and remote address
// (config/schema: gatewayclash.go), so a key names one peer.

// peerKey is where a peer's IKE runs: our address and one of the peer's.
type peerKey struct{ local, remote netip.Addr }

func peerKeyOf(local, remote netip.Addr) peerKey { return peerKey{local.Unmap(), remote.Unmap()} }

// addPeerKeys enters a peer under each of its remote addresses; a peer of
// the same gateway entered before is replaced.
func (e *Engine) addPeerKeys(ep *peer) {
	for _, a := range ep.Addresses() {
		k := peerKeyOf(ep.Local, a)
		list := slices.DeleteFunc(e.peers[k], func(o *peer) bool { return o.Gateway == ep.Gateway })
		e.peers[k] = append(list, ep)
	}
}

// removePeerKeys takes a peer out of the map.
func (e *Engine) removePeerKeys(ep *peer) {
	for _, a := range ep.Addresses() {
		k := peerKeyOf(ep.Local, a)
		list := slices.DeleteFunc(e.peers[k], func(o *peer) bool { return o == ep })
		if len(list) == 0 {
			delete(e.peers, k)
		} else {
			e.peers[k] = list
		}
	}
}

// peersAt lists the peers at remote reached from local; an invalid local
// is any of ours.
func (e *Engine) peersAt(local, remote netip.Addr) []*peer {
	if local.IsValid() {
		return e.peers[peerKeyOf(local, remote)]
	}
	var out []*peer
	remote = remote.Unmap()
	for k, list := range e.peers {
		if k.remote == remote {
			out = append(out, list...)
		}
	}
	return out
}

// peerFor is the peer an operation names by address (Initiate, RemovePeer):
// the only one there. An invalid local is any: enough while one gateway
// has the remote address, an error when several do.
func (e *Engine) peerFor(local, remote netip.Addr) (*peer, error) {
	ps := e.peersAt(local, remote)
	switch {
	case len(ps) == 1:
		return ps[0], nil
	case len(ps) == 0 && local.IsValid():
		return nil, fmt.Errorf("ikev2: no peer %s from %s", remote, local)
	case len(ps) == 0:
		return nil, fmt.Errorf("ikev2: no peer %s", remote)
	}
	return nil, fmt.Errorf("ikev2: %d gateways to %s; name the local address", len(ps), remote)
}

// peerOfInit is the peer whose gateway answers an IKE_SA_INIT that came
// from `from` to `to`: the one of the local address it came to, else the
// only one at the remote address (a message that came to an address we do
// not initiate from, as before peers had local addresses).
func (e *Engine) peerOfInit(from, to netip.AddrPort) *peer {
	if ps := e.peers[peerKeyOf(to.Addr(), from.Addr())]; len(ps) > 0 {
		return ps[0]
	}
	if ps := e.peersAt(netip.Addr{}, from.Addr()); len(ps) == 1 {
		return ps[0]
	}
	return nil
}

// peerOfGateway is the peer of the named gateway at remote (an imported
// SA's, export.go), or nil.
func (e *Engine) peerOfGateway(remote netip.Addr, gateway string) *peer {
	for _, p := range e.peersAt(netip.Addr{}, remote) {
		if p.Gateway == gateway {
			return p
		}
	}
	return nil
}
