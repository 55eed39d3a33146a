// Package cluster runs ipsecgw nodes as a cluster on Debian's etcd, all in
// network namespaces on one bridge: a virtual IP follows the owner of its
// services redundancy group, a client's neighbour table follows the
// gratuitous ARP, and a commit on any node reaches every node. Root only.
package cluster

import (
	"os"
	"testing"

	"ipsecgw/test/netns"
)

var binary string

func TestMain(m *testing.M) { os.Exit(netns.MainWithBinary(m, "cluster", &binary)) }
