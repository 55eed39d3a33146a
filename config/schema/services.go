package schema

import (
	"fmt"
	"net/netip"

	"ipsecgw/config"
)

// servicesIPsecVPN builds [services ipsec-vpn], the AS PIC form of seed 001.
// Unlike [security ike], a policy without proposals is complete: the AS PIC
// defaults apply (ESP, HMAC-SHA1-96, 3DES-CBC; IKE sha1/3des-cbc/group2).
func (b *builder) servicesIPsecVPN(s *config.Stmt) {
	sv := &b.cfg.Services
	if s == nil || s.Inactive {
		return
	}
	sv.EstablishTunnels = str(s, "establish-tunnels")
	if sv.EstablishTunnels == "" {
		sv.EstablishTunnels = defaultEstablish
	}
	ike, ipsec := child(s, "ike"), child(s, "ipsec")
	for _, ps := range entries(ike, "proposal") {
		sv.IKEProposals = append(sv.IKEProposals, ikeProposal(ps, defaultServicesIKELifetime))
	}
	for _, ps := range entries(ike, "policy") {
		p := &IKEPolicy{
			Name:         ps.Key,
			Description:  str(ps, "description"),
			Mode:         str(ps, "mode"),
			PreSharedKey: b.key(child(ps, "pre-shared-key")),
			LocalID:      identity(child(ps, "local-id")),
			RemoteID:     identity(child(ps, "remote-id")),
		}
		if v := str(ps, "version"); v == "2" {
			p.Version = 2
		} else {
			p.Version = 1
		}
		if p.Mode == "" {
			p.Mode = defaultPolicyMode
		}
		if props := child(ps, "proposals"); props != nil {
			p.Proposals = b.ikeProposalRefs(props, sv.IKEProposals, "services ipsec-vpn ike proposal")
		} else {
			def := &IKEProposal{Name: "default", Lifetime: defaultServicesIKELifetime, Predefined: true}
			fillIKEDefaults(def)
			p.Proposals = []*IKEProposal{def}
		}
		b.refuseServicesSignatures(ps, p)
		b.checkDNIdentity(child(ps, "local-id"), p.LocalID, nil, false)
		b.checkDNIdentity(child(ps, "remote-id"), p.RemoteID, nil, false)
		if needsPSK(p.Proposals) && !p.PreSharedKey.IsSet() {
			b.fail(ps, fmt.Sprintf("IKE policy %s authenticates with pre-shared keys but has no pre-shared-key", ps.Key), "pre-shared-key ascii-text KEY or hexadecimal KEY")
		}
		sv.IKEPolicies = append(sv.IKEPolicies, p)
	}
	for _, ps := range entries(ipsec, "proposal") {
		sv.IPsecProposals = append(sv.IPsecProposals, b.ipsecProposal(ps, defaultServicesIPsecLifetime, defaultServicesIPsecAuth, defaultServicesIPsecEnc))
	}
	for _, ps := range entries(ipsec, "policy") {
		p := b.ipsecPolicy(ps, sv.IPsecProposals, "services ipsec-vpn ipsec proposal", true)
		if len(p.Proposals) == 0 {
			p.Proposals = []*IPsecProposal{servicesDefaultIPsecProposal()}
		}
		sv.IPsecPolicies = append(sv.IPsecPolicies, p)
	}
	for _, rs := range entries(s, "rule") {
		sv.Rules = append(sv.Rules, b.rule(rs))
	}
}

func servicesDefaultIPsecProposal() *IPsecProposal {
	return &IPsecProposal{
		Name: "default", Protocol: defaultIPsecProtocol,
		AuthenticationAlgorithm: defaultServicesIPsecAuth, EncryptionAlgorithm: defaultServicesIPsecEnc,
		Lifetime: defaultServicesIPsecLifetime, Predefined: true,
	}
}

// ServicesDefaultIPsecPolicy is the IPsec policy a term uses when it names
// none: the AS PIC defaults.
func ServicesDefaultIPsecPolicy() *IPsecPolicy {
	return &IPsecPolicy{Name: "default", Proposals: []*IPsecProposal{servicesDefaultIPsecProposal()}}
}

func (b *builder) rule(rs *config.Stmt) *Rule {
	r := &Rule{Name: rs.Key, MatchDirection: str(rs, "match-direction")}
	if r.MatchDirection == "" {
		b.fail(rs, fmt.Sprintf("rule %s has no match-direction", rs.Key), "match-direction input or output")
	}
	for _, ts := range entries(rs, "term") {
		r.Terms = append(r.Terms, b.term(ts))
	}
	if len(r.Terms) == 0 {
		b.fail(rs, fmt.Sprintf("rule %s has no term", rs.Key), "term NAME { then { ... } }")
	}
	return r
}

