// Package cluster joins ipsecgw nodes into one gateway on etcd: a shared
// committed configuration, node membership, and ownership of services
// redundancy groups (SRGs). etcd does the agreement (leases, transactions
// with compares, watches); this package writes none of its own.
//
// What lives in etcd, under /ipsecgw/:
//
//	config/head          the number of the committed configuration
//	config/commit/NNN    each committed configuration (the last 50: rollbacks)
//	node/N               node N's membership, bound to its lease
//	srg/N/owner          the node owning SRG N, bound to that node's lease;
//	                     its ModRevision is the owner's fencing token
//	srg/N/avoid          the node a manual failover moved SRG N away from
//	srg/N/failover       a request to move SRG N, answered by its owner
//	sa/N/NAME            SA state of SRG N (SAStore): sealed with the cluster
//	                     key, written only under the owner's fencing token
//
// One lease per node carries both its membership and its ownerships, so a
// node's SRGs are free exactly when it is no longer a member.
package cluster

import "time"

// DefaultLeaseTTL is the lease TTL when none is configured.
const DefaultLeaseTTL = 2 * time.Second

const (
	prefix       = "/ipsecgw/"
	configHead   = prefix + "config/head"
	configCommit = prefix + "config/commit/"
	nodePrefix   = prefix + "node/"
	srgPrefix    = prefix + "srg/"
)
