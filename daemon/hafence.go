package daemon

import "time"

// onFence is the cluster's OnFence (cluster/fence.go): the node stopped
// its groups because its lease may have expired, or a renewal of the same
// lease showed it did not (the groups whose owner keys are still this
// node's then start again, their SAs resumed from etcd).
func (d *Daemon) onFence(fenced bool, reason string) {
	kind := "cluster-unfenced"
	if fenced {
		kind = "cluster-fenced"
	}
	d.events.publish(Event{Kind: kind, Time: time.Now(), Reason: reason})
}
