package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/frr"
)

// Routing protocols run in FRR (package frr). A configuration's routing is
// rendered for FRR and checked by FRR's dry run in preflight, so a commit
// FRR would refuse is refused before anything changes; it is applied at
// the end of reconcile, once the tunnel interfaces it names exist. A
// failure there fails the commit, and applyCommit's restore reloads the
// previous rendering. Without routing no FRR runs; the daemons started are
// stopped when routing is configured away and on shutdown.

// frrTimeout bounds one check or reload (frr-reload.py runs vtysh a few
// times).
const frrTimeout = 60 * time.Second

// newFRR makes the daemon's FRR instance from its options.
func newFRR(opts Options, d *Daemon) *frr.Instance {
	dir := opts.FRRDir
	if dir == "" {
		abs, _ := filepath.Abs(opts.StateDir)
		sum := sha256.Sum256([]byte(abs))
		// Under /run: FRR's daemons run as user frr, which must reach
		// the directory; the state directory is root's alone.
		dir = filepath.Join("/run/ipsecgw", "frr-"+hex.EncodeToString(sum[:6]))
	}
	if opts.FRRSystem {
		dir = opts.StateDir
	}
	return &frr.Instance{Dir: dir, System: opts.FRRSystem, RemoveOnStop: opts.FRRDir == "" && !opts.FRRSystem, Log: d.log.With("subsystem", "frr")}
}

// renderRouting renders cfg's routing for FRR (nil without routing).
func renderRouting(cfg *schema.Config) (*frr.Rendering, error) {
	return frr.Render(cfg, frr.Options{IfName: LinuxName})
}

// LinuxName is the Linux interface of a configured unit: a physical
// interface's mapped name, lo, or the tunnel interface ipsecgw makes.
func LinuxName(u *schema.Unit) string {
	switch u.Interface.Kind {
	case schema.Physical, schema.Loopback:
		return u.Interface.HostName
	}
	return TunnelName(u)
}

// routingPreflight renders the routing and has FRR check it.
func (d *Daemon) routingPreflight(cfg *schema.Config) error {
	r, err := renderRouting(cfg)
	if err != nil || r == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), frrTimeout)
	defer cancel()
	return d.frr.Check(ctx, r)
}

// applyRouting makes FRR run cfg's routing (or stops it).
func (d *Daemon) applyRouting(cfg *schema.Config) error {
	r, err := renderRouting(cfg)
	if err != nil {
		return err
	}
	if r == nil && !d.frr.Running() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), frrTimeout)
	defer cancel()
	if err := d.frr.Apply(ctx, r); err != nil {
		return err
	}
	if r != nil {
		d.log.Info("routing configuration applied to FRR", "daemons", r.Daemons)
	} else {
		d.log.Info("routing configured away: FRR stopped")
	}
	return nil
}

// stopRouting stops the FRR daemons the daemon started.
func (d *Daemon) stopRouting() {
	if d.frr != nil {
		d.frr.Stop()
	}
}

// FRR is the daemon's FRR, for the show commands (vtysh).
func (d *Daemon) FRR() *frr.Instance { return d.frr }
