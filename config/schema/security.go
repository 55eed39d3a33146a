package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"ipsecgw/config"
	"ipsecgw/transform"
)

func (b *builder) securityIKE(s *config.Stmt) {
	ike := &b.cfg.IKE
	if s == nil || s.Inactive {
		return
	}
	ike.Trace = trace(child(s, "traceoptions"))
	ike.RespondBadSPI = num(s, "respond-bad-spi", 0)
	if pe := child(child(s, "packet-encapsulation"), "dest-port"); pe != nil {
		port := num(pe.Parent(), "dest-port", 0)
		if port == 4500 || port == 500 {
			b.fail(pe, fmt.Sprintf("port %d is reserved for IKE and NAT traversal", port), "a port other than 500 and 4500")
		}
		ike.PacketEncapsulationPort = uint16(port)
	}
	for _, ps := range entries(s, "proposal") {
		b.refuseInsecure(ps, transform.IKE, transform.TypeENCR, "encryption-algorithm")
		b.refuseInsecure(ps, transform.IKE, transform.TypeKE, "dh-group")
		ike.Proposals = append(ike.Proposals, ikeProposal(ps, defaultIKELifetime))
	}
	for _, ps := range entries(s, "policy") {
		p := &IKEPolicy{
			Name:            ps.Key,
			Description:     str(ps, "description"),
			Mode:            str(ps, "mode"),
			ReauthFrequency: num(ps, "reauth-frequency", 0),
			ProposalSet:     str(ps, "proposal-set"),
			PreSharedKey:    b.key(child(ps, "pre-shared-key")),
			Certificate:     b.policyCertificate(child(ps, "certificate")),
		}
		if p.Mode == "" {
			p.Mode = defaultPolicyMode
		}
		props := child(ps, "proposals")
		switch {
		case props != nil && p.ProposalSet != "":
			b.fail(child(ps, "proposal-set"), "proposals and proposal-set are both configured", "one of proposals or proposal-set")
		case props != nil:
			p.Proposals = b.ikeProposalRefs(props, ike.Proposals, "security ike proposal")
		case p.ProposalSet != "":
			p.Proposals = predefinedIKE(p.ProposalSet, defaultIKELifetime)
		default:
			b.fail(ps, fmt.Sprintf("IKE policy %s has no proposals", ps.Key), "proposals NAME... or proposal-set NAME")
		}
		if needsPSK(p.Proposals) && !p.PreSharedKey.IsSet() {
			b.fail(ps, fmt.Sprintf("IKE policy %s authenticates with pre-shared keys but has no pre-shared-key", ps.Key), "pre-shared-key ascii-text KEY or hexadecimal KEY")
		}
		ike.Policies = append(ike.Policies, p)
	}
	for _, gs := range entries(s, "gateway") {
		ike.Gateways = append(ike.Gateways, b.gateway(gs))
	}
	b.checkGatewayClash(entries(s, "gateway"), ike.Gateways) // gatewayclash.go
}

func ikeProposal(ps *config.Stmt, lifetime time.Duration) *IKEProposal {
	p := &IKEProposal{
		Name:                    ps.Key,
		Description:             str(ps, "description"),
		AuthenticationMethod:    str(ps, "authentication-method"),
		DHGroup:                 str(ps, "dh-group"),
		AuthenticationAlgorithm: str(ps, "authentication-algorithm"),
		EncryptionAlgorithm:     str(ps, "encryption-algorithm"),
		Lifetime:                seconds(ps, "lifetime-seconds", lifetime),
	}
	fillIKEDefaults(p)
	return p
}

func fillIKEDefaults(p *IKEProposal) {
	if p.AuthenticationMethod == "" {
		p.AuthenticationMethod = defaultIKEAuthMethod
	}
	if p.DHGroup == "" {
		p.DHGroup = defaultIKEDHGroup
	}
	if p.AuthenticationAlgorithm == "" {
		p.AuthenticationAlgorithm = defaultIKEAuth
	}
	if p.EncryptionAlgorithm == "" {
		p.EncryptionAlgorithm = defaultIKEEncryption
	}
}