func (b *builder) term(ts *config.Stmt) *Term {
	sv := &b.cfg.Services
	from, then := child(ts, "from"), child(ts, "then")
	t := &Term{
		Name:                ts.Key,
		RemoteGateway:       addr(then, "remote-gateway"),
		BackupRemoteGateway: addr(then, "backup-remote-gateway"),
		InitiateDPD:         has(then, "initiate-dead-peer-detection"),
		AntiReplay:          !has(then, "no-anti-replay"),
		ReplayWindow:        num(then, "anti-replay-window-size", defaultReplayWindow),
		TunnelMTU:           num(then, "tunnel-mtu", 0),
		Syslog:              has(then, "syslog"),
		DFBit:               defaultDFBit,
	}
	for _, df := range []struct{ flag, mode string }{{"clear-dont-fragment-bit", "clear"}, {"copy-dont-fragment-bit", "copy"}, {"set-dont-fragment-bit", "set"}} {
		if has(then, df.flag) {
			t.DFBit = df.mode
		}
	}
	if fs := child(from, "source-address"); fs != nil {
		t.SourceAddresses = prefixes(fs.Values)
	}
	if fs := child(from, "destination-address"); fs != nil {
		t.DestinationAddresses = prefixes(fs.Values)
	}
	if is := child(from, "ipsec-inside-interface"); is != nil {
		t.InsideInterface = b.unitRef(is)
	}
	if ds := child(then, "dead-peer-detection"); ds != nil {
		t.DPD = &DPD{Mode: defaultDPDMode, Interval: seconds(ds, "interval", defaultDPDInterval), Threshold: num(ds, "threshold", defaultDPDThreshold)}
	}
	dyn, man := child(then, "dynamic"), child(then, "manual")
	switch {
	case then == nil:
		b.fail(ts, fmt.Sprintf("term %s has no then", ts.Key), "then { remote-gateway ADDRESS; dynamic { ike-policy NAME; } }")
		return t
	case dyn != nil && man != nil:
		b.fail(man, "a term is either dynamic or manual, not both", "one of dynamic or manual")
	case dyn != nil:
		if ps := child(dyn, "ike-policy"); ps != nil {
			t.IKEPolicy = find(sv.IKEPolicies, func(p *IKEPolicy) string { return p.Name }, ps.Value())
			if t.IKEPolicy == nil {
				b.fail(ps, fmt.Sprintf("IKE policy %s is not defined", ps.Value()),
					"the name of a policy under [edit services ipsec-vpn ike policy] ("+names(sv.IKEPolicies, func(p *IKEPolicy) string { return p.Name })+")")
			}
		} else {
			b.fail(dyn, "dynamic has no ike-policy", "ike-policy NAME")
		}
		if ps := child(dyn, "ipsec-policy"); ps != nil {
			t.IPsecPolicy = find(sv.IPsecPolicies, func(p *IPsecPolicy) string { return p.Name }, ps.Value())
			if t.IPsecPolicy == nil {
				b.fail(ps, fmt.Sprintf("IPsec policy %s is not defined", ps.Value()),
					"the name of a policy under [edit services ipsec-vpn ipsec policy] ("+names(sv.IPsecPolicies, func(p *IPsecPolicy) string { return p.Name })+")")
			}
		} else {
			t.IPsecPolicy = ServicesDefaultIPsecPolicy()
		}
	case man != nil:
		for _, ds := range entries(man, "direction") {
			m := &ServicesManualSA{
				Direction:               ds.Key,
				Protocol:                str(ds, "protocol"),
				SPI:                     uint32(num(ds, "spi", 0)),
				AuxiliarySPI:            uint32(num(ds, "auxiliary-spi", 0)),
				AuthenticationAlgorithm: str(child(ds, "authentication"), "algorithm"),
				AuthenticationKey:       b.key(child(child(ds, "authentication"), "key")),
				EncryptionAlgorithm:     str(child(ds, "encryption"), "algorithm"),
				EncryptionKey:           b.key(child(child(ds, "encryption"), "key")),
			}
			if m.SPI == 0 {
				b.fail(ds, "manual SA has no spi", "spi NUMBER")
			}
			b.checkKeyLength(child(child(ds, "encryption"), "key"), m.EncryptionKey, encKeyBytes(m.EncryptionAlgorithm), m.EncryptionAlgorithm)
			b.checkKeyLength(child(child(ds, "authentication"), "key"), m.AuthenticationKey, authKeyBytes(m.AuthenticationAlgorithm), m.AuthenticationAlgorithm)
			t.Manual = append(t.Manual, m)
		}
	default:
		b.fail(then, "then has neither dynamic nor manual", "dynamic { ike-policy NAME; } or manual { ... }")
	}
	if (dyn != nil || man != nil) && !t.RemoteGateway.IsValid() {
		b.fail(then, "then has no remote-gateway", "remote-gateway ADDRESS")
	}
	return t
}

