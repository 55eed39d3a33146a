package main

import (
	"flag"
	"fmt"
	"strings"
)

// clusterArgs are the daemon's cluster flags: without --cluster-etcd the
// daemon is a single gateway and needs no etcd.
type clusterArgs struct {
	etcd   *string
	nodeID *int
}

func clusterFlags(fs *flag.FlagSet) clusterArgs {
	return clusterArgs{
		etcd:   fs.String("cluster-etcd", "", "join a cluster on these etcd client URLs: http://A:2379,http://B:2379,..."),
		nodeID: fs.Int("node-id", 0, "this node's ID in the cluster (1..255; chassis high-availability node N)"),
	}
}

// endpoints returns the etcd URLs, or nil for a single gateway.
func (c clusterArgs) endpoints() ([]string, error) {
	if *c.etcd == "" {
		if *c.nodeID != 0 {
			return nil, fmt.Errorf("--node-id needs --cluster-etcd")
		}
		return nil, nil
	}
	if *c.nodeID < 1 || *c.nodeID > 255 {
		return nil, fmt.Errorf("--cluster-etcd needs --node-id 1..255")
	}
	var out []string
	for _, u := range strings.Split(*c.etcd, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out, nil
}
