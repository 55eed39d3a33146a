package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"ipsecgw/cli"
	"ipsecgw/mgmt/mgmtpb"
)

// defaultSocket is where the daemon serves the management API.
const defaultSocket = "/run/ipsecgw/ipsecgw.sock"

func runCLIClient(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := defaultSocket
	if env := os.Getenv("IPSECGW_SOCKET"); env != "" {
		socket = env
	}
	fs.StringVar(&socket, "socket", socket, "management socket of the daemon (env IPSECGW_SOCKET)")
	command := fs.String("c", "", `run COMMAND (several separated by ";") and exit`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ipsecgw cli: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	// NewClient does not connect: a daemon that is not running shows up as
	// the error of the first command.
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(stderr, "ipsecgw cli: %v\n", err)
		return 1
	}
	defer conn.Close()
	s := cli.NewSession(mgmtpb.NewConfigClient(conn), mgmtpb.NewOperationalClient(conn), cliUser(), cliHost())
	ctx := context.Background()
	if *command != "" {
		if err := s.RunCommands(ctx, *command, stdout); err != nil {
			fmt.Fprintln(stderr, err.Error())
			return 1
		}
		return 0
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		if err := s.RunTerminal(ctx, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(stderr, "ipsecgw cli: %v\n", err)
			return 1
		}
		return 0
	}
	failed, err := s.RunLines(ctx, os.Stdin, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "ipsecgw cli: %v\n", err)
		return 1
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func cliUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

func cliHost() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "ipsecgw"
	}
	return h
}
