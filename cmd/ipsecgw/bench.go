package main

import (
	"fmt"
	"io"

	benchcluster "ipsecgw/bench/cluster"
	benchike "ipsecgw/bench/ike"
)

// runBench dispatches `ipsecgw bench KIND`; the benchmarks live in
// bench/..., this only names them.
func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: ipsecgw bench ike [-n N] [-inflight N] [-groups group19,group31] [-responders ipsecgw,strongswan]")
		fmt.Fprintln(stderr, "       ipsecgw bench cluster [-nodes 1,2,3] [-srgs N] [-n N] [-t DURATION]")
		return 2
	}
	switch args[0] {
	case "ike":
		return benchike.Main(args[1:], stdout, stderr)
	case "cluster":
		return benchcluster.Main(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "ipsecgw bench: unknown benchmark %q (want ike or cluster)\n", args[0])
	return 2
}
