package main

import (
	"fmt"
	"io"

	benchike "ipsecgw/bench/ike"
)

// runBench dispatches `ipsecgw bench KIND`; the benchmarks live in
// bench/..., this only names them.
func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: ipsecgw bench ike [-n N] [-inflight N] [-groups group19,group31] [-responders ipsecgw,strongswan]")
		return 2
	}
	switch args[0] {
	case "ike":
		return benchike.Main(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "ipsecgw bench: unknown benchmark %q (want ike)\n", args[0])
	return 2
}
