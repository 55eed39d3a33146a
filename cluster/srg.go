package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"ipsecgw/config/schema"
)

func srgKey(id int, what string) string { return srgPrefix + strconv.Itoa(id) + "/" + what }

// SetGroups gives the node the SRGs of the committed configuration; it
// takes, keeps and gives up groups from now on by them. A group no longer
// configured is stopped and released.
func (n *Node) SetGroups(groups []*schema.SRG) {
	n.gmu.Lock()
	n.groups = groups
	n.gmu.Unlock()
	n.poke()
}

// Owned returns the groups this node owns now, with their fencing tokens.
func (n *Node) Owned() map[int]int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[int]int64, len(n.owned))
	for k, v := range n.owned {
		out[k] = v
	}
	return out
}

// watch pokes the ownership loop on every change under /ipsecgw/node and
// /ipsecgw/srg; a broken watch is opened again.
func (n *Node) watch(ctx context.Context) {
	defer n.wg.Done()
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		for resp := range n.cli.Watch(wctx, prefix, clientv3.WithPrefix()) {
			if resp.Err() != nil {
				break
			}
			n.poke()
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(n.ttl / 4):
		}
	}
}

// run reconciles ownership on every change and, as a safety net, twice a
// lease TTL.
func (n *Node) run(ctx context.Context) {
	defer n.wg.Done()
	tick := time.NewTicker(n.ttl / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, n.ttl)
		if err := n.reconcile(rctx); err != nil && ctx.Err() == nil {
			n.log.Debug("ownership not reconciled", "err", err)
		}
		cancel()
	}
}

// read takes the members and the SRG keys at one etcd revision.
func (n *Node) read(ctx context.Context) (*view, error) {
	resp, err := n.cli.Txn(ctx).Then(
		clientv3.OpGet(nodePrefix, clientv3.WithPrefix()),
		clientv3.OpGet(srgPrefix, clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, err
	}
	v := &view{live: map[int]bool{}, owners: map[int]owner{}, avoid: map[int]int{}, move: map[int]bool{}}
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		if id, err := strconv.Atoi(strings.TrimPrefix(string(kv.Key), nodePrefix)); err == nil {
			v.live[id] = true
		}
	}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		ids, what, _ := strings.Cut(strings.TrimPrefix(string(kv.Key), srgPrefix), "/")
		id, err1 := strconv.Atoi(ids)
		val, err2 := strconv.Atoi(string(kv.Value))
		if err1 != nil || err2 != nil {
			continue
		}
		switch what {
		case "owner":
			v.owners[id] = owner{node: val, rev: kv.ModRevision, lease: kv.Lease}
		case "avoid":
			v.avoid[id] = val
		case "failover":
			v.move[id] = true
		}
	}
	return v, nil
}

// reconcile brings this node's ownerships in line with etcd and the
// configured groups: it stops what it no longer owns, gives up what it
// should (removed, preempted, failed over), and takes free groups it is
// preferred for (or any free group no one took within a lease TTL).
func (n *Node) reconcile(ctx context.Context) error {
	v, err := n.read(ctx)
	if err != nil {
		return err
	}
	me := n.opts.NodeID
	n.gmu.Lock()
	groups := n.groups
	n.gmu.Unlock()
	n.mu.Lock()
	lease, idle := n.lease, n.fenced || n.closed
	configured := map[int]bool{}
	for _, g := range groups {
		configured[g.ID] = true
	}
	var release []int
	for _, id := range sortedKeys(n.owned) {
		o, ok := v.owners[id]
		switch {
		case !ok:
			n.stopLocked(id, "its owner key is gone")
		case o.node != me || o.rev != n.owned[id]:
			n.stopLocked(id, fmt.Sprintf("etcd says node %d owns it", o.node))
		case !configured[id]:
			n.stopLocked(id, "no longer configured")
			release = append(release, id)
		}
	}
	n.mu.Unlock()
	for _, id := range release {
		n.release(ctx, id, v.owners[id].rev, 0)
	}
	if idle {
		return nil
	}
	now := time.Now()
	for _, g := range groups {
		o, owned := v.owners[g.ID]
		if !owned {
			if _, ok := n.freeSince[g.ID]; !ok {
				n.freeSince[g.ID] = now
			}
			if preferred(g, v) == me || now.Sub(n.freeSince[g.ID]) > n.ttl {
				n.acquire(ctx, g, v, lease)
			}
			continue
		}
		delete(n.freeSince, g.ID)
		if o.node != me || o.lease != int64(lease) {
			continue
		}
		n.mu.Lock()
		if _, ok := n.owned[g.ID]; !ok && !n.fenced {
			// Ours in etcd, not acting: the lease was renewed after a
			// fence, or this is a new Node on an old lease.
			n.startLocked(g.ID, o.rev, "the lease is alive")
		}
		n.mu.Unlock()
		if v.move[g.ID] {
			n.handOver(ctx, g.ID, o.rev, "manual failover", true)
		} else if to, ok := preempts(g, v); ok {
			n.handOver(ctx, g.ID, o.rev, fmt.Sprintf("preemption: node %d has a higher priority", to), false)
		}
	}
	return nil
}

