package daemon

import (
	"net/netip"
	"sort"
	"sync"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/vpnmon"
)

// st0 follows its VPN, as on Junos: a route-based VPN's tunnel unit is up
// while the VPN has a usable Child SA (an outbound SA installed) and down
// while it has none, so static routes through it are withdrawn and routing
// daemons see the interface go the moment the VPN is lost, whatever lost
// it (dead peer detection, a DELETE from the peer, a clear, a lifetime
// nothing replaced, a tunnel with establish-tunnels immediately that has
// not come up yet). A rekey installs the new SA before it removes the old
// one, so it never takes the unit down.
//
// A unit stays up, as Junos keeps it:
//   - for a manual-SA VPN (its SA is always there);
//   - for an establish-tunnels on-traffic VPN (the default): its traffic
//     into the unit is what starts the negotiation, so a unit down would
//     never bring its VPN up (vpn-monitor still takes it down, vpnmonitor.go);
//   - when one of the VPNs bound to it does: a unit several VPNs share is
//     down only when all that follow it are down.
//
// A following VPN that vpn-monitor declared down stays down, even with new
// SAs, until the monitor says it is up (the monitor then sets the unit up).
//
// On a cluster node the unit is left alone: the standby holds no SAs, and
// the cluster decides where traffic goes (cluster.go).
//
// The hooks (installer.InstallOutbound and RemoveChild, the end of
// reconcile) only kick; a goroutine of its own then applies the state on
// the daemon's goroutine, because the installer runs under the IKE
// engine's lock and the daemon's goroutine may be waiting for that lock.

// st0Follower takes tunnel units down and up with their VPNs.
type st0Follower struct {
	d    *Daemon
	kick chan struct{}
	quit chan struct{}
	done chan struct{}

	mu   sync.Mutex
	down map[string]bool // units held down, by Linux name (daemon goroutine writes)
	// linkDown is the units the daemon has set down, by Linux name: held
	// down here or taken down by vpn-monitor (unitDown, unitUp). Status
	// reports it, so show interfaces says what the link is.
	linkDown map[string]bool
	// coming is the units a following VPN's inbound SA came to while the
	// VPN had no outbound one yet, by Linux name, with when: their link
	// stays up for what the peer sends first (inboundComing), until the
	// VPN is up or comingFor has passed.
	coming map[string]time.Time
	// established is the units that have been up with a Child SA since
	// they last went down, by Linux name (daemon goroutine): only such a
	// unit going down is a VPN lost, a warning and an event; one whose
	// VPN has not come up yet (as at start) is only waiting.
	established map[string]bool
}

// comingFor bounds how long a unit's link stays up for an inbound SA
// whose outbound one does not follow (a Quick Mode whose third message
// never came).
const comingFor = 30 * time.Second

func newST0Follower(d *Daemon) *st0Follower {
	f := &st0Follower{d: d, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		down: map[string]bool{}, linkDown: map[string]bool{}, coming: map[string]time.Time{}, established: map[string]bool{}}
	go f.loop()
	return f
}

// changed asks for the units to be checked again; it never blocks.
func (f *st0Follower) changed() {
	if f == nil {
		return
	}
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *st0Follower) loop() {
	defer close(f.done)
	for {
		select {
		case <-f.quit:
			return
		case <-f.kick:
		}
		done := make(chan struct{})
		select { // not d.do: the daemon may be stopping
		case f.d.ops <- func() { f.apply(); close(done) }:
			<-done
		case <-f.quit:
			return
		}
	}
}

// stop ends the follower before the daemon stops taking operations.
func (f *st0Follower) stop() {
	if f == nil {
		return
	}
	select {
	case <-f.quit:
	default:
		close(f.quit)
	}
	<-f.done
}

// unitVPN is what the decision needs of one VPN bound to a unit.
type unitVPN struct {
	unit    string // Linux name of its tunnel unit
	follows bool   // its unit goes down with it (IKE, not on-traffic)
	up      bool   // an outbound SA is installed
}

// unitsDown is the decision: the units to hold down. A unit is down when
// every VPN bound to it follows it and none of them is up.
func unitsDown(vpns []unitVPN) map[string]bool {
	down := map[string]bool{}
	for _, v := range vpns {
		if _, seen := down[v.unit]; !seen {
			down[v.unit] = true
		}
		if !v.follows || v.up {
			down[v.unit] = false
		}
	}
	for u, d := range down {
		if !d {
			delete(down, u)
		}
	}
	return down
}

// followsVPN reports whether v's unit goes down with it.
func followsVPN(v *schema.VPN) bool {
	if v.BindInterface == nil || v.BindInterface.Interface == nil || v.BindInterface.Interface.Kind != schema.Tunnel {
		return false
	}
	if v.Manual != nil || v.IKE == nil {
		return false
	}
	return v.EstablishTunnels != "" && v.EstablishTunnels != "on-traffic"
}

