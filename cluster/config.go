package cluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"ipsecgw/config/store"
)

// ConfigBackend keeps the committed configuration and its rollbacks in etcd,
// for config/store: every node of the cluster commits to and reads from the
// same place. A commit is one transaction that succeeds only if the head is
// still at the revision the committing node runs (its version), so of two
// concurrent commits one wins and the other gets store.ErrModified.
type ConfigBackend struct {
	cli     *clientv3.Client
	timeout time.Duration
}

// NewConfigBackend returns the backend on cli; each etcd call is bounded by
// timeout.
func NewConfigBackend(cli *clientv3.Client, timeout time.Duration) *ConfigBackend {
	return &ConfigBackend{cli: cli, timeout: timeout}
}

var _ store.Backend = (*ConfigBackend)(nil)

func commitKey(seq int64) string { return fmt.Sprintf("%s%020d", configCommit, seq) }

// head returns the committed configuration's number and the head key's
// ModRevision (0, 0 on a cluster with no commit yet).
func (b *ConfigBackend) head(ctx context.Context) (seq, rev int64, err error) {
	resp, err := b.cli.Get(ctx, configHead)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster configuration: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return 0, 0, nil
	}
	seq, err = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster configuration: bad head %q", resp.Kvs[0].Value)
	}
	return seq, resp.Kvs[0].ModRevision, nil
}

// Read returns rollback n, read in one etcd revision with the head. The
// version is the head's ModRevision.
func (b *ConfigBackend) Read(n int) (string, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	seq, rev, err := b.head(ctx)
	if err != nil {
		return "", 0, err
	}
	if seq-int64(n) < 1 || n > store.MaxRollback {
		return "", rev, fmt.Errorf("rollback %d: %w", n, os.ErrNotExist)
	}
	resp, err := b.cli.Get(ctx, commitKey(seq-int64(n)), clientv3.WithRev(rev))
	if err != nil {
		return "", 0, fmt.Errorf("cluster configuration: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", rev, fmt.Errorf("rollback %d: %w", n, os.ErrNotExist)
	}
	return string(resp.Kvs[0].Value), rev, nil
}

// Write commits text as the next configuration if the head is still at
// base, dropping the commit that falls out of the rollbacks. It confirms a
// pending commit confirmed, made on any node (confirm.go).
func (b *ConfigBackend) Write(text string, base int64) (int64, error) {
	v, _, err := b.write(text, base, func(int64) clientv3.Op { return clientv3.OpDelete(confirmKey) })
	return v, err
}

// write commits text as configuration seq, the next one, in one
// transaction with the operation confirm(seq) on the pending commit
// confirmed.
func (b *ConfigBackend) write(text string, base int64, confirm func(seq int64) clientv3.Op) (version, seq int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	seq, rev, err := b.head(ctx)
	if err != nil {
		return 0, 0, err
	}
	if rev != base {
		return 0, 0, store.ErrModified
	}
	next := seq + 1
	ops := []clientv3.Op{
		clientv3.OpPut(commitKey(next), text),
		clientv3.OpPut(configHead, strconv.FormatInt(next, 10)),
		confirm(next),
	}
	if old := next - store.MaxRollback - 1; old >= 1 {
		ops = append(ops, clientv3.OpDelete(commitKey(old)))
	}
	resp, err := b.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(configHead), "=", base)).
		Then(ops...).Commit()
	if err != nil {
		return 0, 0, fmt.Errorf("cluster configuration: %w", err)
	}
	if !resp.Succeeded {
		return 0, 0, store.ErrModified
	}
	return resp.Header.Revision, next, nil
}

// WatchConfig calls changed once at the start and after every commit to
// the cluster (this node's own included: store.Refresh sees those need
// nothing), until ctx ends. A watch that breaks (etcd restarted, compacted)
// is opened again, with a call to changed so nothing in between is missed.
func WatchConfig(ctx context.Context, cli *clientv3.Client, changed func()) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		ch := cli.Watch(wctx, configHead)
		changed()
		for resp := range ch {
			if resp.Err() != nil {
				break
			}
			if len(resp.Events) > 0 {
				changed()
			}
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
