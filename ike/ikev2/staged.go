package ikev2

import (
	"time"

	"ipsecgw/ike"
	"ipsecgw/ike/wire"
)

// Make-before-break on the responder of a Child SA rekey. The responder
// has its new pair before the initiator does (it installs, then answers),
// so were it to send on the new outbound SA at once, what it sent before
// the answer reached the initiator would find no inbound SA there and be
// lost. With an installer that installs the directions apart, it installs
// the new inbound SA only, keeps sending on the old pair, and puts the new
// outbound SA in when the initiator deletes the old one (by then the
// initiator receives on the new pair), or after stagedOutboundDelay should
// that DELETE not come.

// stagedOutboundDelay bounds how long a responder's new outbound SA waits
// for the initiator's DELETE of the SA it replaces.
const stagedOutboundDelay = 5 * time.Second

// stagedOut is a responder's new Child SA whose outbound SA waits.
type stagedOut struct {
	c     *ike.ChildSA
	owner *ikeSA // the IKE SA holding c (a rekeyed IKE SA takes it over)
	done  bool
}

// installPair installs c: both directions, or, for the responder of a
// rekey when the installer can, the inbound SA alone.
func (sa *ikeSA) installPair(c *ike.ChildSA, responderRekey bool) error {
	st, ok := sa.e.installer.(ike.StagedInstaller)
	if !responderRekey || !ok {
		return sa.e.installer.InstallChild(c.VPN, c)
	}
	if err := st.InstallInbound(c.VPN, c); err != nil {
		return err
	}
	s := &stagedOut{c: c, owner: sa}
	sa.staged = append(sa.staged, s)
	// Not one of sa.timers: the Child SA may outlive this IKE SA.
	sa.e.clock.AfterFunc(stagedOutboundDelay, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		s.owner.installStaged(s)
	})
	return nil
}

// installStaged puts a waiting outbound SA in, once, if its Child SA is
// still up.
func (sa *ikeSA) installStaged(s *stagedOut) {
	if s.done {
		return
	}
	s.done = true
	for i, x := range sa.staged {
		if x == s {
			sa.staged = append(sa.staged[:i], sa.staged[i+1:]...)
			break
		}
	}
	if sa.state == stateDead || !sa.hasChild(s.c) {
		return
	}
	if err := sa.e.installer.(ike.StagedInstaller).InstallOutbound(s.c.VPN, s.c); err != nil {
		sa.e.log.Error("Child SA outbound install", "vpn", s.c.VPN, "in", spiHex(s.c.InboundSPI), "err", err)
	}
}

// installStagedOnDelete puts the waiting outbound SAs in when the peer's
// request deletes Child SAs: the initiator of a rekey deletes the old SA
// once it has the new one.
func (sa *ikeSA) installStagedOnDelete(ps []wire.Payload) {
	for _, p := range ps {
		if d, ok := p.(*wire.Delete); ok && d.Protocol == wire.ProtocolESP {
			for len(sa.staged) > 0 {
				sa.installStaged(sa.staged[0])
			}
			return
		}
	}
}

// handStaged gives the waiting outbound SAs to the IKE SA that takes the
// Child SAs over, beside any of its own (a simultaneous rekey's survivor
// may have answered the peer already: handOver).
func (sa *ikeSA) handStaged(n *ikeSA) {
	for _, s := range sa.staged {
		s.owner = n
	}
	n.staged, sa.staged = append(n.staged, sa.staged...), nil
}
