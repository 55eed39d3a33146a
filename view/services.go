package view

import (
	"net/netip"
	"strings"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/dataplane"
	"ipsecgw/ike"
	"ipsecgw/show"
	"ipsecgw/transform"
)

// The `show services ipsec-vpn ...` views: the tunnels of the service
// sets' ipsec-vpn rules (daemon.Status.Services, as the commit computed
// them), whose SAs and IKE SAs the daemon reports under their VPN name
// (daemon.ServiceVPNName).

// ServicesViews is what the services show commands print.
type ServicesViews struct {
	IKE []show.IKESA
	// Down is one "Not matured" entry per IKE tunnel with no IKE SA up
	// and a reason: its last failure, or why the daemon runs no
	// negotiation for it (the detail listing shows them after the live
	// SAs).
	Down       []show.IKESA
	Tunnels    []show.ServiceTunnel
	Statistics []show.ServiceSetStatistics
	// Inactive is the IKE tunnels without SAs, for `show security ipsec
	// inactive-tunnels` (ID: the tunnel index within its service set).
	Inactive []show.InactiveTunnel
}

// services fills the services views; ike is the services tunnels' IKE SAs,
// oldest first.
func services(st daemon.Status, cfg *schema.Config, ikeSAs []ike.SAInfo, now time.Time) ServicesViews {
	var v ServicesViews
	tunnels := st.Services
	byName := map[string]*daemon.ServiceTunnel{}
	for i := range tunnels {
		byName[tunnels[i].VPN.Name] = &tunnels[i]
	}
	up := map[string]ike.SAInfo{} // VPN → its (last) IKE SA up
	for _, info := range ikeSAs {
		tn := byName[info.Gateway]
		if tn == nil {
			continue
		}
		v.IKE = append(v.IKE, servicesIKESA(info, tn, now))
		if info.State == "UP" {
			up[info.Gateway] = info
		}
	}
	last, count := map[string]ike.SAInfo{}, map[string]int{}
	for _, f := range st.Failures { // oldest first
		if f.Failure.Failed() && byName[f.Gateway] != nil {
			last[f.Gateway] = f
			count[f.Gateway]++
		}
	}

	sas := map[string][]daemon.SAStatus{}
	for _, s := range st.SAs {
		if byName[s.VPN] != nil {
			sas[s.VPN] = append(sas[s.VPN], s)
		}
	}
	for i := range tunnels {
		tn := &tunnels[i]
		name := tn.VPN.Name
		if list := sas[name]; len(list) > 0 {
			v.Tunnels = append(v.Tunnels, serviceTunnelView(tn, list, now))
			continue
		}
		if tn.VPN.IKE == nil {
			continue
		}
		reason, at, n := st.Down[name], time.Time{}, 0
		if f, ok := last[name]; ok && reason == "" {
			reason, at, n = f.Failure.Message, f.Ended, count[name]
		}
		v.Inactive = append(v.Inactive, show.InactiveTunnel{ID: tn.Index, Port: 500, Gateway: tn.Term.RemoteGateway,
			PendingSAs: 1, EstablishImmediately: tn.VPN.EstablishTunnels == "immediately",
			Reason: reason, ReasonCount: n, ReasonTime: at})
		if _, ok := up[name]; !ok && reason != "" {
			sa := servicesIKESA(ike.SAInfo{Gateway: name, Remote: tn.Term.RemoteGateway}, tn, now)
			sa.LastFailure = &show.NegotiationFailure{Time: at, Reason: reason}
			if f, ok := last[name]; ok && st.Down[name] == "" {
				sa.LastFailure.Exchange = exchangeOf(f)
			}
			v.Down = append(v.Down, sa)
		}
	}
	v.Statistics = serviceSetStatistics(cfg, tunnels, sas)
	return v
}

