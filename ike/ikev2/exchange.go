package ikev2

import (
	"errors"
	"net/netip"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// handleResponse matches a response to our outstanding request. Anything
// else (a stale or duplicate response, a forgery that does not decrypt) is
// dropped and the request keeps being retransmitted (§2.1, §2.21).
func (sa *ikeSA) handleResponse(msg *wire.Message, from, to netip.AddrPort) {
	if sa.pending == nil || msg.Header.MessageID != sa.pendingID {
		return
	}
	if sa.state == stateInitSent {
		if msg.Header.Exchange != wire.IKE_SA_INIT {
			return
		}
		sa.answered()
		sa.handleInitResponse(msg, from, to)
		return
	}
	ps, err := sa.open(msg)
	if errors.Is(err, errPartial) {
		return // a fragment; the rest of the message is to come
	}
	if err != nil {
		sa.e.drops.Unauthenticated.Add(1)
		sa.e.log.Info("IKE response does not decrypt; dropped", "peer", from, "err", err)
		return
	}
	sa.answered()
	sa.lastHeard = sa.e.clock.Now()
	sa.probing = false
	switch {
	case sa.state == stateAuthSent && msg.Header.Exchange == wire.IKE_AUTH:
		sa.handleAuthResponse(ps)
	case sa.state == stateIntermediateSent && msg.Header.Exchange == wire.IKE_INTERMEDIATE: // intermediate.go
		sa.handleIntermediateResponse(msg, ps)
	case msg.Header.Exchange == wire.IKE_FOLLOWUP_KE && sa.followup != nil: // followup.go
		sa.handleFollowupResponse(ps)
	case msg.Header.Exchange == wire.CREATE_CHILD_SA && sa.rekey != nil:
		sa.handleRekeyResponse(ps)
	case msg.Header.Exchange == wire.CREATE_CHILD_SA && sa.ikeRekey != nil:
		sa.handleIKERekeyResponse(ps)
	case msg.Header.Exchange == wire.CREATE_CHILD_SA && sa.create != nil: // vpnchild.go
		sa.handleCreateResponse(ps)
	case msg.Header.Exchange == wire.INFORMATIONAL:
		if sa.closing {
			sa.close()
		}
		if c := sa.deleting; c != nil {
			sa.deleting = nil
			sa.removeChild(c.OutboundSPI)
		}
	}
}

// handleRequest handles a request from the peer on an existing IKE SA.
func (sa *ikeSA) handleRequest(msg *wire.Message, from, to netip.AddrPort) {
	id := msg.Header.MessageID
	if sa.haveResp && id == sa.lastRespI {
		// A retransmitted request: the cached answer, nothing redone.
		sa.resendResponse(msg)
		return
	}
	sa.resumeCatchUp(msg) // export.go
	if id != sa.expectID || sa.out == nil {
		return
	}
	ps, err := sa.open(msg)
	if errors.Is(err, errPartial) {
		return // a fragment; the rest of the message is to come
	}
	if err != nil {
		sa.e.drops.Unauthenticated.Add(1)
		sa.e.log.Info("IKE request does not decrypt; dropped", "peer", from, "err", err)
		return
	}
	sa.lastHeard = sa.e.clock.Now()
	// Behind a NAT the peer's address or port may change; an
	// authenticated request tells us where it is now (§2.23).
	if sa.natT && from != sa.remote {
		sa.remote = from
		if to.IsValid() {
			sa.local = to
		}
	}
	switch {
	case msg.Header.Exchange == wire.IKE_AUTH && sa.state == stateInitReplied:
		sa.handleAuthRequest(id, ps)
	case msg.Header.Exchange == wire.IKE_INTERMEDIATE && sa.state == stateInitReplied: // intermediate.go
		sa.handleIntermediateRequest(id, msg, ps)
	case msg.Header.Exchange == wire.IKE_FOLLOWUP_KE && sa.state == stateEstablished: // followup.go
		sa.handleFollowupRequest(id, ps)
	case msg.Header.Exchange == wire.INFORMATIONAL && sa.state == stateEstablished:
		sa.handleInformational(id, ps)
	case msg.Header.Exchange == wire.CREATE_CHILD_SA && sa.state == stateEstablished:
		sa.handleCreateChild(id, ps)
	}
}

// Close sends a DELETE for every established IKE SA and removes them all:
// the daemon's shutdown (the answers are not waited for).
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for _, sa := range e.sas {
		if sa.state == stateEstablished {
			sa.sendDelete()
		}
		sa.close()
	}
}

// childByOutbound finds the Child SA whose outbound SPI is spi.
func (sa *ikeSA) childByOutbound(spi uint32) *ike.ChildSA {
	for _, c := range sa.children {
		if c.OutboundSPI == spi {
			return c
		}
	}
	return nil
}

// removeChild uninstalls the Child SA whose outbound SPI is spi.
func (sa *ikeSA) removeChild(outSPI uint32) *ike.ChildSA {
	for i, c := range sa.children {
		if c.OutboundSPI == outSPI {
			sa.e.installer.RemoveChild(c.VPN, c)
			sa.children = append(sa.children[:i], sa.children[i+1:]...)
			sa.e.lifetimes.Forget(c)
			sa.childDown(c, ike.Failure{}) // childdown.go
			return c
		}
	}
	return nil
}
