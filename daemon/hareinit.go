package daemon

import (
	"errors"
	"sort"
	"time"

	"ipsecgw/cluster"
)

// A node taking a group over negotiates at once every tunnel of the group
// it cannot carry on, rather than leave the peer to find out by dead peer
// detection that the SAs it holds went with the old owner. Each such
// tunnel is an event, sa-reinitiated, whose Cause says why (and the
// metric ipsecgw_cluster_sa_reinitiations_total counts by it):
//
//	state-unavailable  the group's SA state could not be read (etcd
//	                   unreachable at the takeover)
//	state-unreadable   a record of the group does not open (another
//	                   cluster key, damage) or decode
//	resume-failed      the tunnel's record was read but could not be
//	                   imported or installed
//	no-state           no record for the tunnel: it had no SA, or its SA
//	                   was too new to have been written (the first write
//	                   follows an SA within haSyncEvery)
//
// Which tunnels negotiate: those with establish-tunnels immediately, as on
// any start; and, when the group had state that could not be used (every
// cause but no-state), also those on-traffic: they may well have had SAs,
// and the peer's traffic would otherwise go to SAs nobody holds.
// Responder-only tunnels wait for the peer, as configured.

// haReinitiate, on the daemon's goroutine at the end of a takeover's
// resume, negotiates the group's tunnels that were not resumed.
func (c *clusterState) haReinitiate(d *Daemon, srg int, r *haResume, resumed map[haPeer]bool, failed map[haPeer]error) {
	cfg := c.full
	if cfg == nil || cfg.HA == nil {
		return
	}
	modes := map[string]string{}
	for _, vpn := range cfg.IPsec.VPNs {
		if vpn.IKE == nil || vpn.IKE.Gateway == nil {
			continue
		}
		if g := cfg.HA.SRGOf(vpn.IKE.Gateway.LocalAddress); g != nil && g.ID == srg {
			modes[vpn.Name] = vpn.EstablishTunnels
		}
	}
	names := make([]string, 0, len(modes))
	for name := range modes {
		names = append(names, name)
	}
	sort.Strings(names)
	done := map[haPeer]bool{}
	for _, name := range names {
		run, ok := d.run.vpns[name]
		k := haPeerOf(run.local, run.remote)
		if !ok || run.manual || run.down || !run.remote.IsValid() || resumed[k] || done[k] {
			continue
		}
		cause, why := haReinitCause(r, failed[k])
		mode := modes[name]
		// Initiated already by the reconcile (immediately, not held back)
		// or to be initiated now.
		already := mode == "immediately" && !r.skipped[k]
		now := r.skipped[k] || (!already && cause != "no-state" && mode != "responder-only")
		if !already && !now {
			continue
		}
		done[k] = true
		if now {
			d.initiate([]onTrafficPeer{{version: run.version, remote: run.remote, local: run.local}})
		}
		d.log.Info("tunnel of a group taken over negotiates again", "srg", srg, "vpn", name, "remote", run.remote, "cause", cause, "reason", why)
		d.events.publish(Event{Kind: "sa-reinitiated", Time: time.Now(), SRG: srg, VPN: name, Remote: run.remote.String(),
			Cause: cause, Reason: why})
	}
}

// haReinitCause is why a tunnel of a group taken over is not resumed.
func haReinitCause(r *haResume, importErr error) (cause, reason string) {
	switch {
	case r.loadErr != nil && errors.Is(r.loadErr, cluster.ErrUnreadable):
		return "state-unreadable", "SA state of the group unreadable: " + r.loadErr.Error()
	case r.loadErr != nil:
		return "state-unavailable", "SA state of the group could not be read: " + r.loadErr.Error()
	case importErr != nil:
		return "resume-failed", "IKE SA not resumed: " + importErr.Error()
	case r.unreadable > 0:
		return "state-unreadable", "a record of the group's SA state is unreadable"
	default:
		return "no-state", "no SA state for the tunnel (no SA, or one too new to have been written)"
	}
}