// wanted reads the configuration and the data plane (daemon goroutine):
// the units to hold down, and those with a following VPN that has an
// outbound SA.
func (f *st0Follower) wanted(cfg *schema.Config) (down, withSA map[string]bool) {
	withSA = map[string]bool{}
	if cfg == nil || len(f.d.opts.ClusterEtcd) > 0 {
		return map[string]bool{}, withSA
	}
	up := map[string]bool{}
	for _, sa := range f.d.engine.OutboundSAs() {
		up[sa.VPN] = true
	}
	// A VPN vpn-monitor declared down is down until the monitor says it
	// is up again, new SAs or not (vpnmonitor.go).
	mon := f.d.monitor.status()
	var vpns []unitVPN
	for _, v := range cfg.IPsec.VPNs {
		if v.BindInterface == nil {
			continue
		}
		uv := unitVPN{unit: TunnelName(v.BindInterface), follows: followsVPN(v),
			up: up[v.Name] && mon[v.Name].State != vpnmon.StateDown}
		if uv.follows && uv.up {
			withSA[uv.unit] = true
		}
		vpns = append(vpns, uv)
	}
	return unitsDown(vpns), withSA
}

// startsDown reports whether a tunnel unit reconcile has just created
// goes without being set up: its VPN follows it and has no Child SA yet
// (establish-tunnels immediately or responder-only, at start or in a
// commit that adds it). The follower holds it down from here on, so its
// routes are left out and it is not set up only to go down again at the
// next apply; the first outbound SA brings it up (apply), an inbound one
// sets its link up first (inboundComing). Daemon goroutine, before the
// sockets open.
func (f *st0Follower) startsDown(cfg *schema.Config, unit string) bool {
	if f == nil || f.d.engine == nil {
		return false
	}
	down, _ := f.wanted(cfg)
	if !down[unit] {
		return false
	}
	f.mu.Lock()
	f.down[unit] = true
	f.linkDown[unit] = true
	f.mu.Unlock()
	delete(f.established, unit)
	f.d.log.Info("tunnel interface held down until its VPN has a Child SA", "interface", unit)
	return true
}

// apply brings the units to the state wanted (on the daemon's goroutine).
// A unit held down is set down again each time (a commit may have created
// it anew, up); a unit comes up, with its addresses and routes, once.
func (f *st0Follower) apply() {
	if f.d.engine == nil {
		return
	}
	cfg := f.d.cfg.Load()
	want, withSA := f.wanted(cfg)
	f.mu.Lock()
	was := f.down
	f.down = want
	f.mu.Unlock()
	for unit := range withSA {
		f.established[unit] = true
	}
	for _, unit := range sortedKeys(want) {
		if f.isComing(unit) {
			f.d.withdrawRoutes(cfg, unit) // its link stays up (inboundComing)
		} else {
			f.d.unitDown(cfg, unit)
			if f.isComing(unit) { // an inbound SA came while it went down
				f.d.logErr("setting "+unit+" up", f.d.host.SetUp(unit))
				f.setLink(unit, true)
			}
		}
		switch {
		case was[unit]:
		case f.established[unit]: // its VPN was up and lost its SA
			delete(f.established, unit)
			f.d.log.Warn("tunnel interface down: its VPN has no Child SA", "interface", unit)
			f.d.events.publish(Event{Kind: "tunnel-interface-down", Time: time.Now(), Interface: unit,
				Reason: unit + " down: its VPN has no Child SA"})
		default: // its VPN has not come up yet (a commit made the unit follow it)
			f.d.log.Info("tunnel interface held down until its VPN has a Child SA", "interface", unit)
		}
	}
	for unit := range f.established {
		if unitOf(cfg, unit) == nil { // configured away
			delete(f.established, unit)
		}
	}
	f.mu.Lock()
	for unit := range f.coming {
		if !want[unit] { // up (or no longer following): nothing to wait for
			delete(f.coming, unit)
		}
	}
	f.mu.Unlock()
	for _, unit := range sortedKeys(was) {
		if want[unit] || unitOf(cfg, unit) == nil { // held, or configured away
			continue
		}
		f.d.unitUp(cfg, unit)
		f.d.log.Info("tunnel interface up: its VPN has a Child SA", "interface", unit)
		f.d.events.publish(Event{Kind: "tunnel-interface-up", Time: time.Now(), Interface: unit,
			Reason: unit + " up: its VPN has a Child SA"})
	}
}

