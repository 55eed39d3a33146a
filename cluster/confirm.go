package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"ipsecgw/config/store"
)

// A commit confirmed on a cluster is pending on every node at once, and
// its rollback does not depend on the node that made it staying alive:
//
//   - The pending confirmation is a record in etcd (config/confirm: the
//     commit's number and its deadline), written in the commit's own
//     transaction.
//   - Every node keeps a timer to the deadline (RunConfirm). The first
//     whose timer fires commits the configuration before the pending one
//     again, in a transaction that succeeds only while that same record
//     is pending and the head is still the confirmed commit: the rollback
//     happens once, whichever nodes are alive; the others' transactions
//     fail and change nothing. Every node then applies it through the
//     configuration watch, as any commit.
//   - Any later commit on any node deletes the record in its transaction
//     (Junos: a commit confirms), and so does a commit check (Confirm). A
//     node that is down when the deadline passes with no other node alive
//     rolls back when it starts.
//
// The deadline is wall-clock time from the committing node's clock: the
// nodes of a cluster run with synchronised clocks, and a rollback comes
// when the first live node's clock passes it. An etcd lease would not do:
// a new etcd leader renews every lease to its full TTL, so a leader change
// would postpone the rollback by up to the whole confirm time.

// confirmKey holds the pending commit confirmed, if one is.
const confirmKey = prefix + "config/confirm"

// confirmRecord is the pending commit confirmed.
type confirmRecord struct {
	Seq      int64     `json:"seq"` // the commit pending (config/commit/Seq)
	Deadline time.Time `json:"deadline"`
	User     string    `json:"user,omitempty"`
}

var _ store.SharedConfirm = (*ConfigBackend)(nil)

// WriteConfirmed commits text as Write does, pending confirmation until
// deadline. The id is the commit's number.
func (b *ConfigBackend) WriteConfirmed(text string, base int64, deadline time.Time, user string) (int64, uint64, error) {
	v, seq, err := b.write(text, base, func(seq int64) clientv3.Op {
		rec, _ := json.Marshal(confirmRecord{Seq: seq, Deadline: deadline.UTC(), User: user})
		return clientv3.OpPut(confirmKey, string(rec))
	})
	return v, uint64(seq), err
}

// pending reads the pending commit confirmed and its record's ModRevision.
func (b *ConfigBackend) pending(ctx context.Context) (rec confirmRecord, rev int64, ok bool, err error) {
	resp, err := b.cli.Get(ctx, confirmKey)
	if err != nil {
		return rec, 0, false, fmt.Errorf("cluster configuration: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return rec, 0, false, nil
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
		return rec, 0, false, fmt.Errorf("cluster configuration: pending commit confirmed unreadable: %w", err)
	}
	return rec, resp.Kvs[0].ModRevision, true, nil
}

// Pending is the pending commit confirmed; none when etcd cannot say.
func (b *ConfigBackend) Pending() (uint64, time.Time, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	rec, _, ok, err := b.pending(ctx)
	if err != nil || !ok {
		return 0, time.Time{}, false
	}
	return uint64(rec.Seq), rec.Deadline, true
}

// Confirm confirms the pending commit confirmed, if its deadline has not
// passed (then its rollback is due, on whichever node gets there first).
func (b *ConfigBackend) Confirm() error {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	rec, rev, ok, err := b.pending(ctx)
	if err != nil {
		return err
	}
	if !ok || !time.Now().Before(rec.Deadline) {
		return store.ErrNoConfirmPending
	}
	resp, err := b.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(confirmKey), "=", rev)).
		Then(clientv3.OpDelete(confirmKey)).Commit()
	if err != nil {
		return fmt.Errorf("cluster configuration: %w", err)
	}
	if !resp.Succeeded {
		return store.ErrNoConfirmPending // confirmed, replaced or rolled back meanwhile
	}
	return nil
}

