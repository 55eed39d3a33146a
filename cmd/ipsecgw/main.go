// Command ipsecgw is an IPsec VPN gateway that configures and reports like
// Junos OS. This main only parses the command line and wires packages.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"config", "check, show and compare configuration files", runConfig},
		{"cli", "Junos-style command line of a running daemon (--socket PATH, -c COMMAND)", runCLIClient},
		{"demo", "seed 004 in one process, unprivileged: two gateways, two hosts, IKEv2, ping, TCP, show", runDemo},
		{"daemon", "run the gateway: tunnel interfaces, routes, SAs (needs CAP_NET_ADMIN)", runDaemon},
		{"bench", "benchmarks against strongSwan: ike (tunnel setup rate and memory; needs root)", runBench},
		{"version", "print the version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "ipsecgw: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ipsecgw COMMAND [ARGS]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "ipsecgw %s\n", version)
	return 0
}
