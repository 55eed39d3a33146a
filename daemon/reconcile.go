package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"ipsecgw/config/schema"
)

// A configuration is put into effect by reconcile, from whatever is running
// to what the new configuration asks for. At start the running side is
// empty; at each commit only the difference is applied, keyed by what each
// part configures (fingerprint): an unchanged VPN keeps its SAs, its tunnel
// interface and its routes, and its traffic does not notice the commit.
//
// Order matters. Teardown runs first (VPNs, routes, tunnels, addresses),
// then build-up: addresses, IKE peers (before any packet path that may hand
// IKE a message), tunnel interfaces (down), manual SAs, sockets, tunnels up
// once their SAs are in (nothing the kernel sends at link-up meets a tunnel
// without an SA), routes (they need the link up), initiations.

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
}

func newRunning() running {
	return running{addrs: map[string]func() error{}, routes: map[string]func() error{}, tunnels: map[string]string{},
		vpns: map[string]runningVPN{}, receivers: map[receiverKey]bool{}}
}

// desired is what a configuration asks for, in the same keys as running.
type desired struct {
	addrs   map[string]addrWant
	routes  map[string]routeWant
	tunnels map[string]tunnelWant // by Linux name (TunnelName)
	vpns    map[string]*schema.VPN
	vpnFP   map[string]string
	// services are the services tunnels among vpns, by VPN name.
	services map[string]*ServiceTunnel
}

type addrWant struct {
	ifname string
	prefix netip.Prefix
}

type routeWant struct {
	dst netip.Prefix
	via netip.Addr
	dev string
}

type tunnelWant struct {
	ifc   *schema.Interface
	unit  *schema.Unit
	addrs []netip.Prefix
	fp    string
}

func plan(cfg *schema.Config) desired {
	w := desired{addrs: map[string]addrWant{}, routes: map[string]routeWant{}, tunnels: map[string]tunnelWant{},
		vpns: map[string]*schema.VPN{}, vpnFP: map[string]string{}, services: serviceTunnelsByVPN(cfg)}
	tunnel := func(ifc *schema.Interface, u *schema.Unit) {
		addrs := tunnelAddresses(cfg, u)
		fp := fmt.Sprintf("mtu=%d inet6=%v addrs=%v", TunnelMTU(cfg, ifc, u), u.Inet6, addrs)
		w.tunnels[TunnelName(u)] = tunnelWant{ifc: ifc, unit: u, addrs: addrs, fp: fp}
	}
	for _, ifc := range cfg.Interfaces {
		for _, u := range ifc.Units {
			switch ifc.Kind {
			case schema.Physical, schema.Loopback:
				for _, a := range u.Addresses {
					w.addrs[ifc.HostName+" "+a.String()] = addrWant{ifname: ifc.HostName, prefix: a}
				}
			case schema.Tunnel:
				tunnel(ifc, u)
			}
		}
	}
	// The inside interface of a service set with rules is the tunnel
	// interface of the set's tunnels; the outside one needs no device.
	for _, st := range w.services {
		tunnel(st.Set.Inside.Interface, st.Set.Inside)
	}
	for _, r := range cfg.Routes {
		for _, u := range r.Interfaces {
			dev, tag := TunnelName(u), ""
			if u.Interface.Kind == schema.Physical {
				dev = u.Interface.HostName
			} else {
				// A route out of a tunnel goes with the interface when
				// that is re-created; the key changes with it.
				tag = w.tunnels[dev].fp
			}
			w.routes[fmt.Sprintf("%s dev %s %s", r.Prefix, dev, tag)] = routeWant{dst: r.Prefix, dev: dev}
		}
		for _, gw := range r.Gateways {
			w.routes[fmt.Sprintf("%s via %s", r.Prefix, gw)] = routeWant{dst: r.Prefix, via: gw}
		}
	}
	vpnFP := func(v *schema.VPN, extra any) string {
		fp := fingerprint(v)
		if extra != nil {
			fp += " " + fingerprint(extra)
		}
		if v.BindInterface != nil {
			fp += " tunnel:" + w.tunnels[TunnelName(v.BindInterface)].fp
		}
		return fp
	}
	for _, v := range cfg.IPsec.VPNs {
		w.vpns[v.Name], w.vpnFP[v.Name] = v, vpnFP(v, nil)
	}
	for name, st := range w.services {
		// The term itself too: its manual SAs' directions are not in
		// the VPN it amounts to.
		w.vpns[name], w.vpnFP[name] = st.VPN, vpnFP(st.VPN, st.Term)
	}
	return w
}