// RollBack restores now the configuration before the pending commit
// confirmed (id, when non-zero, its number).
func (b *ConfigBackend) RollBack(id uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	rec, rev, ok, err := b.pending(ctx)
	if err != nil {
		return err
	}
	if !ok || (id != 0 && id != uint64(rec.Seq)) {
		return store.ErrNoConfirmPending
	}
	done, err := b.rollBack(ctx, rec, rev)
	if err != nil {
		return err
	}
	if !done {
		return store.ErrNoConfirmPending
	}
	return nil
}

// rollBack commits configuration rec.Seq-1 again as rec.Seq+1, if the
// record read at rev is still the one pending and rec.Seq still the head;
// done tells whether this call made the rollback.
func (b *ConfigBackend) rollBack(ctx context.Context, rec confirmRecord, rev int64) (done bool, err error) {
	resp, err := b.cli.Get(ctx, commitKey(rec.Seq-1))
	if err != nil {
		return false, fmt.Errorf("cluster configuration: %w", err)
	}
	prev := ""
	if len(resp.Kvs) > 0 {
		prev = string(resp.Kvs[0].Value)
	}
	text := store.Restamp(prev, store.Info{Time: time.Now(), User: "root", Comment: store.RollbackComment})
	next := rec.Seq + 1
	ops := []clientv3.Op{
		clientv3.OpPut(commitKey(next), text),
		clientv3.OpPut(configHead, strconv.FormatInt(next, 10)),
		clientv3.OpDelete(confirmKey),
	}
	if old := next - store.MaxRollback - 1; old >= 1 {
		ops = append(ops, clientv3.OpDelete(commitKey(old)))
	}
	txn, err := b.cli.Txn(ctx).If(
		clientv3.Compare(clientv3.ModRevision(confirmKey), "=", rev),
		clientv3.Compare(clientv3.Value(configHead), "=", strconv.FormatInt(rec.Seq, 10)),
	).Then(ops...).Commit()
	if err != nil {
		return false, fmt.Errorf("cluster configuration: %w", err)
	}
	return txn.Succeeded, nil
}

// confirmRetry is how soon a node tries again when etcd did not answer.
const confirmRetry = time.Second

// RunConfirm keeps this node's timer to the deadline of the pending commit
// confirmed, following the record through a watch, and makes the rollback
// when the timer fires first here, until ctx ends. log is told when this
// node made it.
func (b *ConfigBackend) RunConfirm(ctx context.Context, log *slog.Logger) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	// arm sets the timer to the pending record's deadline, no sooner
	// than after wait; it stops it when nothing is pending.
	arm := func(wait time.Duration) {
		timer.Stop()
		rctx, cancel := context.WithTimeout(ctx, b.timeout)
		rec, _, ok, err := b.pending(rctx)
		cancel()
		switch {
		case err != nil:
			timer.Reset(confirmRetry)
		case ok:
			timer.Reset(max(time.Until(rec.Deadline), wait))
		}
	}
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		ch := b.cli.Watch(wctx, confirmKey)
		arm(0)
	watch:
		for {
			select {
			case resp, ok := <-ch:
				if !ok || resp.Err() != nil {
					break watch
				}
				arm(0)
			case <-timer.C:
				b.expire(ctx, log)
				arm(confirmRetry) // normally the watch has seen the delete
			}
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// expire makes the rollback of the pending commit confirmed if its
// deadline has passed and no other node made it first.
func (b *ConfigBackend) expire(ctx context.Context, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	rec, rev, ok, err := b.pending(ctx)
	if err != nil || !ok || time.Now().Before(rec.Deadline) {
		return
	}
	done, err := b.rollBack(ctx, rec, rev)
	switch {
	case err != nil:
		log.Warn("commit confirmed not confirmed in time; its rollback failed here and is tried again", "commit", rec.Seq, "err", err)
	case done:
		log.Warn("commit confirmed not confirmed in time: the configuration before it is restored on the cluster",
			"commit", rec.Seq, "by", rec.User, "deadline", rec.Deadline)
	}
}
