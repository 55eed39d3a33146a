// Package daemon wires the parts of a running gateway together: it reads
// the configuration, builds the typed model, creates the tunnel interfaces
// (st0.N), sets addresses and routes, opens the outer sockets, installs the
// SAs in the data plane, and takes everything down again on shutdown.
//
// A commit is translated once into a plan (plan.go): every VPN, a service
// set's terms alike, with its IKE peer resolved from the configuration
// (package daemon/resolve, the only place that reads it for IKE) and its
// tunnel's data-plane parameters; reconcile (reconcile.go) applies what
// differs from what runs, step by step. The IKE engine of each version
// (ike/ikev1, ike/ikev2, one contract: package ike) takes the resolved
// peers and installs Child SAs through the daemon's installer (ike.go);
// their UDP sockets and worker pool are package daemon/ikesock.
//
// The daemon is a library; cmd/ipsecgw only parses flags and signals.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"ipsecgw/clock"
	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/config/store"
	"ipsecgw/daemon/ikesock"
	"ipsecgw/dataplane"
	"ipsecgw/frr"
	"ipsecgw/netio"
	"ipsecgw/pki"
)

// Options configure a daemon.
type Options struct {
	// ConfigFile is the configuration to start with. Without it the daemon
	// starts from the state directory's committed configuration (empty on
	// a new gateway); with it, the file is committed there first when it
	// differs.
	ConfigFile   string
	StateDir     string
	InterfaceMap map[string]string
	Logger       *slog.Logger
	// Host is how the daemon changes the host's networking; nil means the
	// real Linux host (netlink, TUN, raw sockets).
	Host Host
	// Clock times commit confirmed (clock.Real{} when nil; tests fake it).
	Clock clock.Clock
	// FRRDir is the private directory of the FRR daemons the gateway
	// starts for its routing protocols (default: under /run/ipsecgw);
	// FRRSystem uses the host's running FRR instead (routing.go).
	FRRDir    string
	FRRSystem bool
	// ClusterEtcd, when set, makes the daemon node NodeID of a cluster
	// sharing these etcd endpoints (daemon/cluster.go).
	ClusterEtcd []string
	NodeID      int
}

// Daemon is a running gateway.
type Daemon struct {
	opts   Options
	log    *slog.Logger
	host   Host
	cfg    atomic.Pointer[schema.Config] // the configuration in effect
	store  *store.Store
	engine *dataplane.Engine
	undo   []func() error // sockets, run in reverse order on shutdown
	// xdp is the AF_XDP path of raw ESP when it runs (dataplane.go).
	xdp             *netio.XDP
	dataPlaneStatus DataPlaneStatus

	// run is what the configuration has set up; ops serialises every
	// change to it (commits, clears) on one goroutine.
	run       running
	listening map[receiverKey]bool
	ops       chan func()
	opsDone   chan struct{}

	// IKE: the engine of each version, made when a VPN of that version
	// first negotiates (nil until then).
	ike          atomic.Pointer[ikeEngines]
	ikeTransport *ikesock.Transport
	ikeFamilies  map[int]bool
	onTraffic    atomic.Pointer[map[string][]onTrafficPeer] // tunnel → peers of its on-traffic VPNs
	ikeWorkers   *ikesock.Pool

	// services is the configuration in effect's services tunnels, in
	// configuration order (its plan's); down is the VPNs the daemon
	// cannot run, with the reason (an IKE version without an engine).
	// Both change with the configuration, on the daemon's goroutine.
	services atomic.Pointer[[]ServiceTunnel]
	down     atomic.Pointer[map[string]string]

	events *Events
	// monitor runs vpn-monitor (vpnmonitor.go).
	monitor *vpnMonitor
	// trace follows traceoptions; baseLog is the handler it wraps.
	trace   *tracer
	baseLog slog.Handler
	wg      sync.WaitGroup // IKE socket loops
	// stopFirst stops background loops before the engine closes.
	stopFirst []func()
	pki       *pki.Store // see pki.go
	// frr runs the routing protocols (routing.go).
	frr *frr.Instance

	cluster *clusterState // nil on a single gateway (cluster.go)

	// packetRing is the AF_PACKET path of raw ESP when it runs
	// (dataplane.go).
	packetRing *netio.PacketRing

	// st0 takes tunnel units down and up with their VPNs (st0follow.go).
	st0 *st0Follower

	// childKE is what protects the keys of each installed SA, for the
	// status (childke.go).
	childKE childKEs
}

