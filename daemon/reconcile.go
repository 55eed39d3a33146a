package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"ipsecgw/config/schema"
	"ipsecgw/netio"
)

// A configuration is put into effect by reconcile, from whatever is running
// to the plan of the new configuration (plan.go). At start the running
// side is empty; at each commit only the difference is applied, keyed by
// what each part configures (fingerprint): an unchanged VPN keeps its SAs,
// its tunnel interface and its routes, and its traffic does not notice the
// commit.
//
// Order matters, and reconcile reads as its steps. Teardown runs first
// (VPNs, routes, tunnels, addresses), then build-up: addresses, IKE peers
// (before any packet path that may hand IKE a message), tunnel interfaces
// (down), manual SAs, tunnels up once their SAs are in (nothing the kernel
// sends at link-up meets a tunnel without an SA), sockets (a packet
// decrypted for a tunnel still down would be refused), routes (they need
// the link up), initiations.

// running is what the daemon has set up, keyed so a commit can tell what to
// keep. Only the daemon's goroutine touches it.
type running struct {
	addrs     map[string]func() error // "eth1 192.0.2.1/24" → undo
	routes    map[string]func() error // routeKey → undo
	tunnels   map[string]string       // "st0.1", "sp-1-2-0.1" → fingerprint
	vpns      map[string]runningVPN   // by name
	receivers map[receiverKey]bool
}

type runningVPN struct {
	fp      string
	remote  netip.Addr // IKE VPNs: the peer's address (the engine's key)
	version int        // IKE VPNs: the engine's IKE version
	manual  bool
	down    bool // no engine for its IKE version: nothing runs
	// local: IKE VPNs: the address the gateway runs from (the engine's
	// key with remote: gateways may share a remote address).
	local netip.Addr
}

func newRunning() running {
	return running{addrs: map[string]func() error{}, routes: map[string]func() error{}, tunnels: map[string]string{},
		vpns: map[string]runningVPN{}, receivers: map[receiverKey]bool{}}
}

// preflight checks what the host must already have, before anything
// changes: a commit that cannot apply fails with the running state intact.
// tunnels is cfg's ServiceTunnels.
func (d *Daemon) preflight(cfg *schema.Config, tunnels []ServiceTunnel) error {
	for _, ifc := range cfg.Interfaces {
		if ifc.Kind != schema.Physical {
			continue
		}
		if ifc.HostName == "" {
			return fmt.Errorf("interface %s has a Junos name and no Linux interface: map it with \"set interfaces %s host-interface NAME\" or --interface-map %s=NAME", ifc.Name, ifc.Name, ifc.Name)
		}
		if !d.host.LinkExists(ifc.HostName) {
			return fmt.Errorf("interface %s: no interface %s on this host", ifc.Name, ifc.HostName)
		}
	}
	for _, st := range tunnels {
		for _, v := range cfg.IPsec.VPNs {
			if v.Name == st.VPN.Name {
				return fmt.Errorf("vpn %s: the name is taken by a services tunnel", v.Name)
			}
		}
	}
	if err := checkServices(cfg, tunnels); err != nil {
		return err
	}
	for _, v := range cfg.IPsec.VPNs {
		if v.Manual != nil && v.BindInterface == nil {
			return fmt.Errorf("vpn %s: no bind-interface: ipsecgw runs route-based VPNs (bind-interface st0.N)", v.Name)
		}
		if v.IKE != nil {
			if _, err := gatewayLocal(v.IKE.Gateway); err != nil {
				return fmt.Errorf("vpn %s: %w", v.Name, err)
			}
		}
	}
	return d.routingPreflight(cfg)
}