func prefixes(vals []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(vals))
	for _, v := range vals {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func (b *builder) serviceSets(s *config.Stmt) {
	for _, ss := range entries(s, "service-set") {
		set := &ServiceSet{Name: ss.Key, AntiReplay: true, ReplayWindow: defaultReplayWindow, NATTraversal: true, NATKeepalive: defaultNATKeepalive, TCPMSS: num(ss, "tcp-mss", 0)}
		if nh := child(ss, "next-hop-service"); nh != nil {
			set.Inside = b.serviceUnit(child(nh, "inside-service-interface"), "inside")
			set.Outside = b.serviceUnit(child(nh, "outside-service-interface"), "outside")
			if child(nh, "inside-service-interface") == nil || child(nh, "outside-service-interface") == nil {
				b.fail(nh, "next-hop-service needs both service interfaces", "inside-service-interface IFL and outside-service-interface IFL")
			}
		}
		if is := child(child(ss, "interface-service"), "service-interface"); is != nil {
			set.InterfaceUnit = b.unitRef(is)
		}
		if vs := child(ss, "ipsec-vpn"); vs != nil {
			set.VPN = find(b.cfg.IPsec.VPNs, func(v *VPN) string { return v.Name }, vs.Value())
			if set.VPN == nil {
				b.fail(vs, fmt.Sprintf("IPsec VPN %s is not defined", vs.Value()),
					"the name of a VPN under [edit security ipsec vpn] ("+names(b.cfg.IPsec.VPNs, func(v *VPN) string { return v.Name })+")")
			}
		}
		if rs := child(ss, "ipsec-vpn-rules"); rs != nil {
			for i, name := range rs.Values {
				r := find(b.cfg.Services.Rules, func(r *Rule) string { return r.Name }, name)
				if r == nil {
					b.failValue(rs, i, fmt.Sprintf("rule %s is not defined", name),
						"the name of a rule under [edit services ipsec-vpn rule] ("+names(b.cfg.Services.Rules, func(r *Rule) string { return r.Name })+")")
					continue
				}
				set.Rules = append(set.Rules, r)
			}
		}
		if child(ss, "ipsec-vpn") != nil && child(ss, "ipsec-vpn-rules") != nil {
			b.fail(child(ss, "ipsec-vpn-rules"), "ipsec-vpn and ipsec-vpn-rules are both configured", "one of ipsec-vpn (security ipsec vpn) or ipsec-vpn-rules (services ipsec-vpn rule)")
		}
		if o := child(ss, "ipsec-vpn-options"); o != nil {
			set.LocalGateway = addr(o, "local-gateway")
			set.ClearDF, set.SetDF = has(o, "clear-dont-fragment-bit"), has(o, "set-dont-fragment-bit")
			set.TunnelMTU = num(o, "tunnel-mtu", 0)
			set.AntiReplay = !has(o, "no-anti-replay")
			set.ReplayWindow = num(o, "anti-replay-window-size", defaultReplayWindow)
			set.PassiveMode = has(o, "passive-mode-tunneling")
			set.NATTraversal = !has(o, "no-nat-traversal")
			set.NATKeepalive = seconds(o, "nat-keepalive", defaultNATKeepalive)
			if us := child(o, "udp-encapsulate"); us != nil {
				set.UDPEncap, set.UDPDestPort = true, uint16(num(us, "dest-port", defaultUDPEncapPort))
			}
			if set.ClearDF && set.SetDF {
				b.fail(child(o, "set-dont-fragment-bit"), "clear-dont-fragment-bit and set-dont-fragment-bit are both configured", "one of them")
			}
		}
		if len(set.Rules) > 0 && !set.LocalGateway.IsValid() {
			b.fail(ss, fmt.Sprintf("service set %s has IPsec rules but no local gateway", ss.Key), "ipsec-vpn-options local-gateway ADDRESS")
		}
		b.cfg.ServiceSets = append(b.cfg.ServiceSets, set)
	}
}

// serviceUnit resolves a next-hop service interface and checks its
// service-domain matches the side it is used on.
func (b *builder) serviceUnit(s *config.Stmt, side string) *Unit {
	if s == nil {
		return nil
	}
	u := b.unitRef(s)
	if u == nil {
		return nil
	}
	if u.Interface.Kind != Service {
		b.fail(s, fmt.Sprintf("%s is not a service interface", s.Value()), "an si-, sp- or ms- unit")
		return u
	}
	if u.ServiceDomain != side {
		b.fail(s, fmt.Sprintf("%s has service-domain %q, but is used as the %s interface", s.Value(), u.ServiceDomain, side),
			fmt.Sprintf("a unit with service-domain %s", side))
	}
	return u
}