// servicesIKESA is one IKE SA of a services tunnel.
func servicesIKESA(info ike.SAInfo, tn *daemon.ServiceTunnel, now time.Time) show.IKESA {
	sa := engineIKESA(info)
	sa.GatewayName, sa.ExchangeType = tn.VPN.Name, "Main"
	sa.Local = netip.AddrPortFrom(tn.Set.LocalGateway, 500)
	if p := tn.Term.IKEPolicy; p != nil {
		switch {
		case p.Version == 2:
			sa.ExchangeType = "IKEv2"
		case p.Mode == "aggressive":
			sa.ExchangeType = "Aggressive"
		}
		if len(p.Proposals) > 0 {
			sa.AuthMethod = authMethod(p.Proposals[0].AuthenticationMethod)
			if sa.Up && p.Proposals[0].Lifetime > 0 {
				sa.Lifetime = max(info.Established.Add(p.Proposals[0].Lifetime).Sub(now), 0)
			}
		}
	}
	return sa
}

// serviceTunnelView is a services tunnel with its installed SAs. The
// identities are the SAs' selectors (the negotiated proxy IDs), IPv4's
// when there are both.
func serviceTunnelView(tn *daemon.ServiceTunnel, list []daemon.SAStatus, now time.Time) show.ServiceTunnel {
	out := show.ServiceTunnel{ServiceSet: tn.Set.Name, Rule: tn.Rule.Name, Term: tn.Term.Name, Index: tn.Index,
		LocalGateway: tn.Set.LocalGateway, RemoteGateway: tn.Term.RemoteGateway}
	sels := dataplane.AnySelectors
	for _, s := range list {
		if len(s.Selectors) > 0 {
			sels = s.Selectors
			break
		}
	}
	out.LocalIdentity = show.SelectorFromPrefix(sels[0].Local)
	out.RemoteIdentity = show.SelectorFromPrefix(sels[0].Remote)
	var base show.IPsecSA
	if tn.VPN.IKE != nil {
		if ps := tn.VPN.IKE.Policy.Proposals; len(ps) > 0 {
			base = proposalSA(ps[0])
		}
	} else {
		base = show.IPsecSA{Manual: true} // no lifetimes
	}
	if window, on := tn.AntiReplay(); on {
		base.ReplayWindow = window
	}
	base.Installed = true
	var fill func(*show.IPsecSA)
	if tn.VPN.IKE == nil {
		fill = func(sa *show.IPsecSA) { manualAlgorithms(sa, tn.Term, sa.Inbound) }
	}
	out.SAs = installedSAs(base, list, tn.VPN.Name, now, &out.LocalGateway, &out.RemoteGateway, fill)
	return out
}

// manualAlgorithms sets a manual SA's protocol and algorithms from the
// term's direction that keys it.
func manualAlgorithms(sa *show.IPsecSA, t *schema.Term, inbound bool) {
	want := map[bool]string{true: "inbound", false: "outbound"}[inbound]
	for _, m := range t.Manual {
		if m.Direction == "bidirectional" || m.Direction == want {
			sa.Protocol = strings.ToUpper(orDefault(m.Protocol, "esp"))
			sa.AuxSPI = m.AuxiliarySPI
			if e, ok := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, m.EncryptionAlgorithm); ok {
				sa.Encryption = e.Display
			}
			if a, ok := transform.LookupKeyword(transform.IPsec, transform.TypeINTEG, m.AuthenticationAlgorithm); ok {
				sa.Authentication = a.Display
			}
			return
		}
	}
}

// serviceSetStatistics is the ESP counters of each service set with
// ipsec-vpn rules, summed over its tunnels' SAs; the PIC is the inside
// interface's device (sp-1/2/0).
func serviceSetStatistics(cfg *schema.Config, tunnels []daemon.ServiceTunnel, sas map[string][]daemon.SAStatus) []show.ServiceSetStatistics {
	var out []show.ServiceSetStatistics
	for _, set := range cfg.ServiceSets {
		if !daemon.CarriesTunnels(set) {
			continue
		}
		var sum dataplane.Stats
		for _, tn := range tunnels {
			if tn.Set.Name != set.Name {
				continue
			}
			for _, s := range sas[tn.VPN.Name] {
				sum = add(sum, s.Counters)
			}
		}
		out = append(out, show.ServiceSetStatistics{PIC: set.Inside.Interface.Name, ServiceSet: set.Name, Statistics: statistics(sum)})
	}
	return out
}
