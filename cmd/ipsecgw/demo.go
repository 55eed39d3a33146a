package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"ipsecgw/demo"
)

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "seed004", "what to run: "+strings.Join(demo.ScenarioNames(), ", "))
	configDir := fs.String("config-dir", "", "directory holding peer1.conf and peer2.conf (default: the seed 004 examples built into the binary)")
	duration := fs.Duration("duration", 0, "keep TCP running both ways this long, then print the statistics again")
	jsonOut := fs.Bool("json", false, "print the show outputs as | display json")
	verbose := fs.Bool("verbose", false, "print the gateways' logs to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ipsecgw demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := demo.Run(ctx, demo.Options{Scenario: *scenario, ConfigDir: *configDir, Duration: *duration,
		JSON: *jsonOut, Out: stdout, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "ipsecgw demo: FAILED: %v\n", err)
		return 1
	}
	return 0
}