// Load reads and validates the configuration file. The daemon refuses to
// start on an invalid configuration, with every error and where it is.
func Load(file string, ifmap map[string]string) (*schema.Config, error) {
	t, err := loadTree(file)
	if err != nil {
		return nil, err
	}
	return schema.Build(t, schema.Options{InterfaceMap: ifmap})
}

func loadTree(file string) (*config.Tree, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return config.Parse(file, src, nil)
}

// Start loads the configuration and applies it to the host. On error
// everything already set up is taken down again.
func Start(opts Options) (*Daemon, error) {
	d := &Daemon{opts: opts, log: opts.Logger, host: opts.Host, ikeFamilies: map[int]bool{}, run: newRunning(),
		listening: map[receiverKey]bool{}, ops: make(chan func()), opsDone: make(chan struct{}),
		ikeTransport: ikesock.NewTransport()}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.trace = newTracer(opts.StateDir)
	d.baseLog = d.log.Handler()
	d.log = slog.New(&traceHandler{base: d.baseLog, t: d.trace})
	d.events = newEvents(d.log)
	d.frr = newFRR(opts, d)
	if d.host == nil {
		d.host = LinuxHost{}
	}
	noPeers := map[string][]onTrafficPeer{}
	d.onTraffic.Store(&noPeers)
	noServices, noneDown := []ServiceTunnel{}, map[string]string{}
	d.services.Store(&noServices)
	d.down.Store(&noneDown)
	if opts.StateDir == "" {
		return nil, errors.New("no state directory")
	}
	if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if err := d.openPKI(); err != nil {
		return nil, err
	}
	cfg, err := d.openStore()
	if err != nil {
		return nil, err
	}
	d.monitor = newVPNMonitor(d, opts.Clock)
	go d.loop()
	d.st0 = newST0Follower(d)
	d.ikeWorkers = ikesock.NewPool(runtime.GOMAXPROCS(0), d.handleIKE, d.log)
	d.stopFirst = append(d.stopFirst, d.ikeWorkers.Stop)
	if err := d.startEngine(cfg.IPsec.DataPlane); err != nil {
		d.Stop()
		return nil, err
	}
	if err := d.do(func() error { return d.reconcile(d.clusterView(cfg)) }); err != nil {
		d.Stop()
		return nil, err
	}
	// From here on every commit goes through the daemon.
	d.store.SetApply(d.applyCommit)
	if err := d.joinCluster(cfg); err != nil {
		d.Stop()
		return nil, err
	}
	d.keepalives(natKeepaliveInterval)
	return d, nil
}