// preflight checks what the host must already have, before anything
// changes: a commit that cannot apply fails with the running state intact.
func (d *Daemon) preflight(cfg *schema.Config) error {
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
	tunnels := ServiceTunnels(cfg)
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

// reconcile makes the running state what cfg asks for.
func (d *Daemon) reconcile(cfg *schema.Config) error {
	if err := d.preflight(cfg); err != nil {
		return err
	}
	want := plan(cfg)
	r := &d.run

	// Teardown.
	for _, name := range sortedKeys(r.vpns) {
		if st := r.vpns[name]; want.vpnFP[name] != st.fp {
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

	// Build-up.
	d.cfg.Store(cfg)
	d.services.Store(&want.services)
	d.trace.configure(cfg, d.baseLog)
	d.engine.SetTCPMSS(cfg.Flow.TCPMSS)
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
	for _, ifc := range cfg.Interfaces {
		if ifc.Kind == schema.Physical {
			if err := d.host.SetUp(ifc.HostName); err != nil {
				return fmt.Errorf("interface %s: %w", ifc.Name, err)
			}
		}
	}
	var added []string // VPNs new in this commit
	for _, name := range sortedKeys(want.vpns) {
		if _, ok := r.vpns[name]; !ok {
			added = append(added, name)
		}
	}
	var initiate []onTrafficPeer
	down := map[string]string{}
	for name, st := range r.vpns {
		if st.down {
			down[name] = (*d.down.Load())[name]
		}
	}
	for _, name := range added {
		v := want.vpns[name]
		if v.IKE == nil {
			continue
		}
		remote, err := d.addPeer(v)
		var none errNoIKEVersion
		if errors.As(err, &none) {
			// Not a failed commit: the rest of the configuration runs,
			// and the show commands list this tunnel as down.
			d.log.Warn(err.Error(), "vpn", v.Name, "gateway", v.IKE.Gateway.Name)
			r.vpns[name] = runningVPN{fp: want.vpnFP[name], version: ikeVersion(v), down: true}
			down[name] = err.Error()
			continue
		}
		if err != nil {
			return fmt.Errorf("vpn %s: %w", v.Name, err)
		}
		r.vpns[name] = runningVPN{fp: want.vpnFP[name], remote: remote, version: ikeVersion(v)}
		if v.EstablishTunnels == "immediately" {
			initiate = append(initiate, onTrafficPeer{version: ikeVersion(v), remote: remote})
		}
	}
	d.down.Store(&down)
	var newTunnels []string
	for _, name := range sortedKeys(want.tunnels) {
		if _, ok := r.tunnels[name]; ok {
			continue
		}
		t := want.tunnels[name]
		if err := d.createTunnel(cfg, t); err != nil {
			return err
		}
		r.tunnels[name] = t.fp
		newTunnels = append(newTunnels, name)
	}
	for _, name := range added {
		if v := want.vpns[name]; v.Manual != nil {
			install := d.manualVPN
			if st := want.services[name]; st != nil {
				install = func(*schema.VPN, map[receiverKey]bool) error { return d.serviceManual(st, r.receivers) }
			}
			if err := install(v, r.receivers); err != nil {
				return fmt.Errorf("vpn %s: %w", v.Name, err)
			}
			r.vpns[name] = runningVPN{fp: want.vpnFP[name], manual: true}
		}
	}
	for _, k := range sortedReceivers(r.receivers) {
		if err := d.listenOnce(k); err != nil {
			return err
		}
	}
	if err := d.listenIKE(); err != nil {
		return err
	}
	for _, name := range newTunnels {
		if err := d.host.SetUp(name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, k := range sortedKeys(want.routes) {
		if _, ok := r.routes[k]; ok {
			continue
		}
		rt := want.routes[k]
		undo, err := d.host.AddRoute(rt.dst, rt.via, rt.dev)
		if err != nil {
			return err
		}
		r.routes[k] = undo
	}
	if err := d.applyRouting(cfg); err != nil {
		return err
	}
	d.setOnTraffic(cfg)
	d.monitor.configure(cfg)
	for _, p := range initiate {
		if ike := d.ikeEngine(p.version); ike != nil {
			if err := ike.Initiate(p.remote); err != nil {
				d.log.Warn("IKE initiation", "remote", p.remote, "err", err)
			}
		}
	}
	return nil
}

// removeVPN takes down a VPN that was configured away or changed: its IKE
// peer (a DELETE goes out for its SAs) or its manual SAs.
func (d *Daemon) removeVPN(name string, st runningVPN) {
	if ike := d.ikeEngine(st.version); ike != nil && !st.manual && !st.down {
		ike.RemovePeer(st.remote)
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
func (d *Daemon) createTunnel(cfg *schema.Config, t tunnelWant) error {
	name := TunnelName(t.unit)
	mtu := TunnelMTU(cfg, t.ifc, t.unit)
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
	d.log.Info("tunnel interface created", "interface", t.unit.Name(), "device", name, "mtu", mtu)
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
