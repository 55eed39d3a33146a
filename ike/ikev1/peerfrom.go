package ikev1

import (
	"fmt"
	"net/netip"
)

// The daemon names a peer by its local and remote address, as IKEv2 keys
// its peers (several IKEv2 gateways may share a remote address). IKEv1
// keeps one gateway per remote address, which the configuration enforces
// (config/schema: gatewayclash.go); these check that the peer at remote
// runs from local.

// InitiateFrom is Initiate for the peer at remote whose gateway runs from
// local.
func (e *Engine) InitiateFrom(local, remote netip.Addr) error {
	if err := e.checkLocal(local, remote); err != nil {
		return err
	}
	return e.Initiate(remote)
}

// InitiateFromIfIdle is InitiateIfIdle for the peer at remote whose
// gateway runs from local.
func (e *Engine) InitiateFromIfIdle(local, remote netip.Addr) error {
	if err := e.checkLocal(local, remote); err != nil {
		return err
	}
	return e.InitiateIfIdle(remote)
}

// RemovePeerFrom is RemovePeer for the peer at remote whose gateway runs
// from local.
func (e *Engine) RemovePeerFrom(local, remote netip.Addr) {
	if e.checkLocal(local, remote) == nil {
		e.RemovePeer(remote)
	}
}

func (e *Engine) checkLocal(local, remote netip.Addr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[remote]
	if p == nil {
		return fmt.Errorf("ikev1: no peer %s", remote)
	}
	if local.IsValid() && p.Local.Unmap() != local.Unmap() {
		return fmt.Errorf("ikev1: the peer %s runs from %s, not %s", remote, p.Local, local)
	}
	return nil
}
