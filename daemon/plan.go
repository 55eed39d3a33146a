package daemon

import (
	"fmt"
	"net/netip"

	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
)

// A commit's configuration is translated once into a plan: what the daemon
// runs, keyed as running is (reconcile.go), so that reconcile diffs the
// two and changes only what differs. Every VPN is in it the same way,
// whether a [security ipsec vpn] or a service set's term (services.go):
// with its fingerprint, and for an IKE VPN the peer its engine takes and
// the data-plane parameters its Child SAs are installed with, resolved
// here (daemon/resolve) and nowhere else.

// plan is what a configuration asks for.
type plan struct {
	cfg     *schema.Config
	addrs   map[string]addrWant
	routes  map[string]routeWant
	tunnels map[string]tunnelWant // by Linux name (TunnelName)
	vpns    map[string]*vpnPlan   // by VPN name
	// services are the services tunnels among vpns (ServiceTunnels), in
	// configuration order.
	services []ServiceTunnel
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
	mtu   int // TunnelMTU
	addrs []netip.Prefix
	fp    string
}

// vpnPlan is one VPN as the daemon runs it.
type vpnPlan struct {
	vpn *schema.VPN
	fp  string
	// service is the services term the VPN amounts to (nil: a [security
	// ipsec vpn]).
	service *ServiceTunnel
	// An IKE VPN's engine version and resolved peer, and the data-plane
	// parameters of its tunnel (hasTunnel false without a bind-interface:
	// its Child SAs then fail to install, saying so).
	version   int
	peer      *ike.Peer
	tunnel    childTunnel
	hasTunnel bool
}

// newPlan translates a configuration and its services tunnels
// (ServiceTunnels of it, computed once per commit). A VPN whose peer
// cannot be resolved fails the commit here, before anything running
// changes.
func newPlan(cfg *schema.Config, services []ServiceTunnel) (*plan, error) {
	w := &plan{cfg: cfg, addrs: map[string]addrWant{}, routes: map[string]routeWant{}, tunnels: map[string]tunnelWant{},
		vpns: map[string]*vpnPlan{}, services: services}
	w.addInterfaces()
	w.addRoutes()
	for _, v := range cfg.IPsec.VPNs {
		if err := w.addVPN(v, nil); err != nil {
			return nil, err
		}
	}
	for i := range w.services {
		st := &w.services[i]
		if err := w.addVPN(st.VPN, st); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// addInterfaces plans the addresses of physical and loopback units and
// the tunnel interfaces: st0 units, and the inside interface of a service
// set with rules (the tunnel interface of the set's tunnels; the outside
// one needs no device).
func (w *plan) addInterfaces() {
	for _, ifc := range w.cfg.Interfaces {
		for _, u := range ifc.Units {
			switch ifc.Kind {
			case schema.Physical, schema.Loopback:
				for _, a := range u.Addresses {
					w.addrs[ifc.HostName+" "+a.String()] = addrWant{ifname: ifc.HostName, prefix: a}
				}
			case schema.Tunnel:
				w.addTunnel(ifc, u)
			}
		}
	}
	for _, st := range w.services {
		w.addTunnel(st.Set.Inside.Interface, st.Set.Inside)
	}
}

func (w *plan) addTunnel(ifc *schema.Interface, u *schema.Unit) {
	vpns := w.cfg.IPsec.VPNs
	if ifc.Kind == schema.Service {
		vpns = nil
		for _, st := range w.services {
			vpns = append(vpns, st.VPN)
		}
	}
	mtu, addrs := TunnelMTU(ifc, u, vpns), tunnelAddresses(w.cfg, u)
	fp := fmt.Sprintf("mtu=%d inet6=%v addrs=%v", mtu, u.Inet6, addrs)
	w.tunnels[TunnelName(u)] = tunnelWant{ifc: ifc, unit: u, mtu: mtu, addrs: addrs, fp: fp}
}

// addRoutes plans the static routes. A route out of a tunnel goes with
// the interface when that is re-created: its key changes with it.
func (w *plan) addRoutes() {
	for _, r := range w.cfg.Routes {
		for _, u := range r.Interfaces {
			dev, tag := TunnelName(u), ""
			if u.Interface.Kind == schema.Physical {
				dev = u.Interface.HostName
			} else {
				tag = w.tunnels[dev].fp
			}
			w.routes[fmt.Sprintf("%s dev %s %s", r.Prefix, dev, tag)] = routeWant{dst: r.Prefix, dev: dev}
		}
		for _, gw := range r.Gateways {
			w.routes[fmt.Sprintf("%s via %s", r.Prefix, gw)] = routeWant{dst: r.Prefix, via: gw}
		}
		if r.Discard {
			// Neither gateway nor interface: a blackhole route.
			w.routes[fmt.Sprintf("%s discard", r.Prefix)] = routeWant{dst: r.Prefix}
		}
	}
}

// addVPN plans a VPN (st: the services term it amounts to, whose manual
// SAs' directions are not in the VPN, so it is fingerprinted too) and
// resolves an IKE VPN's peer.
func (w *plan) addVPN(v *schema.VPN, st *ServiceTunnel) error {
	fp := fingerprint(v)
	if st != nil {
		fp += " " + fingerprint(st.Term)
	}
	if v.BindInterface != nil {
		fp += " tunnel:" + w.tunnels[TunnelName(v.BindInterface)].fp
	}
	vp := &vpnPlan{vpn: v, fp: fp, service: st}
	w.vpns[v.Name] = vp
	if v.IKE == nil {
		return nil
	}
	local, err := gatewayLocal(v.IKE.Gateway)
	if err != nil {
		return fmt.Errorf("vpn %s: %w", v.Name, err)
	}
	if vp.peer, err = resolve.Peer(v, local); err != nil {
		return fmt.Errorf("vpn %s: %w", v.Name, err)
	}
	vp.version = v.IKE.Gateway.Version
	vp.tunnel, vp.hasTunnel = resolveTunnel(v)
	return nil
}
