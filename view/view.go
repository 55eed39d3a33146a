// Package view fills the show commands' views from a gateway's live state:
// the adapter between the daemon and package show, used by the management
// API and the demo.
package view

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/dataplane"
	"ipsecgw/ike"
	"ipsecgw/show"
	"ipsecgw/transform"
)

// Views is what the show commands print about one gateway, filled from its
// live state.
type Views struct {
	IKE []show.IKESA
	// Failed is one DOWN entry per gateway whose last negotiation failed
	// and that has no IKE SA now, with the reason (shown by the detail
	// listing, after the live SAs).
	Failed     []show.IKESA
	IPsec      show.IPsecView
	Statistics show.Statistics
	// TunnelStatistics is each tunnel's counters, by tunnel index
	// ("show security ipsec statistics index N").
	TunnelStatistics map[uint32]show.Statistics
	Inactive         []show.InactiveTunnel
	// TunnelVPN names the VPN of each tunnel index.
	TunnelVPN map[uint32]string
	// Services is the `show services ipsec-vpn` family's views.
	Services ServicesViews
}

// FirstTunnelIndex is the index of the first IPsec tunnel: Junos (MX inline
// IPsec, seed 004) numbers tunnels from 500001, in configuration order.
const FirstTunnelIndex = 500001

// Build fills the show views from a gateway's status, its
// configuration and the time now (lifetimes are printed as time left).
//
// What the status does not carry is taken from the configuration or left
// at zero: the IKE ports (500: the demo has no NAT), the IPsec algorithms
// (the VPN's first proposal, the one a single-proposal policy negotiates)
// and the IKE SA's own traffic counters (zero: the IKE engine does not
// count them yet). The Child SAs' lifetimes count down to the moments the
// IKE engine armed their timers for (daemon.SAStatus RekeyAt, ExpiresAt).
func Build(st daemon.Status, cfg *schema.Config, now time.Time) Views {
	var v Views
	tunnelIDs := tunnelIndexes(cfg)

	all := append([]ike.SAInfo(nil), st.IKE...)
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].Established.Equal(all[j].Established) {
			return all[i].Established.Before(all[j].Established)
		}
		return all[i].InitiatorSPI < all[j].InitiatorSPI
	})
	// The services tunnels' IKE SAs are the services commands' (on
	// Junos another daemon's: kmd, not iked).
	var ike, svcIKE []ike.SAInfo
	for _, info := range all {
		if daemon.IsServiceVPN(info.Gateway) {
			svcIKE = append(svcIKE, info)
		} else {
			ike = append(ike, info)
		}
	}
	ikeIndex := map[string]uint32{} // gateway → index of its (last) UP IKE SA
	for i, info := range ike {
		sa := ikeSAView(info, uint32(i+1), cfg, tunnelIDs, now)
		if sa.Up {
			ikeIndex[info.Gateway] = sa.Index
		}
		v.IKE = append(v.IKE, sa)
	}

	for _, vpn := range cfg.IPsec.VPNs {
		tn, ok := tunnelView(vpn, tunnelIDs[vpn.Name], st, ike, ikeIndex, now)
		if !ok {
			continue
		}
		v.IPsec.ActiveTunnels++
		v.IPsec.IPsecSAs += len(tn.SAs)
		v.IPsec.Tunnels = append(v.IPsec.Tunnels, tn)
	}

	v.Statistics = statistics(st.Global)
	v.TunnelStatistics, v.TunnelVPN = map[uint32]show.Statistics{}, map[uint32]string{}
	for name, id := range tunnelIDs {
		v.TunnelVPN[id] = name
		var sum dataplane.Stats
		for _, s := range st.SAs {
			if s.VPN == name {
				sum = add(sum, s.Counters)
			}
		}
		v.TunnelStatistics[id] = statistics(sum)
	}
	v.Failed, v.Inactive = failures(st, cfg, tunnelIDs, v.IPsec, uint32(len(ike)+1))
	v.Services = services(st, cfg, svcIKE, now)
	v.Inactive = append(v.Inactive, v.Services.Inactive...)
	return v
}