func predefinedIKE(set string, lifetime time.Duration) []*IKEProposal {
	var out []*IKEProposal
	for i, p := range ikeProposalSets[set] {
		p := p
		p.Name = fmt.Sprintf("%s-%d", set, i+1)
		p.Lifetime = lifetime
		p.Predefined = true
		out = append(out, &p)
	}
	return out
}

func needsPSK(props []*IKEProposal) bool {
	for _, p := range props {
		if p.AuthenticationMethod == "pre-shared-keys" {
			return true
		}
	}
	return false
}

func (b *builder) ikeProposalRefs(s *config.Stmt, defined []*IKEProposal, where string) []*IKEProposal {
	var out []*IKEProposal
	for i, name := range s.Values {
		p := find(defined, func(p *IKEProposal) string { return p.Name }, name)
		if p == nil {
			b.failValue(s, i, fmt.Sprintf("proposal %s is not defined", name),
				fmt.Sprintf("the name of a proposal under [edit %s] (%s)", where, names(defined, func(p *IKEProposal) string { return p.Name })))
			continue
		}
		out = append(out, p)
	}
	return out
}

func find[T any](list []T, name func(T) string, want string) T {
	for _, x := range list {
		if name(x) == want {
			return x
		}
	}
	var zero T
	return zero
}

func (b *builder) gateway(gs *config.Stmt) *IKEGateway {
	g := &IKEGateway{
		Name:                gs.Key,
		NATTraversal:        !has(gs, "no-nat-traversal"),
		NATKeepalive:        seconds(gs, "nat-keepalive", defaultNATKeepalive),
		LocalIdentity:       identity(child(gs, "local-identity")),
		RemoteIdentity:      identity(child(gs, "remote-identity")),
		LocalAddress:        addr(gs, "local-address"),
		Version:             defaultIKEVersion,
		Fragmentation:       defaultFragmentEnabled,
		Dynamic:             identity(child(gs, "dynamic")),
		PacketEncapsulation: has(gs, "packet-encapsulation"),
		UseGlobalDestPort:   has(child(gs, "packet-encapsulation"), "use-global-dest-port"),
	}
	if str(gs, "version") == "v2-only" {
		g.Version = 2
	}
	if fs := child(gs, "fragmentation"); fs != nil {
		g.Fragmentation = !has(fs, "disable")
		g.FragmentSize = num(fs, "size", 0)
		if g.Version == 1 && !fs.Inactive {
			b.cfg.Notices = append(b.cfg.Notices, Notice{Path: fs.PathString(),
				Msg: "accepted, not applied: fragmentation is IKEv2's (RFC 7383); this gateway is v1-only"})
		}
	}
	if ps := child(gs, "ike-policy"); ps != nil {
		g.Policy = find(b.cfg.IKE.Policies, func(p *IKEPolicy) string { return p.Name }, ps.Value())
		if g.Policy == nil {
			b.fail(ps, fmt.Sprintf("IKE policy %s is not defined", ps.Value()),
				"the name of a policy under [edit security ike policy] ("+names(b.cfg.IKE.Policies, func(p *IKEPolicy) string { return p.Name })+")")
		}
	} else {
		b.fail(gs, fmt.Sprintf("IKE gateway %s has no ike-policy", gs.Key), "ike-policy NAME")
	}
	if as := child(gs, "address"); as != nil {
		g.Addresses = append(g.Addresses, as.Values...)
	}
	if len(g.Addresses) == 0 && g.Dynamic.Type == "" {
		b.fail(gs, fmt.Sprintf("IKE gateway %s has neither address nor dynamic", gs.Key), "address PEER or dynamic IDENTITY")
	}
	if len(g.Addresses) > 0 && g.Dynamic.Type != "" {
		b.fail(child(gs, "dynamic"), "address and dynamic are both configured", "one of address or dynamic")
	}
	if ds := child(gs, "dead-peer-detection"); ds != nil {
		d := &DPD{Mode: defaultDPDMode, Interval: seconds(ds, "interval", defaultDPDInterval), Threshold: num(ds, "threshold", defaultDPDThreshold)}
		for _, m := range []string{"optimized", "probe-idle-tunnel", "always-send"} {
			if has(ds, m) {
				d.Mode, d.ModeSet = m, true
			}
		}
		g.DPD = d
	}
	if es := child(gs, "external-interface"); es != nil {
		g.ExternalInterface = b.unitRef(es)
	}
	if g.LocalAddress.IsValid() && g.ExternalInterface != nil && len(g.ExternalInterface.Addresses) > 0 && !hasAddr(g.ExternalInterface, g.LocalAddress) {
		ls, ext, local := child(gs, "local-address"), g.ExternalInterface, g.LocalAddress
		// A services redundancy group's virtual IP on that interface is
		// its address whenever this node owns the group (MNHA
		// configurations name both).
		b.afterHA = append(b.afterHA, func() {
			if !b.isVirtualIPOn(local, ext) {
				b.fail(ls, fmt.Sprintf("local address %s is not an address of %s", local, ext.Name()),
					"one of the addresses configured on the external interface, or a virtual IP of a services-redundancy-group on it")
			}
		})
	}
	if g.UseGlobalDestPort && b.cfg.IKE.PacketEncapsulationPort == 0 {
		b.fail(child(gs, "packet-encapsulation"), "use-global-dest-port needs the global port",
			"set security ike packet-encapsulation dest-port PORT")
	}
	if g.Version == 1 && g.Policy != nil {
		for _, p := range g.Policy.Proposals {
			if isAEAD(p.EncryptionAlgorithm) {
				b.fail(gs, fmt.Sprintf("IKE policy %s uses %s, which IKEv1 cannot negotiate", g.Policy.Name, p.EncryptionAlgorithm), "version v2-only, or a CBC encryption algorithm")
				break
			}
		}
	}
	b.checkDNIdentities(gs, g)
	return g
}