// acquire takes a free group: the owner key is created with this node's
// lease only if it does not exist, so of nodes trying at once etcd lets one
// succeed.
func (n *Node) acquire(ctx context.Context, g *schema.SRG, v *view, lease clientv3.LeaseID) {
	me := n.opts.NodeID
	key := srgKey(g.ID, "owner")
	ops := []clientv3.Op{clientv3.OpPut(key, strconv.Itoa(me), clientv3.WithLease(lease))}
	if a, ok := v.avoid[g.ID]; ok && a == me {
		ops = append(ops, clientv3.OpDelete(srgKey(g.ID, "avoid")))
	} else if ok {
		// The failover holds while this owner lives.
		ops = append(ops, clientv3.OpPut(srgKey(g.ID, "avoid"), strconv.Itoa(a), clientv3.WithLease(lease)))
	}
	resp, err := n.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).Then(ops...).Commit()
	if err != nil || !resp.Succeeded {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fenced || n.closed || n.lease != lease {
		return // the key goes with the old lease; the watch brings us back
	}
	delete(n.freeSince, g.ID)
	// Later groups of this pass see the load this one adds.
	v.owners[g.ID] = owner{node: me, rev: resp.Header.Revision, lease: int64(lease)}
	n.startLocked(g.ID, resp.Header.Revision, "the group was free")
}

// handOver gives a group up: this node stops acting first, then deletes
// the owner key if it is still the ownership it stopped (its token).
func (n *Node) handOver(ctx context.Context, id int, token int64, reason string, manual bool) {
	n.mu.Lock()
	if n.owned[id] == token {
		n.handing = true
		n.stopLocked(id, reason)
		n.handing = false
	}
	n.mu.Unlock()
	avoid := 0
	if manual {
		avoid = n.opts.NodeID
	}
	n.release(ctx, id, token, avoid)
}

// release deletes the owner key of a group this node has stopped acting
// for, if the key is still at token; avoid (when not 0) records the node a
// manual failover moves the group from.
func (n *Node) release(ctx context.Context, id int, token int64, avoid int) {
	key := srgKey(id, "owner")
	ops := []clientv3.Op{clientv3.OpDelete(key), clientv3.OpDelete(srgKey(id, "failover"))}
	if avoid != 0 {
		ops = append(ops, clientv3.OpPut(srgKey(id, "avoid"), strconv.Itoa(avoid)))
	}
	if _, err := n.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", token)).Then(ops...).Commit(); err != nil {
		n.log.Warn("could not release a group; its key goes with the lease", "srg", id, "err", err)
	}
}

func (n *Node) startLocked(id int, token int64, reason string) {
	n.owned[id] = token
	n.log.Info("services-redundancy-group active on this node", "srg", id, "token", token, "reason", reason)
	if n.opts.OnChange != nil {
		n.opts.OnChange(Change{SRG: id, Owned: true, Token: token, Reason: reason})
	}
}

func (n *Node) stopLocked(id int, reason string) {
	token, ok := n.owned[id]
	if !ok {
		return
	}
	delete(n.owned, id)
	n.log.Info("services-redundancy-group no longer active on this node", "srg", id, "token", token, "reason", reason)
	if n.opts.OnChange != nil {
		n.opts.OnChange(Change{SRG: id, Owned: false, Token: token, Reason: reason, Handover: n.handing})
	}
}

// ErrNoStandby: a manual failover needs another live node.
var ErrNoStandby = errors.New("no other node is alive to take the group")

// Failover moves group id away from its owner ("request chassis
// high-availability failover services-redundancy-group N"), from any node:
// it asks the owner, which stops acting and releases the group, and waits
// (up to ctx) for another node to own it. It returns the new owner.
func (n *Node) Failover(ctx context.Context, id int) (int, error) {
	v, err := n.read(ctx)
	if err != nil {
		return 0, fmt.Errorf("cluster: %w", err)
	}
	o, ok := v.owners[id]
	if !ok {
		return 0, fmt.Errorf("services-redundancy-group %d has no owner", id)
	}
	others := 0
	for m := range v.live {
		if m != o.node {
			others++
		}
	}
	if others == 0 {
		return 0, fmt.Errorf("services-redundancy-group %d: %w", id, ErrNoStandby)
	}
	n.mu.Lock()
	lease := n.lease
	n.mu.Unlock()
	// The request lives with this node's lease: a stale one cannot move
	// the group later.
	if _, err := n.cli.Put(ctx, srgKey(id, "failover"), strconv.Itoa(n.opts.NodeID), clientv3.WithLease(lease)); err != nil {
		return 0, fmt.Errorf("cluster: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("services-redundancy-group %d did not move: %w", id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		v, err := n.read(ctx)
		if err != nil {
			continue
		}
		if now, ok := v.owners[id]; ok && now.rev != o.rev {
			return now.node, nil
		}
	}
}

// Status is the cluster as one node sees it.
type Status struct {
	Members []Member    // alive, by ID
	Owners  map[int]int // SRG → owning node
	Tokens  map[int]int64
}

// Status reads the members and owners from etcd.
func (n *Node) Status(ctx context.Context) (Status, error) {
	ms, err := n.Members(ctx)
	if err != nil {
		return Status{}, err
	}
	v, err := n.read(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("cluster: %w", err)
	}
	st := Status{Members: ms, Owners: map[int]int{}, Tokens: map[int]int64{}}
	for id, o := range v.owners {
		st.Owners[id], st.Tokens[id] = o.node, o.rev
	}
	return st, nil
}
