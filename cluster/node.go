package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ipsecgw/config/schema"
)

// Options configure a Node.
type Options struct {
	// Client is the etcd client to use; without it Join dials Endpoints
	// and Close closes what it dialled.
	Client    *clientv3.Client
	Endpoints []string // etcd client URLs
	NodeID    int      // 1..255, as "chassis high-availability node N"
	Address   string   // shown to the other nodes
	// LeaseTTL bounds how long a dead node's SRGs stay with it
	// (DefaultLeaseTTL when 0; etcd rounds up to its minimum, 2 s with
	// its default timings).
	LeaseTTL time.Duration
	Logger   *slog.Logger
	// OnChange is told, in order and on one goroutine at a time, when this
	// node starts or stops owning an SRG. It must act before it returns:
	// a stop returns only once the node no longer acts for the group.
	OnChange func(Change)
	// OnFence, when set, is told when the node fences itself (its lease
	// may have expired: every group it owned is stopped) and when a
	// renewal of the same lease ends the fence (fence.go). Like OnChange
	// it runs with the node's lock held and must not call the Node.
	OnFence func(fenced bool, reason string)
}

// Change is one ownership change of this node.
type Change struct {
	SRG   int
	Owned bool
	// Token is the fencing token of the ownership started (the owner
	// key's ModRevision): any write made for the group carries it in a
	// compare, so a node that lost the group cannot write.
	Token  int64
	Reason string
	// Handover: this node gives the group up while it still owns it
	// (manual failover, preemption, leaving the cluster), so a last write
	// under Token still succeeds; false when the lease may be gone.
	Handover bool
}

// Member is one node of the cluster as etcd knows it.
type Member struct {
	ID      int       `json:"id"`
	Address string    `json:"address,omitempty"`
	Since   time.Time `json:"since"`
}

// Node is this daemon's membership in a cluster: its lease, its SRGs.
type Node struct {
	opts   Options
	log    *slog.Logger
	cli    *clientv3.Client
	ownCli bool // dialled by Join, closed by Close
	ttl    time.Duration
	margin time.Duration
	kick   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards the fields below; OnChange runs with it held, so changes
	// reach the daemon in order and a stop cannot overtake a start.
	mu         sync.Mutex
	lease      clientv3.LeaseID
	validUntil time.Time     // by the local monotonic clock; see keepalive (under kmu too)
	fenced     bool          // the lease may have expired: own nothing
	owned      map[int]int64 // SRG → token
	closed     bool

	// gmu guards groups apart from mu: the daemon sets groups from the
	// goroutine OnChange waits for.
	gmu    sync.Mutex
	groups []*schema.SRG

	freeSince map[int]time.Time // run's own: when each group was seen free

	handing bool // under mu: the stops now are hand-overs (Change.Handover)

	// kmu guards validUntil (and lease for keepalive, which is written
	// under both) apart from mu: OnChange holds mu while the daemon acts
	// on a change (a takeover reads its SA state, up to 2 s), and the
	// lease must be renewed, and the renewal seen by the fence,
	// meanwhile. fencedNow mirrors fenced for keepalive.
	kmu       sync.Mutex
	fencedNow atomic.Bool
}

// Join connects to etcd and registers node opts.NodeID with a new lease.
// If a member with this ID is still registered (this node restarted less
// than a lease TTL ago, or another process runs with the same ID), Join
// waits for that lease to end, up to ctx: two members with one ID would
// own the same groups.
func Join(ctx context.Context, opts Options) (*Node, error) {
	if opts.NodeID < 1 || opts.NodeID > 255 {
		return nil, fmt.Errorf("cluster: node id %d: expected 1..255", opts.NodeID)
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cli, ownCli := opts.Client, false
	if cli == nil {
		var err error
		if cli, err = Dial(opts.Endpoints); err != nil {
			return nil, err
		}
		ownCli = true
	}
	ttl := (opts.LeaseTTL + time.Second - 1).Truncate(time.Second)
	n := &Node{
		opts: opts, log: opts.Logger.With("subsystem", "cluster", "node", opts.NodeID),
		cli: cli, ownCli: ownCli, ttl: ttl, margin: fenceMargin(ttl),
		kick: make(chan struct{}, 1), owned: map[int]int64{}, freeSince: map[int]time.Time{},
	}
	if err := n.register(ctx); err != nil {
		if ownCli {
			cli.Close()
		}
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(3)
	go n.keepalive(rctx)
	go n.watch(rctx)
	go n.run(rctx)
	return n, nil
}

// fenceMargin is how long before the lease can expire on the server the
// node stops acting: room for its timer to fire late and for taking the
// virtual IPs down.
func fenceMargin(ttl time.Duration) time.Duration {
	return max(ttl/4, 250*time.Millisecond)
}

// Client is the etcd client (for the configuration backend and watch).
func (n *Node) Client() *clientv3.Client { return n.cli }

// LeaseTTL is the TTL of this node's lease.
func (n *Node) LeaseTTL() time.Duration { return n.ttl }

// ID is this node's ID.
func (n *Node) ID() int { return n.opts.NodeID }

func nodeKey(id int) string { return nodePrefix + strconv.Itoa(id) }

// register grants a lease and puts the membership key with it, once no
// other lease holds the key.
func (n *Node) register(ctx context.Context) error {
	for {
		sent := time.Now()
		g, err := n.cli.Grant(ctx, int64(n.ttl/time.Second))
		if err != nil {
			return fmt.Errorf("cluster: lease: %w", err)
		}
		m, _ := json.Marshal(Member{ID: n.opts.NodeID, Address: n.opts.Address, Since: time.Now().UTC()})
		key := nodeKey(n.opts.NodeID)
		resp, err := n.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, string(m), clientv3.WithLease(g.ID))).
			Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return fmt.Errorf("cluster: join: %w", err)
		}
		if resp.Succeeded {
			n.mu.Lock()
			n.kmu.Lock()
			n.lease, n.validUntil, n.fenced = g.ID, sent.Add(time.Duration(g.TTL)*time.Second), false
			n.kmu.Unlock()
			n.fencedNow.Store(false)
			n.mu.Unlock()
			n.log.Info("joined the cluster", "lease", fmt.Sprintf("%x", int64(g.ID)), "ttl", n.ttl)
			return nil
		}
		n.cli.Revoke(ctx, g.ID)
		n.log.Info("waiting for the previous member with this node id to leave", "ttl", n.ttl)
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: node %d is still a member (another process with this --node-id?): %w", n.opts.NodeID, ctx.Err())
		case <-time.After(n.ttl / 4):
		}
	}
}

