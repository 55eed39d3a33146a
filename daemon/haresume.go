package daemon

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"ipsecgw/cluster"
	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
)

// A group changing hands, as far as its SAs go (onOwnership's hooks):
//   - the node giving a group up writes its SAs' state once more when it
//     can (a hand-over: its token is still good) and then forgets them
//     without a DELETE: the peer is to carry on with the next owner;
//   - the node taking a group over loads the group's SA state before it
//     runs the group's VPNs, holds back their initiation, and imports the
//     SAs into its engine and data plane once the VPNs are in; a tunnel
//     whose SA cannot be resumed (no record, a record it cannot read or
//     install, etcd unreachable) negotiates at once.

// haBefore runs first in onOwnership: a group going away is written one
// last time; a group coming is loaded.
func (c *clusterState) haBefore(ch cluster.Change) {
	s := c.sync.Load()
	if s == nil {
		return
	}
	if !ch.Owned {
		if ch.Handover {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			s.syncOnce(ctx, ch.SRG, true)
			cancel()
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	states, unreadable, err := s.loadForTakeover(ctx, ch.SRG) // haload.go
	cancel()
	if err != nil {
		s.d.log.Warn("SA state of the group not loaded: its tunnels negotiate again", "srg", ch.SRG, "err", err)
		s.d.events.publish(Event{Kind: "sa-resume-failed", Time: time.Now(), SRG: ch.SRG, Reason: "SA state not loaded: " + err.Error()})
		s.mu.Lock()
		s.pending[ch.SRG] = &haResume{loadErr: err, skipped: map[haPeer]bool{}} // hareinit.go
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.pending[ch.SRG] = &haResume{states: states, skipped: map[haPeer]bool{}, unreadable: unreadable}
	// The records loaded are this node's to keep or delete from now on.
	w := map[string]haWritten{}
	for _, st := range states {
		w["ike/"+st.Name()] = haWritten{}
	}
	s.written[ch.SRG] = w
	s.mu.Unlock()
}

// haForget, on the daemon's goroutine before a lost group's VPNs are
// removed, ends their SAs here without telling the peer.
func (c *clusterState) haForget(ch cluster.Change) {
	s := c.sync.Load()
	if s == nil || ch.Owned {
		return
	}
	eng, _ := s.engine()
	s.mu.Lock()
	vips := s.vips
	delete(s.written, ch.SRG)
	delete(s.pending, ch.SRG)
	s.mu.Unlock()
	s.forgetV1(ch.SRG, vips) // hasyncv1.go
	if eng == nil {
		return
	}
	if n := eng.Forget(func(a netip.Addr) bool { g, ok := vips[a]; return ok && g == ch.SRG }); n > 0 {
		s.d.log.Info("IKE SAs of the group left to its next owner", "srg", ch.SRG, "ike-sas", n)
	}
}

// haHoldInitiation is d.initiate's hook: a peer with SA state to resume
// is not negotiated with (unless the resume fails).
func (d *Daemon) haHoldInitiation(p onTrafficPeer) bool {
	if d.cluster == nil || p.version != 2 {
		return d.holdV1(p) // hasyncv1.go
	}
	s := d.cluster.sync.Load()
	if s == nil {
		return false
	}
	k := haPeerOf(p.local, p.remote)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.pending {
		for _, st := range r.states {
			if haPeerOf(st.Local.Addr(), st.PeerAddr) == k {
				r.skipped[k] = true
				return true
			}
		}
	}
	return false
}

// haResume, on the daemon's goroutine once a gained group's VPNs are in,
// imports its SAs; a peer whose SA is not resumed and whose initiation was
// held back negotiates now.
func (c *clusterState) haResume(d *Daemon, ch cluster.Change) {
	s := c.sync.Load()
	if s == nil || !ch.Owned {
		return
	}
	s.mu.Lock()
	r := s.pending[ch.SRG]
	delete(s.pending, ch.SRG)
	s.mu.Unlock()
	if r == nil {
		return
	}
	eng, _ := s.engine()
	resumed := map[haPeer]bool{}
	failed := map[haPeer]error{}
	for _, st := range r.states {
		ev := Event{Time: time.Now(), SRG: ch.SRG, Gateway: st.Gateway, VPN: st.VPN, Remote: st.PeerAddr.String(), SPI: st.Name()}
		var err error = errNoIKEv2
		if eng != nil {
			err = eng.Import(st)
		}
		if err != nil {
			d.log.Warn("IKE SA not resumed; the tunnel negotiates again", "srg", ch.SRG, "gateway", st.Gateway, "ike-sa", st.Name(), "err", err)
			ev.Kind, ev.Reason = "sa-resume-failed", err.Error()
			failed[haPeerOf(st.Local.Addr(), st.PeerAddr)] = err
		} else {
			resumed[haPeerOf(st.Local.Addr(), st.PeerAddr)] = true
			ev.Kind, ev.Reason = "sa-resumed", "IKE SA and its Child SAs resumed from the previous owner"
		}
		d.events.publish(ev)
		clear(st.SKd) // the engine has its own copies
		for _, k := range [][]byte{st.SKai, st.SKar, st.SKei, st.SKer, st.SKpi, st.SKpr} {
			clear(k)
		}
	}
	s.resumeV1(d, ch.SRG, r, resumed, failed) // hasyncv1.go
	// The tunnels not resumed negotiate now (hareinit.go).
	c.haReinitiate(d, ch.SRG, r, resumed, failed)
	s.poke() // the records carry on under this node's token
}

var errNoIKEv2 = errors.New("no IKEv2 engine runs")

// ResumeChild installs a Child SA another node ran: the inbound SA first,
// its window starting at the synchronised edge, then the outbound one,
// continuing above the high-water mark (ikev2.ResumeInstaller).
func (i *installer) ResumeChild(vpn string, c *ike.ChildSA, outSeq, inTop uint64) error {
	if err := i.InstallInbound(vpn, c); err != nil {
		return err
	}
	if in := i.d.engine.InboundSA(c.InboundSPI); in != nil {
		in.SeedReplay(inTop)
	}
	if err := i.InstallOutbound(vpn, c); err != nil {
		i.d.engine.RemoveInbound(c.InboundSPI)
		return err
	}
	i.mu.Lock()
	o := i.outbound[c.OutboundSPI]
	i.mu.Unlock()
	if o != nil {
		o.ResumeAt(outSeq)
		holdAtMark(o, outSeq) // haseq.go
	}
	return nil
}

var _ ikev2.ResumeInstaller = (*installer)(nil)
