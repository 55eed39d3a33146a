package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"ipsecgw/config/schema"
	"ipsecgw/daemon"
)

func runDaemon(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "configuration file (brace or set format)")
	stateDir := fs.String("state-dir", "/var/lib/ipsecgw", "directory for state: status.json, the configuration store")
	mapFlag := fs.String("interface-map", "", "map Junos interface names to Linux ones: et-0/2/10=eth1,...")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	debug := fs.Bool("debug", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *configFile == "" {
		fmt.Fprintln(stderr, "ipsecgw daemon: --config FILE is required")
		return 2
	}
	ifmap, err := schema.ParseInterfaceMap(*mapFlag)
	if err != nil {
		fmt.Fprintf(stderr, "ipsecgw daemon: %v\n", err)
		return 2
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	hopts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if *logFormat == "json" {
		log = slog.New(slog.NewJSONHandler(stderr, hopts))
	} else {
		log = slog.New(slog.NewTextHandler(stderr, hopts))
	}

	d, err := daemon.Start(daemon.Options{ConfigFile: *configFile, StateDir: *stateDir, InterfaceMap: ifmap, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "ipsecgw daemon: refusing to start:")
		printErrors(stderr, err)
		return 1
	}
	log.Info("ipsecgw running", "config", *configFile, "pid", os.Getpid())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	for sig := range sigs {
		if sig == syscall.SIGUSR1 {
			if err := d.WriteStatus(); err != nil {
				log.Error("status", "err", err)
			} else {
				log.Info("status written", "file", d.StatusPath())
			}
			continue
		}
		log.Info("stopping", "signal", sig.String())
		break
	}
	signal.Stop(sigs)
	if err := d.Stop(); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
