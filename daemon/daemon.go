// Package daemon wires the parts of a running gateway together: it reads
// the configuration, builds the typed model, creates the tunnel interfaces
// (st0.N), sets addresses and routes, opens the outer sockets, installs the
// SAs in the data plane, and takes everything down again on shutdown.
//
// The daemon is a library; cmd/ipsecgw only parses flags and signals.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/dataplane"
	"ipsecgw/ike/ikev2"
)

// Options configure a daemon.
type Options struct {
	ConfigFile   string
	StateDir     string
	InterfaceMap map[string]string
	Logger       *slog.Logger
	// Host is how the daemon changes the host's networking; nil means the
	// real Linux host (netlink, TUN, raw sockets).
	Host Host
}

// Daemon is a running gateway.
type Daemon struct {
	opts   Options
	log    *slog.Logger
	host   Host
	cfg    *schema.Config
	engine *dataplane.Engine
	undo   []func() error // run in reverse order on shutdown

	// IKE: nil when no VPN negotiates its SAs.
	ike          *ikev2.Engine
	ikeTransport *ikeTransport
	ikeFamilies  map[int]bool
	ikeInitiate  []*ikev2.Peer
	onTraffic    map[string][]netip.Addr // tunnel → peers of its on-traffic VPNs
	wg           sync.WaitGroup          // IKE socket loops
	// stopFirst stops background loops before the engine closes.
	stopFirst []func()
}

// Load reads and validates the configuration file. The daemon refuses to
// start on an invalid configuration, with every error and where it is.
func Load(file string, ifmap map[string]string) (*schema.Config, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	t, err := config.Parse(file, src, nil)
	if err != nil {
		return nil, err
	}
	return schema.Build(t, schema.Options{InterfaceMap: ifmap})
}

// Start loads the configuration and applies it to the host. On error
// everything already set up is taken down again.
func Start(opts Options) (*Daemon, error) {
	d := &Daemon{opts: opts, log: opts.Logger, host: opts.Host, ikeFamilies: map[int]bool{}, onTraffic: map[string][]netip.Addr{}}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.host == nil {
		d.host = LinuxHost{}
	}
	if opts.StateDir != "" {
		if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
	}
	cfg, err := Load(opts.ConfigFile, opts.InterfaceMap)
	if err != nil {
		return nil, err
	}
	d.cfg = cfg
	if err := d.apply(); err != nil {
		d.Stop()
		return nil, err
	}
	d.keepalives(natKeepaliveInterval)
	return d, nil
}

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
	for _, f := range d.stopFirst {
		f()
	}
	d.stopFirst = nil
	if d.ike != nil {
		// DELETE for every IKE SA while the sockets are still open.
		d.ike.Close()
	}
	if d.engine != nil {
		// The engine stays referenced: a late IKE callback must find a
		// closed engine, not a nil one.
		errs = append(errs, d.engine.Close())
	}
	for i := len(d.undo) - 1; i >= 0; i-- {
		errs = append(errs, d.undo[i]())
	}
	d.undo = nil
	d.wg.Wait()
	return errors.Join(errs...)
}

// Engine returns the data plane (for status and tests).
func (d *Daemon) Engine() *dataplane.Engine { return d.engine }

// Config returns the configuration in effect.
func (d *Daemon) Config() *schema.Config { return d.cfg }

// StatusPath is where WriteStatus writes.
func (d *Daemon) StatusPath() string { return filepath.Join(d.opts.StateDir, "status.json") }