// inboundComing keeps the link of vpn's unit up from the moment an
// inbound SA is about to be installed (from the installer's goroutine): a
// packet decrypted for a unit that is down is refused by the TUN (EIO),
// and the peer may send (IPv6 neighbour discovery as its own unit comes
// up) before the outbound SA is in. It sets a unit held down up at once,
// and marks it coming so that an apply running before the outbound SA is
// in (one kicked earlier) withdraws its routes but leaves its link up.
// Addresses and routes follow with apply, once the outbound SA is in.
func (f *st0Follower) inboundComing(vpn string) {
	if f == nil {
		return
	}
	v := f.d.vpnByName(vpn)
	if v == nil || !followsVPN(v) || f.d.monitor.status()[vpn].State == vpnmon.StateDown {
		return // stays up anyway, or vpn-monitor keeps it down
	}
	unit := TunnelName(v.BindInterface)
	f.mu.Lock()
	f.coming[unit] = time.Now()
	held := f.down[unit]
	f.mu.Unlock()
	time.AfterFunc(comingFor, f.changed) // down again if no outbound SA followed
	if held {
		f.d.logErr("setting "+unit+" up", f.d.host.SetUp(unit))
		f.setLink(unit, true)
	}
}

// isComing reports whether unit's link stays up for an inbound SA
// (inboundComing).
func (f *st0Follower) isComing(unit string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.coming[unit]
	return ok && time.Since(t) < comingFor
}

// holdsDown reports whether the route of key k goes through a unit held
// down: reconcile leaves it out until the unit is up again (the kernel
// refuses a route through a device that is down).
func (f *st0Follower) holdsDown(cfg *schema.Config, k string) bool {
	if f == nil || cfg == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for unit := range f.down {
		if routeThrough(k, unit, unitSubnets(cfg, unit)) {
			return true
		}
	}
	return false
}

// isDown reports whether the follower holds unit down (for status).
func (f *st0Follower) isDown(unit string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[unit]
}

// setLink records that the daemon set unit's link up or down.
func (f *st0Follower) setLink(unit string, up bool) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if up {
		delete(f.linkDown, unit)
	} else {
		f.linkDown[unit] = true
	}
}

// linksDown is the configured tunnel units whose link the daemon has set
// down, by their Junos names, sorted (for status).
func (f *st0Follower) linksDown(cfg *schema.Config) []string {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for unit := range f.linkDown {
		if u := unitOf(cfg, unit); u != nil {
			out = append(out, u.Name())
		}
	}
	sort.Strings(out)
	return out
}

// unitOf is the configured unit of a Linux tunnel name.
func unitOf(cfg *schema.Config, unit string) *schema.Unit {
	if cfg == nil {
		return nil
	}
	for _, v := range cfg.IPsec.VPNs {
		if v.BindInterface != nil && TunnelName(v.BindInterface) == unit {
			return v.BindInterface
		}
	}
	return nil
}

// unitSubnets are the subnets of unit's addresses: next hops in them go
// through the unit too.
func unitSubnets(cfg *schema.Config, unit string) []netip.Prefix {
	u := unitOf(cfg, unit)
	if u == nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range tunnelAddresses(cfg, u) {
		out = append(out, a.Masked())
	}
	return out
}

// unitDown sets a tunnel unit down and forgets the routes through it (the
// kernel removed them) (daemon goroutine).
func (d *Daemon) unitDown(cfg *schema.Config, unit string) {
	if h, ok := d.host.(linkDowner); ok {
		d.logErr("setting "+unit+" down", h.SetDown(unit))
	}
	d.st0.setLink(unit, false) // its routes are gone, whatever the host
	d.withdrawRoutes(cfg, unit)
}

// withdrawRoutes removes the routes through a tunnel unit (daemon
// goroutine); after the link went down the kernel has, and undo only
// finds them gone.
func (d *Daemon) withdrawRoutes(cfg *schema.Config, unit string) {
	onLink := unitSubnets(cfg, unit)
	for k, undo := range d.run.routes {
		if routeThrough(k, unit, onLink) {
			undo()
			delete(d.run.routes, k)
		}
	}
}

// unitUp sets a tunnel unit up and puts back its addresses (IPv6 ones go
// with the link) and the configuration's routes (daemon goroutine). Only
// the routes, not a whole reconcile: that checks and reloads FRR's
// configuration, seconds of the daemon's goroutine for each unit that
// comes up, while the units after it wait down (TestCloudVPN's second
// unit came up 6 s after its Child SA). FRR sees the link itself.
func (d *Daemon) unitUp(cfg *schema.Config, unit string) {
	u := unitOf(cfg, unit)
	if u == nil {
		return
	}
	d.logErr("setting "+unit+" up", d.host.SetUp(unit))
	d.st0.setLink(unit, true)
	for _, a := range tunnelAddresses(cfg, u) {
		_, err := d.host.AddAddress(unit, a)
		d.logErr("address of "+unit, err)
	}
	want, err := newPlan(cfg, *d.services.Load()) // the running configuration's, as its commit computed them
	if err == nil {
		err = d.addRoutes(want)
	}
	d.logErr("routes of "+unit, err)
	// From vpn-monitor's up, the follower may still hold the unit (its
	// routes were left out above): it lets go, and adds them, in apply.
	d.st0.changed()
}
