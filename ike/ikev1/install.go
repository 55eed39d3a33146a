package ikev1

import (
	"fmt"
	"net/netip"
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
)

// Installing a Quick Mode's pair, and the responder's window.
//
// The Quick Mode initiator installs its pair when message 2 checks out and
// sends on it at once (strongSwan replaces its outbound SA as soon as it
// has sent message 3). The responder learns that the initiator has the
// pair only from message 3, so a responder that installs both directions
// then drops what the initiator sent in between, on an SPI it does not
// have yet. With an installer that can install one direction at a time
// (ike.StagedInstaller), the responder installs its inbound SA when it sends
// message 2, when the keys are known, and the outbound one with message 3;
// the initiator its inbound SA before it sends message 3 and the outbound
// one after. Nothing is lost then, whichever side sends first. With an
// installer that cannot, each side installs its pair in one go: the
// initiator just after message 3, the responder with message 3.

// newChild derives a Quick Mode's keys (one KEYMAT per SPI) and describes
// the pair; unset selectors are the peer's configured ones.
func (sa *isakmpSA) newChild(qm *quickMode, local, remote netip.Prefix) (*ike.ChildSA, error) {
	suite := keymat.ChildSuite{Encryption: qm.suite.Encryption, Integrity: qm.suite.Integrity}
	in, err := sa.keys.Phase2Keys(suite, keymat.ProtocolESP, qm.inSPI, qm.gqm, qm.ni, qm.nr)
	if err != nil {
		return nil, fmt.Errorf("Quick Mode keys: %w", err)
	}
	out, err := sa.keys.Phase2Keys(suite, keymat.ProtocolESP, qm.peerSPI, qm.gqm, qm.ni, qm.nr)
	if err != nil {
		return nil, fmt.Errorf("Quick Mode keys: %w", err)
	}
	clear(qm.gqm)
	if !local.IsValid() {
		local = qm.vpn.localTS
	}
	if !remote.IsValid() {
		remote = qm.vpn.remoteTS
	}
	c := &ike.ChildSA{InboundSPI: qm.inSPI, OutboundSPI: qm.peerSPI, Encryption: qm.suite.Encryption, Integrity: qm.suite.Integrity,
		Inbound: in, Outbound: out, Local: sa.local.Addr(), Remote: sa.remote.Addr(), LocalPort: sa.local.Port(), RemotePort: sa.remote.Port(),
		UDPEncapsulation: sa.natT || qm.suite.UDP, LocalTS: []netip.Prefix{local}, RemoteTS: []netip.Prefix{remote}}
	c.SoftBytes, c.HardBytes = byteLifetimes(qm.suite.LifeKilobytes, qm.vpn.ChildLifeKilobytes, qm.initiator)
	c.VPN = qm.vpn.VPN // vpns.go
	if g := qm.suite.Group; g != nil {
		c.PFSGroup = int(g.ID) // the Quick Mode's KE (PFS), for show
	}
	return c, nil
}

// stageInbound puts the pair's inbound SA in, when the installer can do
// that alone: the responder's step with message 2, the initiator's before
// message 3. A failure leaves the whole pair to installPair.
func (sa *isakmpSA) stageInbound(qm *quickMode, local, remote netip.Prefix) {
	si, ok := sa.e.installer.(ike.StagedInstaller)
	if !ok {
		return
	}
	c, err := sa.newChild(qm, local, remote)
	if err != nil {
		sa.e.log.Error("IPsec SA install", "vpn", qm.vpn.VPN, "err", err)
		return
	}
	if err := si.InstallInbound(qm.vpn.VPN, c); err != nil {
		sa.e.log.Error("inbound IPsec SA install", "vpn", qm.vpn.VPN, "err", err)
		return
	}
	qm.staged = c
}

// unstage removes the inbound SA of a Quick Mode that never completed.
func (sa *isakmpSA) unstage(qm *quickMode) {
	if qm.staged != nil {
		sa.e.installer.RemoveChild(qm.vpn.VPN, qm.staged)
		qm.staged = nil
	}
}

// installPair puts a completed Quick Mode's pair in: the outbound SA of a
// staged one, or both directions.
func (sa *isakmpSA) installPair(qm *quickMode, local, remote netip.Prefix) (*ike.ChildSA, error) {
	if c := qm.staged; c != nil {
		qm.staged = nil
		si := sa.e.installer.(ike.StagedInstaller)
		if qm.initiator && qm.rekeyOf != nil {
			// A rekey we initiated: the old pair still carries our traffic
			// while the responder handles message 3 (strongSwan installs
			// its pair then), so nothing we send is dropped there.
			sa.e.clock.AfterFunc(outboundSwitchDelay, func() {
				sa.e.mu.Lock()
				defer sa.e.mu.Unlock()
				if sa.e.ownerOf(c) != nil {
					if err := si.InstallOutbound(qm.vpn.VPN, c); err != nil {
						sa.e.log.Error("outbound IPsec SA install", "vpn", qm.vpn.VPN, "err", err)
					}
				}
			})
			return c, nil
		}
		if err := si.InstallOutbound(qm.vpn.VPN, c); err != nil {
			sa.e.installer.RemoveChild(qm.vpn.VPN, c)
			return nil, err
		}
		return c, nil
	}
	c, err := sa.newChild(qm, local, remote)
	if err != nil {
		return nil, err
	}
	if err := sa.e.installer.InstallChild(qm.vpn.VPN, c); err != nil {
		return nil, err
	}
	return c, nil
}

// outboundSwitchDelay is how long a rekey we initiated keeps sending on the
// old pair after message 3; the old pair is deleted a second after the
// new one is in, so the two overlap.
const outboundSwitchDelay = 200 * time.Millisecond
