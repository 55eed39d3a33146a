package cluster

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxTxnOps stays under etcd's default --max-txn-ops (128).
const maxTxnOps = 100

// PutAll writes several records of group srg, sealed, under the fencing
// token like Put, in as few transactions as etcd allows: the owner records
// the message IDs of many IKE SAs at once (group commit), one round trip
// for all the requests waiting to go out.
func (s *SAStore) PutAll(ctx context.Context, srg int, token int64, records map[string][]byte) error {
	ops := make([]clientv3.Op, 0, len(records))
	for name, v := range records {
		key := saKey(srg, name)
		ops = append(ops, clientv3.OpPut(key, string(s.seal(key, v))))
	}
	for len(ops) > 0 {
		n := min(len(ops), maxTxnOps)
		if err := s.fenced(ctx, srg, token, ops[:n]...); err != nil {
			return err
		}
		ops = ops[n:]
	}
	return nil
}