func statistics(g dataplane.Stats) show.Statistics {
	return show.Statistics{
		ESPEncryptedBytes: g.EncryptedBytes, ESPDecryptedBytes: g.DecryptedBytes,
		ESPEncryptedPackets: g.EncryptedPackets, ESPDecryptedPackets: g.DecryptedPackets,
		ReplayErrors: g.ReplayErrors, ESPAuthFailures: g.AuthFailures, ESPDecryptFailures: g.DecryptFailures,
		BadHeaders: g.BadHeaders, BadTrailers: g.BadTrailers,
	}
}

func add(a, b dataplane.Stats) dataplane.Stats {
	a.EncryptedBytes += b.EncryptedBytes
	a.DecryptedBytes += b.DecryptedBytes
	a.EncryptedPackets += b.EncryptedPackets
	a.DecryptedPackets += b.DecryptedPackets
	a.ReplayErrors += b.ReplayErrors
	a.AuthFailures += b.AuthFailures
	a.DecryptFailures += b.DecryptFailures
	a.BadHeaders += b.BadHeaders
	a.BadTrailers += b.BadTrailers
	return a
}

// failures turns the IKE engine's record of failed negotiations into the
// DOWN entries of the detail listing and the inactive-tunnels rows: per
// gateway the last failure and how many came in a row, for gateways with
// no IKE SA up.
func failures(st daemon.Status, cfg *schema.Config, tunnelIDs map[string]uint32, active show.IPsecView, nextIndex uint32) ([]show.IKESA, []show.InactiveTunnel) {
	up := map[string]bool{}
	for _, info := range st.IKE {
		if info.State == "UP" {
			up[info.Gateway] = true
		}
	}
	last := map[string]ike.SAInfo{}
	count := map[string]int{}
	for _, f := range st.Failures { // oldest first
		if !f.Failure.Failed() {
			continue
		}
		last[f.Gateway] = f
		count[f.Gateway]++
	}
	var failed []show.IKESA
	for _, g := range cfg.IKE.Gateways {
		f, ok := last[g.Name]
		if !ok || up[g.Name] {
			continue
		}
		sa := ikeSAView(f, nextIndex, cfg, tunnelIDs, f.Ended)
		nextIndex++
		sa.Up = false
		sa.LastFailure = &show.NegotiationFailure{Time: f.Ended, Exchange: exchangeOf(f), Reason: f.Failure.Message}
		failed = append(failed, sa)
	}
	installed := map[string]bool{}
	for _, tn := range active.Tunnels {
		installed[tn.VPNName] = true
	}
	var inactive []show.InactiveTunnel
	for _, vpn := range cfg.IPsec.VPNs {
		if vpn.IKE == nil || installed[vpn.Name] || vpn.IKE.Gateway == nil {
			continue
		}
		g := vpn.IKE.Gateway
		it := show.InactiveTunnel{ID: tunnelIDs[vpn.Name], Port: 500, PendingSAs: 1,
			EstablishImmediately: vpn.EstablishTunnels == "immediately"}
		if len(g.Addresses) > 0 {
			it.Gateway, _ = netip.ParseAddr(g.Addresses[0])
		}
		if f, ok := last[g.Name]; ok && !up[g.Name] {
			it.Reason, it.ReasonCount, it.ReasonTime = f.Failure.Message, count[g.Name], f.Ended
		}
		// The IKE SA is up and its Child SA was refused: the IKE SA says why.
		for _, info := range st.IKE {
			if info.Gateway == g.Name && info.State == "UP" && info.Children == 0 && info.Failure.Failed() {
				it.Reason, it.ReasonCount = info.Failure.Message, 0
			}
		}
		if reason := st.Down[vpn.Name]; reason != "" {
			// The daemon runs no negotiation for it (an IKE version
			// without an engine).
			it.Reason, it.ReasonCount, it.ReasonTime = reason, 0, time.Time{}
		}
		inactive = append(inactive, it)
	}
	return failed, inactive
}