// openStore opens the configuration store in the state directory and
// returns the configuration to start with: the file's when one is given
// (committed to the store when it differs), else the store's.
func (d *Daemon) openStore() (*schema.Config, error) {
	if err := d.dialCluster(); err != nil {
		return nil, err
	}
	sopts := schema.Options{InterfaceMap: d.opts.InterfaceMap, NodeID: d.clusterNodeID()}
	st, err := store.Open(filepath.Join(d.opts.StateDir, "config"), store.Options{Schema: sopts, Clock: d.opts.Clock, Backend: d.clusterBackend()})
	if err != nil {
		return nil, err
	}
	d.store = st
	d.clusterBootstrap(st)
	if d.opts.ConfigFile == "" {
		return schema.Build(st.Committed(), sopts)
	}
	t, err := loadTree(d.opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	cfg, err := schema.Build(t, sopts)
	if err != nil {
		return nil, err
	}
	if config.FormatBrace(t.Root) != config.FormatBrace(st.Committed().Root) {
		// The store has no apply hook yet: Start applies it below.
		st.Replace(t)
		if _, err := st.Commit(store.CommitOptions{User: "root", Comment: "loaded from " + d.opts.ConfigFile}); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// startEngine opens the outer sockets and starts the data plane, on the
// raw ESP path dataPlane asks for.
func (d *Daemon) startEngine(dataPlane string) error {
	send4, err := d.host.NewRawSender(4)
	if err != nil {
		return fmt.Errorf("outer IPv4 socket: %w", err)
	}
	d.undo = append(d.undo, send4.Close)
	send6, err := d.host.NewRawSender(6)
	if err != nil {
		d.log.Warn("no outer IPv6 socket; IPv6 tunnels are unavailable", "err", err)
		send6 = nil
	} else {
		d.undo = append(d.undo, send6.Close)
	}
	send4, send6 = d.dataPlane(dataPlane, send4, send6)
	d.engine = dataplane.New(dataplane.Config{Logger: d.log.With("subsystem", "dataplane"), Send4: send4, Send6: send6, IKE: d.ikeOn4500, NoSA: d.trafficWithoutSA,
		UDPViaSend: d.xdp != nil || d.packetRing != nil})
	return nil
}

// loop runs the changes to the running state one at a time.
func (d *Daemon) loop() {
	defer close(d.opsDone)
	for op := range d.ops {
		op()
	}
}

// do runs fn on the daemon's goroutine and waits for it.
func (d *Daemon) do(fn func() error) error {
	done := make(chan error, 1)
	d.ops <- func() { done <- fn() }
	return <-done
}

// applyCommit is the store's door into the running daemon: it applies a
// validated configuration, and if that fails half way puts the previous
// one back, so a failed commit leaves the gateway as it was.
func (d *Daemon) applyCommit(cfg *schema.Config) error {
	return d.do(func() error {
		prev := d.cfg.Load()
		if err := checkServicePorts(prev, cfg); err != nil {
			return err
		}
		if err := d.reconcile(d.clusterView(cfg)); err != nil {
			if prev != nil {
				d.logErr("restoring the previous configuration", d.reconcile(prev))
			}
			return err
		}
		d.clusterCommitted(cfg)
		d.events.publish(Event{Kind: "config-committed", Time: time.Now()})
		return nil
	})
}

// Store is the configuration database (candidate, committed, rollbacks).
func (d *Daemon) Store() *store.Store { return d.store }

// Events is the daemon's event feed.
func (d *Daemon) Events() *Events { return d.events }

// natKeepaliveInterval is how often UDP-encapsulated SAs on 4500 send a
// NAT keepalive (Junos nat-keepalive default, 20 s).
const natKeepaliveInterval = 20 * time.Second

// keepalives sends NAT keepalives until Stop.
func (d *Daemon) keepalives(every time.Duration) {
	stop := make(chan struct{})
	done := make(chan struct{})
	engine := d.engine
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				engine.SendKeepalives()
			}
		}
	}()
	// Stop the ticker before the engine closes (undo runs after it).
	d.stopFirst = append(d.stopFirst, func() { close(stop); <-done })
}

// Run starts the daemon and keeps it running until ctx is done.
func Run(ctx context.Context, opts Options) error {
	d, err := Start(opts)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return d.Stop()
}

// Stop takes down everything the daemon set up: SAs, sockets, tunnel
// interfaces (their routes go with them), addresses and routes it added.
func (d *Daemon) Stop() error {
	var errs []error
	d.leaveCluster() // before anything else: its groups stop here first
	d.monitor.stop() // its actions go through the daemon's goroutine
	d.st0.stop()     // so do its
	if d.store != nil {
		d.store.Close() // no commit confirmed fires during shutdown
	}
	select {
	case <-d.opsDone:
	default:
		if d.ops != nil {
			// Wait for a change in progress, then stop taking more.
			d.do(func() error { return nil })
			close(d.ops)
			<-d.opsDone
		}
	}
	for _, f := range d.stopFirst {
		f()
	}
	d.stopFirst = nil
	d.stopRouting()
	for _, ike := range d.ikeAll() {
		// DELETE for every IKE SA while the sockets are still open.
		ike.Close()
	}
	if d.engine != nil {
		// The engine stays referenced: a late IKE callback must find a
		// closed engine, not a nil one.
		errs = append(errs, d.engine.Close())
	}
	errs = append(errs, d.undoRunning())
	for i := len(d.undo) - 1; i >= 0; i-- {
		errs = append(errs, d.undo[i]())
	}
	d.undo = nil
	d.wg.Wait()
	d.events.close()
	d.trace.close()
	return errors.Join(errs...)
}

// Engine returns the data plane (for status and tests).
func (d *Daemon) Engine() *dataplane.Engine { return d.engine }

// Config returns the configuration in effect.
func (d *Daemon) Config() *schema.Config { return d.cfg.Load() }

// StatusPath is where WriteStatus writes.
func (d *Daemon) StatusPath() string { return filepath.Join(d.opts.StateDir, "status.json") }
