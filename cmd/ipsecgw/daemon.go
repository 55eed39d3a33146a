package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/mgmt"
)

// daemonArgs are the daemon's flags.
type daemonArgs struct {
	configFile, stateDir, socket, metricsListen, interfaceMap, logFormat *string
	debug                                                                *bool
	frrDir                                                               *string
	frrSystem                                                            *bool
	cluster                                                              clusterArgs
}

func daemonFlags(stderr io.Writer) (*flag.FlagSet, daemonArgs) {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	a := daemonArgs{
		configFile:    fs.String("config", "", "configuration file (brace or set format) to start with; without it, the state directory's committed configuration"),
		stateDir:      fs.String("state-dir", "/var/lib/ipsecgw", "directory for state: the configuration store, status.json, trace files"),
		socket:        fs.String("socket", defaultSocket, "unix socket of the management API (the CLI's door)"),
		metricsListen: fs.String("metrics-listen", "", "serve Prometheus metrics at http://ADDR/metrics (host:port)"),
		interfaceMap:  fs.String("interface-map", "", "map Junos interface names to Linux ones: et-0/2/10=eth1,..."),
		logFormat:     fs.String("log-format", "text", "log format: text or json"),
		debug:         fs.Bool("debug", false, "debug logging"),
		frrDir:        fs.String("frr-dir", "", "private directory of the FRR daemons ipsecgw starts for protocols bgp/ospf (default: under /run/ipsecgw, one per state directory)"),
		frrSystem:     fs.Bool("frr-system", false, "use the host's running FRR (its vtysh and frr-reload.py) instead of starting FRR daemons"),
	}
	a.cluster = clusterFlags(fs)
	return fs, a
}

func runDaemon(args []string, stdout, stderr io.Writer) int {
	fs, a := daemonFlags(stderr)
	configFile, stateDir, socket, metricsListen := a.configFile, a.stateDir, a.socket, a.metricsListen
	mapFlag, logFormat, debug := a.interfaceMap, a.logFormat, a.debug
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ifmap, err := schema.ParseInterfaceMap(*mapFlag)
	if err != nil {
		fmt.Fprintf(stderr, "ipsecgw daemon: %v\n", err)
		return 2
	}
	etcd, err := a.cluster.endpoints()
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

	// Signals are taken from here on, before the daemon starts: a SIGUSR1
	// that arrives while Start is still setting up (a tunnel interface is
	// already visible) waits in the channel instead of being dropped by
	// the Go runtime, which discards un-notified SIGUSR1.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	d, err := daemon.Start(daemon.Options{ConfigFile: *configFile, StateDir: *stateDir, InterfaceMap: ifmap, Logger: log,
		FRRDir: *a.frrDir, FRRSystem: *a.frrSystem,
		ClusterEtcd: etcd, NodeID: *a.cluster.nodeID})
	if err != nil {
		fmt.Fprintln(stderr, "ipsecgw daemon: refusing to start:")
		printErrors(stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api := mgmt.NewServer(d, log, version)
	apiDone := make(chan error, 1)
	l, err := mgmt.Listen(*socket)
	if err != nil {
		fmt.Fprintf(stderr, "ipsecgw daemon: %v\n", err)
		d.Stop()
		return 1
	}
	go func() { apiDone <- api.ServeListener(ctx, l, *socket) }()
	dr, err := startDoors(ctx, log, *socket, *stateDir) // SSH and NETCONF (doors.go)
	if err != nil {
		fmt.Fprintf(stderr, "ipsecgw daemon: %v\n", err)
		cancel()
		<-apiDone
		d.Stop()
		return 1
	}
	if *metricsListen != "" {
		m := mgmt.Metrics(d)
		dr.register(m)
		go func() {
			if err := m.Serve(ctx, *metricsListen); err != nil {
				log.Error("metrics", "err", err)
			}
		}()
	}
	log.Info("ipsecgw running", "config", *configFile, "socket", *socket, "metrics", *metricsListen, "pid", os.Getpid())
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
	cancel()
	dr.wait()
	if err := <-apiDone; err != nil {
		log.Error("API", "err", err)
	}
	if err := d.Stop(); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