// exchangeOf names the exchange a failed SA was in: IKE_SA_INIT until the
// keys exist, IKE_AUTH after, INFORMATIONAL once it had been up.
func exchangeOf(f ike.SAInfo) string {
	switch {
	case !f.Established.IsZero():
		return "INFORMATIONAL"
	case f.Encryption != "":
		return "IKE_AUTH"
	}
	return "IKE_SA_INIT"
}

// tunnelIndexes numbers the route-based VPNs from FirstTunnelIndex.
func tunnelIndexes(cfg *schema.Config) map[string]uint32 {
	ids := map[string]uint32{}
	for i, vpn := range cfg.IPsec.VPNs {
		ids[vpn.Name] = FirstTunnelIndex + uint32(i)
	}
	return ids
}

// engineIKESA is what an IKE SA's view takes from the engine's report,
// for [security ike] gateways and services tunnels alike; the callers add
// their own names, exchange type and what their configuration says.
func engineIKESA(info ike.SAInfo) show.IKESA {
	sa := show.IKESA{
		Initiator: info.Initiator, Up: info.State == "UP",
		InitiatorSPI: info.InitiatorSPI, ResponderSPI: info.ResponderSPI,
		Remote: netip.AddrPortFrom(info.Remote, 500), PeerIKEID: info.Remote.String(),
		Integrity: info.Integrity, Encryption: info.Encryption, PRF: info.PRF,
		DHGroup: groupNumber(info.Group), Rekey: &show.RekeyStatistics{},
		AuthMethod: "Pre-shared-keys", RoutingInstance: "default",
	}
	if info.Children > 0 {
		sa.ChildSAsCreated = uint64(info.Children)
	}
	return sa
}

func ikeSAView(info ike.SAInfo, index uint32, cfg *schema.Config, tunnelIDs map[string]uint32, now time.Time) show.IKESA {
	sa := engineIKESA(info)
	sa.Index, sa.GatewayName, sa.ExchangeType = index, info.Gateway, "IKEv2"
	// RFC 7383, as negotiated (ike/ikev2/fragment.go).
	sa.Fragmentation, sa.FragmentSize = info.Fragmentation, info.FragmentSize
	sa.InFragments, sa.OutFragments = info.InFragments, info.OutFragments
	sa.PPKProfile, sa.QuantumSecured, sa.AdditionalKE = info.PPKProfile, quantumSecured(info), info.AdditionalKE // quantum.go
	if info.PeerCertificate != "" {
		sa.PeerIKEID = info.PeerCertificate // authenticated by its certificate: its subject
	}
	g := ikeGateway(cfg, info.Gateway)
	if g == nil {
		return sa
	}
	if g.ExternalInterface != nil {
		sa.LocalInterface = g.ExternalInterface.Name()
	}
	if local := gatewayLocal(g, info.Remote); local.IsValid() {
		sa.Local = netip.AddrPortFrom(local, 500)
	}
	if g.Policy != nil && len(g.Policy.Proposals) > 0 {
		p := g.Policy.Proposals[0]
		sa.AuthMethod = authMethod(p.AuthenticationMethod)
		if sa.Up && p.Lifetime > 0 {
			sa.Lifetime = max(info.Established.Add(p.Lifetime).Sub(now), 0)
		}
	}
	for _, vpn := range cfg.IPsec.VPNs {
		if vpn.IKE != nil && vpn.IKE.Gateway == g {
			sa.TunnelIDs = append(sa.TunnelIDs, tunnelIDs[vpn.Name])
		}
	}
	return sa
}