func hasAddr(u *Unit, a netip.Addr) bool {
	for _, p := range u.Addresses {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

func (b *builder) securityIPsec(s *config.Stmt) {
	ipsec := &b.cfg.IPsec
	if s == nil || s.Inactive {
		return
	}
	ipsec.Trace = trace(child(s, "traceoptions"))
	ipsec.DataPlane = str(s, "data-plane")
	for _, ps := range entries(s, "proposal") {
		b.refuseInsecure(ps, transform.IPsec, transform.TypeENCR, "encryption-algorithm")
		ipsec.Proposals = append(ipsec.Proposals, b.ipsecProposal(ps, defaultIPsecLifetime, "", ""))
	}
	for _, ps := range entries(s, "policy") {
		ipsec.Policies = append(ipsec.Policies, b.ipsecPolicy(ps, ipsec.Proposals, "security ipsec proposal", false))
	}
	for _, vs := range entries(s, "vpn") {
		ipsec.VPNs = append(ipsec.VPNs, b.vpn(vs))
	}
	b.checkSharedGateway(entries(s, "vpn"), ipsec.VPNs) // vpnshare.go
}

func (b *builder) ipsecProposal(ps *config.Stmt, lifetime time.Duration, defAuth, defEnc string) *IPsecProposal {
	p := &IPsecProposal{
		Name:                    ps.Key,
		Description:             str(ps, "description"),
		Protocol:                str(ps, "protocol"),
		AuthenticationAlgorithm: str(ps, "authentication-algorithm"),
		EncryptionAlgorithm:     str(ps, "encryption-algorithm"),
		Lifetime:                seconds(ps, "lifetime-seconds", lifetime),
		ExtendedSequenceNumbers: has(ps, "extended-sequence-number"),
	}
	if kb := child(ps, "lifetime-kilobytes"); kb != nil {
		p.LifetimeKilobytes, _ = strconv.ParseUint(kb.Value(), 10, 64)
	}
	if p.Protocol == "" {
		p.Protocol = defaultIPsecProtocol
	}
	if p.AuthenticationAlgorithm == "" && p.EncryptionAlgorithm == "" {
		p.AuthenticationAlgorithm, p.EncryptionAlgorithm = defAuth, defEnc
	}
	if p.Protocol == "ah" {
		b.fail(child(ps, "protocol"), "ipsecgw does not implement AH", "protocol esp")
	}
	switch {
	case isAEAD(p.EncryptionAlgorithm) && p.AuthenticationAlgorithm != "":
		b.fail(child(ps, "authentication-algorithm"), fmt.Sprintf("%s authenticates by itself; an authentication-algorithm cannot be combined with it", p.EncryptionAlgorithm),
			"no authentication-algorithm with an AEAD cipher")
	case p.EncryptionAlgorithm == "" && defEnc == "":
		b.fail(ps, fmt.Sprintf("IPsec proposal %s has no encryption-algorithm", ps.Key), "encryption-algorithm ALGORITHM (ipsecgw does not do NULL encryption)")
	case !isAEAD(p.EncryptionAlgorithm) && p.EncryptionAlgorithm != "" && p.AuthenticationAlgorithm == "":
		b.fail(ps, fmt.Sprintf("IPsec proposal %s uses %s without an authentication-algorithm", ps.Key, p.EncryptionAlgorithm),
			"authentication-algorithm ALGORITHM with a CBC cipher")
	}
	return p
}

func (b *builder) ipsecPolicy(ps *config.Stmt, defined []*IPsecProposal, where string, services bool) *IPsecPolicy {
	p := &IPsecPolicy{
		Name:        ps.Key,
		Description: str(ps, "description"),
		PFSGroup:    str(child(ps, "perfect-forward-secrecy"), "keys"),
		ProposalSet: str(ps, "proposal-set"),
	}
	props := child(ps, "proposals")
	switch {
	case props != nil && p.ProposalSet != "":
		b.fail(child(ps, "proposal-set"), "proposals and proposal-set are both configured", "one of proposals or proposal-set")
	case props != nil:
		for i, name := range props.Values {
			pr := find(defined, func(p *IPsecProposal) string { return p.Name }, name)
			if pr == nil {
				b.failValue(props, i, fmt.Sprintf("proposal %s is not defined", name),
					fmt.Sprintf("the name of a proposal under [edit %s] (%s)", where, names(defined, func(p *IPsecProposal) string { return p.Name })))
				continue
			}
			p.Proposals = append(p.Proposals, pr)
		}
	case p.ProposalSet != "":
		set := ipsecProposalSets[p.ProposalSet]
		if p.PFSGroup == "" {
			p.PFSGroup = set.PFS
		}
		for i, pr := range set.Proposals {
			pr := pr
			pr.Name = fmt.Sprintf("%s-%d", p.ProposalSet, i+1)
			pr.Protocol, pr.Lifetime, pr.Predefined = defaultIPsecProtocol, defaultIPsecLifetime, true
			p.Proposals = append(p.Proposals, &pr)
		}
	case services:
		// The AS PIC defaults apply (seed 001): filled in by the caller.
	default:
		b.fail(ps, fmt.Sprintf("IPsec policy %s has no proposals", ps.Key), "proposals NAME... or proposal-set NAME")
	}
	return p
}

func (b *builder) vpn(vs *config.Stmt) *VPN {
	v := &VPN{
		Name:             vs.Key,
		DFBit:            str(vs, "df-bit"),
		CopyOuterDSCP:    has(vs, "copy-outer-dscp"),
		EstablishTunnels: str(vs, "establish-tunnels"),
		PassiveMode:      has(vs, "passive-mode-tunneling"),
		TunnelMTU:        num(vs, "tunnel-mtu", 0),
	}
	if v.DFBit == "" {
		v.DFBit = defaultDFBit
	}
	if v.EstablishTunnels == "" {
		v.EstablishTunnels = defaultEstablish
	}
	if us := child(vs, "udp-encapsulate"); us != nil {
		v.UDPEncapsulate = true
		v.UDPDestPort = uint16(num(us, "dest-port", defaultUDPEncapPort))
	}
	if bs := child(vs, "bind-interface"); bs != nil {
		v.BindInterface = b.unitRef(bs)
		if v.BindInterface != nil && v.BindInterface.Interface.Kind != Tunnel {
			b.fail(bs, fmt.Sprintf("%s is not a tunnel interface", bs.Value()), "an st0 unit such as st0.1")
		}
	}
	for _, ts := range entries(vs, "traffic-selector") {
		local, lok := prefix(ts, "local-ip")
		remote, rok := prefix(ts, "remote-ip")
		if !lok || !rok {
			b.fail(ts, fmt.Sprintf("traffic selector %s needs both local-ip and remote-ip", ts.Key), "local-ip PREFIX and remote-ip PREFIX")
			continue
		}
		if local.Addr().Is4() != remote.Addr().Is4() {
			b.fail(ts, fmt.Sprintf("traffic selector %s mixes IPv4 and IPv6", ts.Key), "local-ip and remote-ip of the same family")
			continue
		}
		v.TrafficSelectors = append(v.TrafficSelectors, TrafficSelector{Name: ts.Key, Local: local, Remote: remote, Service: defaultProxyIDService})
	}
	manual, ike := child(vs, "manual"), child(vs, "ike")
	switch {
	case manual != nil && ike != nil:
		b.fail(manual, "a VPN is either manual or ike, not both", "one of manual or ike")
	case manual != nil:
		v.Manual = b.manual(manual)
	case ike != nil:
		v.IKE = b.vpnIKE(ike)
	default:
		b.fail(vs, fmt.Sprintf("VPN %s has neither ike nor manual", vs.Key), "ike { gateway NAME; ipsec-policy NAME; } or manual { ... }")
	}
	v.Monitor = b.vpnMonitor(vs, v)
	if v.IKE != nil && v.IKE.ProxyIdentity.Local.IsValid() && len(v.TrafficSelectors) > 0 {
		b.fail(child(ike, "proxy-identity"), "proxy-identity and traffic-selector are both configured", "one of proxy-identity or traffic-selector")
	}
	return v
}

func (b *builder) vpnIKE(s *config.Stmt) *VPNIKE {
	k := &VPNIKE{
		AntiReplay:      !has(s, "no-anti-replay"),
		ReplayWindow:    num(s, "anti-replay-window-size", defaultReplayWindow),
		IdleTime:        seconds(s, "idle-time", 0),
		InstallInterval: seconds(s, "install-interval", 0),
		ProxyIdentity:   TrafficSelector{Service: defaultProxyIDService},
	}
	if gs := child(s, "gateway"); gs != nil {
		k.Gateway = find(b.cfg.IKE.Gateways, func(g *IKEGateway) string { return g.Name }, gs.Value())
		if k.Gateway == nil {
			b.fail(gs, fmt.Sprintf("IKE gateway %s is not defined", gs.Value()),
				"the name of a gateway under [edit security ike gateway] ("+names(b.cfg.IKE.Gateways, func(g *IKEGateway) string { return g.Name })+")")
		}
	} else {
		b.fail(s, "ike has no gateway", "gateway NAME")
	}
	if ps := child(s, "ipsec-policy"); ps != nil {
		k.Policy = find(b.cfg.IPsec.Policies, func(p *IPsecPolicy) string { return p.Name }, ps.Value())
		if k.Policy == nil {
			b.fail(ps, fmt.Sprintf("IPsec policy %s is not defined", ps.Value()),
				"the name of a policy under [edit security ipsec policy] ("+names(b.cfg.IPsec.Policies, func(p *IPsecPolicy) string { return p.Name })+")")
		}
	} else {
		b.fail(s, "ike has no ipsec-policy", "ipsec-policy NAME")
	}
	if pi := child(s, "proxy-identity"); pi != nil {
		if p, ok := prefix(pi, "local"); ok {
			k.ProxyIdentity.Local = p
		}
		if p, ok := prefix(pi, "remote"); ok {
			k.ProxyIdentity.Remote = p
		}
		if svc := str(pi, "service"); svc != "" {
			k.ProxyIdentity.Service = svc
		}
		if k.ProxyIdentity.Local.IsValid() && k.ProxyIdentity.Remote.IsValid() && k.ProxyIdentity.Local.Addr().Is4() != k.ProxyIdentity.Remote.Addr().Is4() {
			b.fail(pi, "proxy-identity mixes IPv4 and IPv6", "local and remote of the same family")
		}
	}
	return k
}

func (b *builder) manual(s *config.Stmt) *ManualSA {
	m := &ManualSA{
		Gateway:                 addr(s, "gateway"),
		Protocol:                str(s, "protocol"),
		SPI:                     uint32(num(s, "spi", 0)),
		ExtendedSequenceNumbers: has(s, "extended-sequence-number"),
		AuthenticationAlgorithm: str(child(s, "authentication"), "algorithm"),
		AuthenticationKey:       b.key(child(child(s, "authentication"), "key")),
		EncryptionAlgorithm:     str(child(s, "encryption"), "algorithm"),
		EncryptionKey:           b.key(child(child(s, "encryption"), "key")),
	}
	if es := child(s, "external-interface"); es != nil {
		m.ExternalInterface = b.unitRef(es)
	}
	required := []struct {
		ok             bool
		what, expected string
	}{
		{m.Gateway.IsValid(), "gateway", "gateway ADDRESS"},
		{m.Protocol != "", "protocol", "protocol esp"},
		{m.SPI != 0, "spi", "spi 256..16639"},
		{m.EncryptionAlgorithm != "", "encryption algorithm", "encryption { algorithm ALG; key ...; }"},
	}
	for _, r := range required {
		if !r.ok {
			b.fail(s, "manual SA has no "+r.what, r.expected)
		}
	}
	if m.Protocol == "ah" {
		b.fail(child(s, "protocol"), "ipsecgw does not implement AH", "protocol esp")
	}
	if m.EncryptionAlgorithm != "" && !m.EncryptionKey.IsSet() {
		b.fail(child(s, "encryption"), "encryption has no key", "key ascii-text KEY or key hexadecimal KEY")
	}
	if isAEAD(m.EncryptionAlgorithm) && m.AuthenticationAlgorithm != "" {
		b.fail(child(s, "authentication"), fmt.Sprintf("%s authenticates by itself; remove authentication", m.EncryptionAlgorithm), "no authentication with an AEAD cipher")
	}
	if !isAEAD(m.EncryptionAlgorithm) && m.EncryptionAlgorithm != "" && m.AuthenticationAlgorithm == "" {
		b.fail(s, fmt.Sprintf("%s needs authentication", m.EncryptionAlgorithm), "authentication { algorithm ALG; key ...; }")
	}
	if m.AuthenticationAlgorithm != "" && !m.AuthenticationKey.IsSet() {
		b.fail(child(s, "authentication"), "authentication has no key", "key ascii-text KEY or key hexadecimal KEY")
	}
	b.checkKeyLength(child(child(s, "encryption"), "key"), m.EncryptionKey, encKeyBytes(m.EncryptionAlgorithm), m.EncryptionAlgorithm)
	b.checkKeyLength(child(child(s, "authentication"), "key"), m.AuthenticationKey, authKeyBytes(m.AuthenticationAlgorithm), m.AuthenticationAlgorithm)
	return m
}
