package daemon

import (
	"fmt"
	"net/netip"
	"strings"

	"ipsecgw/config/schema"
)

// The AS PIC services model (seed 001): a next-hop service set steers what
// is routed into its inside interface (sp-1/2/0.1) through the terms of its
// ipsec-vpn rules. Each term with a remote gateway is one tunnel. The daemon
// runs it as the route-based VPN it amounts to: bound to the inside
// interface (a TUN device like st0.N), negotiated by IKE with the term's
// policies or keyed by its manual SAs, from the service set's local
// gateway. That VPN goes through the same plan, fingerprints, IKE engines
// and installer as a [security ipsec vpn]; only the naming and the manual
// SAs' directions are the services form's own.

// ServiceTunnel is one tunnel of a service set: a term of one of its rules.
type ServiceTunnel struct {
	Set   *schema.ServiceSet
	Rule  *schema.Rule
	Term  *schema.Term
	Index uint32 // tunnel index within the service set, from 1 in configuration order
	// VPN is the term as the daemon runs it. Its Name (ServiceVPNName) is
	// the key of the tunnel's SAs in Status.SAs and of its IKE SAs'
	// Gateway.
	VPN *schema.VPN
}

// ServiceVPNName names the tunnel of a service set's rule term. The
// spaces keep it apart from every [security ipsec vpn] name, which cannot
// contain one.
func ServiceVPNName(set, rule, term string) string {
	return "service-set " + set + " rule " + rule + " term " + term
}

// IsServiceVPN reports whether a VPN or IKE gateway name is a services
// tunnel's (ServiceVPNName).
func IsServiceVPN(name string) bool { return strings.HasPrefix(name, "service-set ") }

// ServiceTunnels lists the tunnels of cfg's service sets, in configuration
// order: for each service set with ipsec-vpn-rules and a next-hop inside
// interface, each term of each rule that has a remote gateway. A commit
// computes it once (reconcile): preflight and the plan take that list,
// and Status reports the running one (Status.Services) to the show
// commands.
func ServiceTunnels(cfg *schema.Config) []ServiceTunnel {
	var out []ServiceTunnel
	for _, set := range cfg.ServiceSets {
		if !CarriesTunnels(set) {
			continue
		}
		index := uint32(0)
		for _, r := range set.Rules {
			for _, t := range r.Terms {
				if !t.RemoteGateway.IsValid() {
					continue
				}
				index++
				out = append(out, ServiceTunnel{Set: set, Rule: r, Term: t, Index: index,
					VPN: serviceVPN(cfg, set, r, t)})
			}
		}
	}
	return out
}

// CarriesTunnels reports whether a service set's terms are tunnels: it
// has ipsec-vpn-rules and a next-hop inside interface.
func CarriesTunnels(set *schema.ServiceSet) bool { return set.Inside != nil && len(set.Rules) > 0 }

// serviceVPN is a term as a route-based VPN on the set's inside interface.
// Term settings win over the set's ipsec-vpn-options.
func serviceVPN(cfg *schema.Config, set *schema.ServiceSet, r *schema.Rule, t *schema.Term) *schema.VPN {
	v := &schema.VPN{
		Name:             ServiceVPNName(set.Name, r.Name, t.Name),
		BindInterface:    set.Inside,
		DFBit:            t.DFBit,
		TunnelMTU:        t.TunnelMTU,
		EstablishTunnels: cfg.Services.EstablishTunnels,
		PassiveMode:      set.PassiveMode,
		UDPEncapsulate:   set.UDPEncap,
		UDPDestPort:      set.UDPDestPort,
		TCPMSS:           set.TCPMSS,
	}
	if v.TunnelMTU == 0 {
		v.TunnelMTU = set.TunnelMTU
	}
	switch {
	case set.ClearDF:
		v.DFBit = "clear"
	case set.SetDF:
		v.DFBit = "set"
	}
	// A term that matches on addresses negotiates (and enforces) them:
	// for match-direction input the source is this side's.
	for _, src := range t.SourceAddresses {
		for _, dst := range t.DestinationAddresses {
			if src.Addr().Is4() != dst.Addr().Is4() {
				continue
			}
			ts := schema.TrafficSelector{Name: t.Name, Local: src, Remote: dst, Service: "any"}
			if r.MatchDirection == "output" {
				ts.Local, ts.Remote = dst, src
			}
			v.TrafficSelectors = append(v.TrafficSelectors, ts)
		}
	}
	window, antiReplay := antiReplay(set, t)
	switch {
	case t.IKEPolicy != nil:
		g := &schema.IKEGateway{
			Name:           v.Name,
			Policy:         t.IKEPolicy,
			Addresses:      gatewayAddresses(t),
			LocalAddress:   set.LocalGateway,
			Version:        t.IKEPolicy.Version,
			NATTraversal:   set.NATTraversal,
			NATKeepalive:   set.NATKeepalive,
			LocalIdentity:  t.IKEPolicy.LocalID,
			RemoteIdentity: t.IKEPolicy.RemoteID,
			DPD:            t.DPD,
		}
		policy := t.IPsecPolicy
		if policy == nil {
			policy = schema.ServicesDefaultIPsecPolicy()
		}
		v.IKE = &schema.VPNIKE{Gateway: g, Policy: policy, AntiReplay: antiReplay, ReplayWindow: window}
	case len(t.Manual) > 0:
		m := t.Manual[0]
		v.Manual = &schema.ManualSA{Gateway: t.RemoteGateway, Protocol: m.Protocol, SPI: m.SPI,
			AuthenticationAlgorithm: m.AuthenticationAlgorithm, AuthenticationKey: m.AuthenticationKey,
			EncryptionAlgorithm: m.EncryptionAlgorithm, EncryptionKey: m.EncryptionKey}
	}
	return v
}