// reconcile makes the running state what cfg asks for: the plan of cfg
// against what runs, in the order above.
func (d *Daemon) reconcile(cfg *schema.Config) error {
	services := ServiceTunnels(cfg)
	if err := d.preflight(cfg, services); err != nil {
		return err
	}
	want, err := newPlan(cfg, services)
	if err != nil {
		return err
	}
	d.tearDown(want)
	d.cfg.Store(cfg)
	d.services.Store(&want.services)
	d.trace.configure(cfg, d.baseLog)
	d.engine.SetTCPMSS(cfg.Flow.TCPMSS)
	if err := d.addAddresses(want); err != nil {
		return err
	}
	added := d.addedVPNs(want)
	initiate, err := d.addPeers(want, added)
	if err != nil {
		return err
	}
	newTunnels, err := d.createTunnels(want)
	if err != nil {
		return err
	}
	if err := d.addManualSAs(want, added); err != nil {
		return err
	}
	// Tunnel interfaces go up before the sockets open: a packet decrypted
	// for a tunnel that is still down is refused by the TUN (EIO).
	for _, name := range newTunnels {
		if d.st0.startsDown(cfg, name) { // its VPN has no Child SA yet (st0follow.go)
			continue
		}
		if err := d.host.SetUp(name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		d.st0.setLink(name, true) // st0follow.go
	}
	d.attachXDP(cfg)
	if err := d.openSockets(); err != nil {
		return err
	}
	if err := d.addRoutes(want); err != nil {
		return err
	}
	if err := d.applyRouting(cfg); err != nil {
		return err
	}
	d.setOnTraffic(want)
	d.monitor.configure(cfg)
	d.st0.changed() // units follow their VPNs (st0follow.go)
	d.initiate(initiate)
	return nil
}

// tearDown removes what the plan no longer has, or has changed: VPNs,
// routes, tunnel interfaces, addresses.
func (d *Daemon) tearDown(want *plan) {
	r := &d.run
	for _, name := range sortedKeys(r.vpns) {
		if st, vp := r.vpns[name], want.vpns[name]; vp == nil || vp.fp != st.fp {
			d.removeVPN(name, st)
			delete(r.vpns, name)
		}
	}
	for _, k := range sortedKeys(r.routes) {
		if _, ok := want.routes[k]; !ok {
			d.logErr("removing route", r.routes[k]())
			delete(r.routes, k)
		}
	}
	for _, name := range sortedKeys(r.tunnels) {
		if want.tunnels[name].fp != r.tunnels[name] {
			d.logErr("removing "+name, d.engine.RemoveTunnel(name))
			delete(r.tunnels, name)
			d.log.Info("tunnel interface removed", "interface", name)
		}
	}
	for _, k := range sortedKeys(r.addrs) {
		if _, ok := want.addrs[k]; !ok {
			d.logErr("removing address", r.addrs[k]())
			delete(r.addrs, k)
		}
	}
}

// addAddresses adds the addresses new in the plan and brings the physical
// interfaces up.
func (d *Daemon) addAddresses(want *plan) error {
	r := &d.run
	for _, k := range sortedKeys(want.addrs) {
		if _, ok := r.addrs[k]; ok {
			continue
		}
		a := want.addrs[k]
		undo, err := d.host.AddAddress(a.ifname, a.prefix)
		if err != nil {
			return err
		}
		r.addrs[k] = undo
	}
	for _, ifc := range want.cfg.Interfaces {
		if ifc.Kind == schema.Physical {
			if err := d.host.SetUp(ifc.HostName); err != nil {
				return fmt.Errorf("interface %s: %w", ifc.Name, err)
			}
		}
	}
	return nil
}

// addedVPNs are the plan's VPNs that do not run yet, by name.
func (d *Daemon) addedVPNs(want *plan) []string {
	var added []string
	for _, name := range sortedKeys(want.vpns) {
		if _, ok := d.run.vpns[name]; !ok {
			added = append(added, name)
		}
	}
	return added
}

// addPeers gives the IKE engines the peers of the IKE VPNs added; it
// returns those to negotiate at once (establish-tunnels immediately).
func (d *Daemon) addPeers(want *plan, added []string) ([]onTrafficPeer, error) {
	r := &d.run
	var initiate []onTrafficPeer
	down := map[string]string{}
	for name, st := range r.vpns {
		if st.down {
			down[name] = (*d.down.Load())[name]
		}
	}
	defer func() { d.down.Store(&down) }()
	for _, name := range added {
		vp := want.vpns[name]
		if vp.peer == nil {
			continue
		}
		err := d.addPeer(vp)
		var none errNoIKEVersion
		if errors.As(err, &none) {
			// Not a failed commit: the rest of the configuration runs,
			// and the show commands list this tunnel as down.
			d.log.Warn(err.Error(), "vpn", name, "gateway", vp.peer.Gateway)
			r.vpns[name] = runningVPN{fp: vp.fp, version: vp.version, down: true}
			down[name] = err.Error()
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("vpn %s: %w", name, err)
		}
		r.vpns[name] = runningVPN{fp: vp.fp, remote: vp.peer.Remote, version: vp.version, local: vp.peer.Local}
		if vp.vpn.EstablishTunnels == "immediately" {
			initiate = append(initiate, onTrafficPeer{version: vp.version, remote: vp.peer.Remote, local: vp.peer.Local, vpn: name})
		}
	}
	return initiate, nil
}

// createTunnels creates the tunnel interfaces new in the plan, down; it
// returns their names.
func (d *Daemon) createTunnels(want *plan) ([]string, error) {
	var created []string
	for _, name := range sortedKeys(want.tunnels) {
		if _, ok := d.run.tunnels[name]; ok {
			continue
		}
		t := want.tunnels[name]
		if err := d.createTunnel(t); err != nil {
			return created, err
		}
		d.run.tunnels[name] = t.fp
		created = append(created, name)
	}
	return created, nil
}

// addManualSAs installs the SAs of the manual VPNs added.
func (d *Daemon) addManualSAs(want *plan, added []string) error {
	r := &d.run
	for _, name := range added {
		vp := want.vpns[name]
		if vp.vpn.Manual == nil {
			continue
		}
		var err error
		if vp.service != nil {
			err = d.serviceManual(vp.service, r.receivers)
		} else {
			err = d.manualVPN(vp.vpn, r.receivers)
		}
		if err != nil {
			return fmt.Errorf("vpn %s: %w", name, err)
		}
		r.vpns[name] = runningVPN{fp: vp.fp, manual: true}
	}
	return nil
}

// openSockets opens the ESP and UDP 4500 receivers the VPNs need, and IKE's
// port 500, each once.
func (d *Daemon) openSockets() error {
	for _, k := range sortedReceivers(d.run.receivers) {
		if err := d.listenOnce(k); err != nil {
			return err
		}
	}
	return d.listenIKE()
}

// addRoutes adds the routes new in the plan (their tunnels are up).
func (d *Daemon) addRoutes(want *plan) error {
	r := &d.run
	for _, k := range sortedKeys(want.routes) {
		if _, ok := r.routes[k]; ok {
			continue
		}
		if d.st0.holdsDown(want.cfg, k) {
			continue // back when the unit is (st0follow.go)
		}
		rt := want.routes[k]
		undo, err := d.host.AddRoute(rt.dst, rt.via, rt.dev)
		if err != nil {
			return err
		}
		r.routes[k] = undo
	}
	return nil
}

// initiate starts the negotiations of the kept-up VPNs added.
func (d *Daemon) initiate(peers []onTrafficPeer) {
	for _, p := range peers {
		if d.haHoldInitiation(p) { // haresume.go
			continue
		}
		if ike := d.ikeEngine(p.version); ike != nil {
			if err := initiateIKE(ike, p, false); err != nil { // vpnshare.go
				d.log.Warn("IKE initiation", "remote", p.remote, "err", err)
			}
		}
	}
}

// removeVPN takes down a VPN that was configured away or changed: its IKE
// peer (a DELETE goes out for its SAs) or its manual SAs.
func (d *Daemon) removeVPN(name string, st runningVPN) {
	if ike := d.ikeEngine(st.version); ike != nil && !st.manual && !st.down {
		removeIKEVPN(ike, name, st) // vpnshare.go
	}
	for _, sa := range d.engine.InboundSAs() {
		if sa.VPN == name {
			d.engine.RemoveInbound(sa.SPI())
		}
	}
	for _, sa := range d.engine.OutboundSAs() {
		if sa.VPN == name {
			d.engine.RemoveOutbound(sa)
		}
	}
	d.log.Info("VPN taken down for the new configuration", "vpn", name)
}

// listenOnce opens a receiver the first time it is wanted; sockets stay
// open for the daemon's life (an idle one costs nothing).
func (d *Daemon) listenOnce(k receiverKey) error {
	if d.listening[k] {
		return nil
	}
	if err := d.listen(k); err != nil {
		return err
	}
	d.listening[k] = true
	return nil
}

// createTunnel creates the TUN device of a tunnel interface (st0.N, or
// the inside interface of a service set), down.
func (d *Daemon) createTunnel(t tunnelWant) error {
	name := TunnelName(t.unit)
	mtu := t.mtu
	dev, err := d.host.CreateTUN(name, mtu)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	// The engine owns and closes the device from here on; closing a TUN
	// removes the interface and its routes.
	var own []netip.Addr
	for _, a := range t.addrs {
		if _, err := d.host.AddAddress(name, a); err != nil {
			dev.Close()
			return err
		}
		own = append(own, a.Addr())
	}
	// The data plane answers packets over the tunnel MTU with ICMP from
	// this gateway's own address; the kernel takes a packet with a local
	// source address in from the tunnel only with accept_local.
	if err := d.host.AcceptLocal(name); err != nil {
		dev.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	if !t.unit.Inet6 {
		if err := d.host.DisableIPv6(name); err != nil {
			dev.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if _, err := d.engine.AddTunnel(dev, own); err != nil {
		dev.Close()
		return err
	}
	d.log.Info("tunnel interface created", "interface", t.unit.Name(), "device", name, "mtu", mtu, "tun-io", netio.TUNIO(dev))
	return nil
}

// undoRunning removes the addresses and routes the daemon added (the
// tunnel interfaces go with the engine).
func (d *Daemon) undoRunning() error {
	var errs []error
	for _, k := range sortedKeys(d.run.routes) {
		errs = append(errs, d.run.routes[k]())
	}
	for _, k := range sortedKeys(d.run.addrs) {
		errs = append(errs, d.run.addrs[k]())
	}
	d.run = newRunning()
	return errors.Join(errs...)
}

func (d *Daemon) logErr(what string, err error) {
	if err != nil {
		d.log.Warn(what, "err", err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedReceivers(m map[receiverKey]bool) []receiverKey {
	out := make([]receiverKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].family != out[j].family {
			return out[i].family < out[j].family
		}
		return out[i].port < out[j].port
	})
	return out
}