// keepalive renews the lease and fences the node when it cannot.
//
// The timing argument. A keepalive sent at local time s and answered with
// TTL t makes etcd's leader expire the lease no earlier than t after it
// handled the request, which is after s; a new leader first extends every
// lease to its full TTL. So, measured in elapsed time (the monotonic clock;
// only clock rates matter, not offsets), the lease lives at least until
// s+t. Another node can take one of our SRGs only after etcd deletes the
// owner key, at the lease's expiry or when we delete it. We stop acting at
// s+t-margin when no later renewal has arrived: the margin absorbs a late
// timer and the time the stop takes (removing virtual IPs), and the new
// owner still needs a watch event, a transaction and its own setup after
// the expiry. What etcd cannot fence is a process frozen for longer than
// the margin between its check and its packets (SIGSTOP, a swap storm);
// writes to etcd made for a group compare the fencing token, so they fail
// once the group has moved.
func (n *Node) keepalive(ctx context.Context) {
	defer n.wg.Done()
	every := n.ttl / 4
	// The fence runs on its own timer: a keepalive blocked on an
	// unreachable etcd must not delay it.
	fence := time.AfterFunc(time.Hour, n.fenceIfExpired)
	defer fence.Stop()
	for {
		n.kmu.Lock()
		lease, until, fenced := n.lease, n.validUntil, n.fencedNow.Load()
		n.kmu.Unlock()
		if !fenced {
			fence.Reset(time.Until(until.Add(-n.margin)))
		}
		sent := time.Now()
		kctx, cancel := context.WithTimeout(ctx, every)
		resp, err := n.cli.KeepAliveOnce(kctx, lease)
		cancel()
		switch {
		case err == nil:
			n.kmu.Lock()
			n.validUntil = sent.Add(time.Duration(resp.TTL) * time.Second)
			n.kmu.Unlock()
			wasFenced := false
			if n.fencedNow.Load() {
				n.mu.Lock()
				wasFenced = n.fenced
				n.fenced = false
				n.fencedNow.Store(false)
				if wasFenced {
					n.tellFence(false, "lease renewed") // fence.go
				}
				n.mu.Unlock()
			}
			if wasFenced {
				n.log.Info("lease renewed; owning groups again")
				n.poke()
			}
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			n.fenceNow("lease expired")
			if err := n.register(ctx); err != nil && ctx.Err() == nil {
				n.log.Warn("cannot rejoin the cluster", "err", err)
			}
			n.poke()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(keepaliveWait(sent, every, err)): // fence.go
		}
	}
}

// fenceIfExpired fences the node unless a renewal came in while the timer
// fired.
func (n *Node) fenceIfExpired() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.kmu.Lock()
	late := !time.Now().Before(n.validUntil.Add(-n.margin))
	n.kmu.Unlock()
	if late {
		n.fenceLocked("lease not renewed in time (etcd unreachable?)")
	}
}

// fenceNow stops owning every group: the lease may be gone.
func (n *Node) fenceNow(reason string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.fenceLocked(reason)
}

func (n *Node) fenceLocked(reason string) {
	if n.fenced {
		return
	}
	n.fenced = true
	n.fencedNow.Store(true)
	n.tellFence(true, reason) // fence.go
	if len(n.owned) > 0 {
		n.log.Warn("fenced: stopping every group this node owns", "reason", reason)
	}
	for _, id := range sortedKeys(n.owned) {
		n.stopLocked(id, reason)
	}
}

func (n *Node) poke() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Close leaves the cluster: every group this node owns is stopped here
// first, then its lease is revoked so the others take them at once.
func (n *Node) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	n.handing = !n.fenced
	for _, id := range sortedKeys(n.owned) {
		n.stopLocked(id, "leaving the cluster")
	}
	n.handing = false
	lease := n.lease
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	n.cli.Revoke(ctx, lease)
	cancel()
	if n.ownCli {
		n.cli.Close()
	}
}

// Dial returns a client of the etcd cluster at endpoints (client URLs).
// It connects lazily: an unreachable etcd shows in the first request.
func Dial(endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: etcd %v: %w", endpoints, err)
	}
	return cli, nil
}

// Members lists the nodes alive in the cluster now, by ID.
func (n *Node) Members(ctx context.Context) ([]Member, error) {
	resp, err := n.cli.Get(ctx, nodePrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	var out []Member
	for _, kv := range resp.Kvs {
		var m Member
		if json.Unmarshal(kv.Value, &m) == nil {
			out = append(out, m)
		}
	}
	sortMembers(out)
	return out, nil
}