// AntiReplay is the tunnel's inbound anti-replay window, and whether the
// check is on.
func (st *ServiceTunnel) AntiReplay() (window int, on bool) { return antiReplay(st.Set, st.Term) }

// antiReplay: off when the term or the set says no-anti-replay; the
// larger of their windows.
func antiReplay(set *schema.ServiceSet, t *schema.Term) (int, bool) {
	return max(t.ReplayWindow, set.ReplayWindow), t.AntiReplay && set.AntiReplay
}

// TunnelName is the Linux name of a tunnel interface: st0.N as it is;
// a service unit by its host-interface, else by its Junos name with '/'
// (which Linux names cannot contain) turned into '-': sp-1/2/0.1 is
// sp-1-2-0.1.
func TunnelName(u *schema.Unit) string {
	if u.Interface.Kind != schema.Service {
		return u.Name()
	}
	base := u.Interface.HostName
	if base == "" {
		base = strings.ReplaceAll(u.Interface.Name, "/", "-")
	}
	return fmt.Sprintf("%s.%d", base, u.Number)
}

// ifNameSize is Linux's IFNAMSIZ less the terminating NUL.
const ifNameSize = 15

// checkTunnelName refuses a unit whose Linux name would not fit.
func checkTunnelName(u *schema.Unit) error {
	if n := TunnelName(u); len(n) > ifNameSize {
		return fmt.Errorf("interface %s: its Linux name %s is longer than %d characters: name it with \"set interfaces %s host-interface NAME\"",
			u.Name(), n, ifNameSize, u.Interface.Name)
	}
	return nil
}

// tunnelAddresses are the addresses of a tunnel interface: its own, or,
// for an inside service interface with none (unnumbered, as in seed 001),
// the router's lo0.0 addresses, as Junos lends them to an unnumbered
// interface. Routing protocols (OSPF over the tunnel) need an address on
// the interface to speak from.
func tunnelAddresses(cfg *schema.Config, u *schema.Unit) []netip.Prefix {
	if len(u.Addresses) > 0 || u.Interface.Kind != schema.Service {
		return u.Addresses
	}
	var out []netip.Prefix
	for _, ifc := range cfg.Interfaces {
		if ifc.Kind != schema.Loopback {
			continue
		}
		if lo := ifc.Unit(0); lo != nil {
			for _, a := range lo.Addresses {
				if (a.Addr().Is4() && u.Inet) || (a.Addr().Is6() && u.Inet6) {
					out = append(out, netip.PrefixFrom(a.Addr(), a.Addr().BitLen()))
				}
			}
		}
	}
	return out
}

// checkServices is the services part of preflight: what the model accepts
// but this gateway cannot run.
func checkServices(cfg *schema.Config, tunnels []ServiceTunnel) error {
	users := gatewayUsers(cfg) // servicesgateway.go
	for _, st := range tunnels {
		where := fmt.Sprintf("service set %s rule %s term %s", st.Set.Name, st.Rule.Name, st.Term.Name)
		if err := checkTunnelName(st.Set.Inside); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if st.VPN.IKE != nil {
			var err error
			if users, err = checkServiceIKE(users, where, st); err != nil {
				return err
			}
		}
		if st.VPN.Manual != nil {
			if st.Term.RemoteGateway.Is4() != st.Set.LocalGateway.Is4() {
				return fmt.Errorf("%s: remote gateway %s and local gateway %s are not of one family",
					where, st.Term.RemoteGateway, st.Set.LocalGateway)
			}
			for _, m := range st.Term.Manual {
				if m.Protocol != "" && m.Protocol != "esp" {
					return fmt.Errorf("%s: manual direction %s: protocol %s is not implemented, want esp", where, m.Direction, m.Protocol)
				}
			}
		}
	}
	return nil
}

// gatewayAddresses are a term's remote gateway and, after it, its
// backup-remote-gateway: the IKE engine fails over to the next address
// when the peer is unreachable or dead.
func gatewayAddresses(t *schema.Term) []string {
	out := []string{t.RemoteGateway.String()}
	if t.BackupRemoteGateway.IsValid() {
		out = append(out, t.BackupRemoteGateway.String())
	}
	return out
}