// tunnelView is one VPN's tunnel; ok is false when it has no SA installed.
func tunnelView(vpn *schema.VPN, id uint32, st daemon.Status, ike []ike.SAInfo, ikeIndex map[string]uint32, now time.Time) (show.IPsecTunnel, bool) {
	tn := show.IPsecTunnel{
		ID: id, VirtualSystem: "root", VPNName: vpn.Name, Version: "IKEv2",
		TSType: "proxy-id", DFBit: orDefault(vpn.DFBit, "clear"), CopyOuterDSCP: vpn.CopyOuterDSCP,
		PassiveMode: vpn.PassiveMode, Port: 500, Monitor: "-", DistributionProfile: "default",
	}
	any4 := show.SelectorFromPrefix(netip.MustParsePrefix("0.0.0.0/0"))
	tn.LocalIdentity, tn.RemoteIdentity = any4, any4
	if len(vpn.TrafficSelectors) > 0 {
		tn.TSType = "traffic-selectors"
		tn.LocalIdentity = show.SelectorFromPrefix(vpn.TrafficSelectors[0].Local)
		tn.RemoteIdentity = show.SelectorFromPrefix(vpn.TrafficSelectors[0].Remote)
	}
	if vpn.BindInterface != nil {
		tn.BindInterface = vpn.BindInterface.Name()
	}
	var base show.IPsecSA
	if vpn.IKE != nil {
		if vpn.IKE.Policy != nil {
			tn.PolicyName = vpn.IKE.Policy.Name
			tn.PFSGroup = groupNumber(vpn.IKE.Policy.PFSGroup)
			if len(vpn.IKE.Policy.Proposals) > 0 {
				base = proposalSA(vpn.IKE.Policy.Proposals[0])
			}
		}
		if vpn.IKE.AntiReplay {
			base.ReplayWindow = vpn.IKE.ReplayWindow
		}
		if g := vpn.IKE.Gateway; g != nil {
			base.IKESAIndex = ikeIndex[g.Name]
			for _, info := range ike {
				if info.Gateway == g.Name && info.State == "UP" {
					tn.QuantumSecured = quantumSecured(info) // quantum.go
				}
			}
		}
		base.Establish = "establish-tunnels-" + orDefault(vpn.EstablishTunnels, "on-traffic")
	} else {
		base.Manual = true
	}
	base.Installed = true
	tn.SAs = installedSAs(base, st.SAs, vpn.Name, now, &tn.LocalGateway, &tn.RemoteGateway, nil)
	tn.QuantumSecured = tn.QuantumSecured || quantumSAs(tn.SAs) // quantum.go
	monitorView(&tn, st)
	return tn, len(tn.SAs) > 0
}

// installedSAs lists the SAs of list that are VPN vpn's as the show
// commands do, inbound first: each is base with its SPI, direction and
// lifetimes left at now, and what fill (nil: nothing) adds for that
// direction. local and remote are set to the SAs' addresses.
func installedSAs(base show.IPsecSA, list []daemon.SAStatus, vpn string, now time.Time, local, remote *netip.Addr, fill func(*show.IPsecSA)) []show.IPsecSA {
	var in, out []show.IPsecSA
	for _, s := range list {
		if s.VPN != vpn {
			continue
		}
		sa := base
		sa.SPI = parseSPI(s.SPI)
		sa.Inbound = s.Direction == "inbound"
		sa.PFSGroup, sa.AdditionalKE = s.PFSGroup, s.AdditionalKE // the SA's own key exchanges
		if !sa.Manual {
			sa.HardLifetime, sa.SoftLifetime, sa.LifetimeUnknown = timeLeft(s, now)
		}
		if l := s.Lifesize; l != nil && l.Hard != 0 {
			sa.ByteLifetime = true
			sa.LifesizeKB, sa.SoftLifesizeKB, sa.SoftConfiguredKB = kilobytesLeft(l.Hard, l.Carried), kilobytesLeft(l.Soft, l.Carried), kilobytesLeft(l.Configured, l.Carried)
		}
		if fill != nil {
			fill(&sa)
		}
		if a, err := netip.ParseAddr(s.Local); err == nil {
			*local = a
		}
		if a, err := netip.ParseAddr(s.Remote); err == nil {
			*remote = a
		}
		if sa.Inbound {
			in = append(in, sa)
		} else {
			out = append(out, sa)
		}
	}
	return append(in, out...)
}

