package daemon

import (
	"context"
	"time"

	"ipsecgw/cluster"
)

// runClusterConfirm runs this node's share of cluster-wide commit
// confirmed (cluster/confirm.go): a timer to the deadline of a commit
// confirmed made on any node, and the rollback if this node gets there
// first. The rollback reaches this node, as every commit, through the
// configuration watch. The channel closes when ctx has ended it.
func (d *Daemon) runClusterConfirm(ctx context.Context) chan struct{} {
	done := make(chan struct{})
	b := cluster.NewConfigBackend(d.cluster.cli, 10*time.Second)
	go func() {
		defer close(done)
		b.RunConfirm(ctx, d.log.With("subsystem", "cluster"))
	}()
	return done
}
