package cluster

import "time"

// Fenced, not abandoned. A node fences itself when its lease may have
// expired (no renewal answered in time: etcd unreachable, or etcd's
// leader lost and a new one not yet elected): it stops every group it
// owns, since another node may be about to start them. When a renewal of
// the same lease then succeeds, the lease never expired and no other node
// can have taken the groups:
//
//   - etcd expires a lease only by a revocation the leader commits through
//     raft, which deletes the keys attached to it (our srg/N/owner keys)
//     in the same apply; a renewal is answered by the leader from its
//     lessor, which no longer has a revoked lease (ErrLeaseNotFound);
//   - a new leader first extends every lease by its full TTL (the
//     lessor's Promote), so an election alone expires nothing;
//   - another node takes a group only by creating its owner key where
//     none exists (acquire's compare), and deletes one only at its own
//     token (release's compare).
//
// The node does not trust the renewal alone: reconcile then reads the
// owner keys (a linearizable read) and starts again only the groups whose
// key is still this node's, on this lease ("the lease is alive"); their
// SAs are resumed from the records this node wrote, as a survivor would
// (daemon/haresume.go), so the peers keep their IKE and Child SAs. A
// renewal refused with ErrLeaseNotFound means the lease is gone: the node
// joins again with a new lease and owns nothing until reconcile gives it
// groups, as on any start. OnFence tells the daemon of both edges (its
// events cluster-fenced and cluster-unfenced and their metric).

// tellFence runs OnFence (mu held).
func (n *Node) tellFence(fenced bool, reason string) {
	if n.opts.OnFence != nil {
		n.opts.OnFence(fenced, reason)
	}
}

// keepaliveRetry is how soon a failed renewal is tried again: when etcd's
// new leader is elected, the renewal that ends the fence should be the
// next moment, not a quarter TTL later (the margin the node has before
// its lease could expire is only that quarter).
const keepaliveRetry = 100 * time.Millisecond

// keepaliveWait is how long keepalive waits after a renewal sent at sent
// that ended with err.
func keepaliveWait(sent time.Time, every time.Duration, err error) time.Duration {
	if err != nil {
		return min(time.Until(sent.Add(every)), keepaliveRetry)
	}
	return time.Until(sent.Add(every))
}