// timeLeft is what is left of an IKE-keyed SA's time lifetime: until the
// moments the IKE engine armed its rekey and removal for. unknown: no
// engine here schedules it (resumed from a cluster peer without them,
// or an inbound SA kept a moment after its Child SA went).
func timeLeft(s daemon.SAStatus, now time.Time) (hard, soft time.Duration, unknown bool) {
	if s.ExpiresAt.IsZero() {
		return 0, 0, true
	}
	return max(s.ExpiresAt.Sub(now), 0), max(s.RekeyAt.Sub(now), 0), false
}

// kilobytesLeft is what is left of limit bytes after carried, in
// kilobytes (rounded down, as a count down should).
func kilobytesLeft(limit, carried uint64) uint64 {
	if carried >= limit {
		return 0
	}
	return (limit - carried) / 1024
}

// proposalSA is the algorithms and lifetimes of an IPsec proposal as the
// show views spell them: "aes-gcm" and 256 bits, authentication
// "aes256-gcm" for an AEAD cipher. The time lifetimes are the SAs' own
// (installedSAs); the byte lifetime here is the configured one, 85 % of
// it soft, until the data plane reports the SA's.
func proposalSA(p *schema.IPsecProposal) show.IPsecSA {
	sa := show.IPsecSA{Protocol: strings.ToUpper(orDefault(p.Protocol, "esp")), ESN: p.ExtendedSequenceNumbers,
		ByteLifetime: p.LifetimeKilobytes != 0, LifesizeKB: p.LifetimeKilobytes, SoftLifesizeKB: p.LifetimeKilobytes * 85 / 100}
	if t, ok := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, p.EncryptionAlgorithm); ok {
		sa.Encryption = t.Display
		if t.KeyLengthAttribute {
			// "aes256-gcm" → "aes-gcm", 256 bits.
			cipher, mode, _ := strings.Cut(t.Display, strconv.Itoa(t.KeyBits))
			sa.Encryption = cipher + mode
			sa.KeyBits = t.KeyBits
		}
		if t.ICVSize > 0 {
			sa.Authentication = t.Display // AEAD: the cipher authenticates
		}
	}
	if p.AuthenticationAlgorithm != "" {
		if t, ok := transform.LookupKeyword(transform.IPsec, transform.TypeINTEG, p.AuthenticationAlgorithm); ok {
			sa.Authentication = t.Display
		}
	}
	return sa
}

func ikeGateway(cfg *schema.Config, name string) *schema.IKEGateway {
	for _, g := range cfg.IKE.Gateways {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// gatewayLocal is the gateway's local-address, or its external
// interface's address of the peer's family.
func gatewayLocal(g *schema.IKEGateway, peer netip.Addr) netip.Addr {
	if g.LocalAddress.IsValid() {
		return g.LocalAddress
	}
	if g.ExternalInterface != nil {
		for _, a := range g.ExternalInterface.Addresses {
			if a.Addr().Is4() == peer.Is4() {
				return a.Addr()
			}
		}
	}
	return netip.Addr{}
}

// groupNumber is the number of "DH-group-14" or "group14"; 0 when none.
func groupNumber(s string) int {
	i := strings.LastIndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	n, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return 0
	}
	return n
}

// authMethod is the Junos display of an authentication-method keyword.
func authMethod(kw string) string {
	switch kw {
	case "", "pre-shared-keys":
		return "Pre-shared-keys"
	case "rsa-signatures":
		return "RSA-signatures"
	}
	return kw
}

func parseSPI(s string) uint32 {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
