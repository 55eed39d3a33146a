package show

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// IPsecView is what `show security ipsec security-associations` reports:
// the tunnels with their SAs, and the daemon's totals.
type IPsecView struct {
	// ActiveTunnels and IPsecSAs are the header totals as the daemon counts
	// them. They are carried, not derived from Tunnels, because they stay
	// global when `index N` narrows the listing.
	ActiveTunnels int
	IPsecSAs      int
	Tunnels       []IPsecTunnel
}

// IPsecTunnel is one VPN tunnel (a [security ipsec vpn]) with its SAs.
type IPsecTunnel struct {
	ID            uint32 // tunnel index (500001, ...); `index N` selects it
	VirtualSystem string // logical system; "" prints "root"
	VPNName       string // [security ipsec vpn NAME]

	LocalGateway, RemoteGateway   netip.Addr
	LocalIdentity, RemoteIdentity Selector // the negotiated traffic selectors
	TSType                        string   // "proxy-id" or "traffic-selectors"
	Version                       string   // "IKEv2", "IKEv1"
	QuantumSecured                bool     // keys mixed with a post-quantum secret
	PFSGroup                      int      // DH group of child-SA PFS; 0 prints N/A
	PassiveMode                   bool     // passive-mode tunneling

	DFBit         string // outer DF handling: "clear", "set", "copy"
	CopyOuterDSCP bool   // copy-outer-dscp
	BindInterface string // st0.N the tunnel is bound to
	PolicyName    string // [security ipsec policy NAME]

	Port         uint16 // remote IKE/ESP port: 500, or 4500 (or another) under NAT-T
	Negotiations int    // IPsec negotiations so far ("Nego#")
	Failures     int    // of which failed ("Fail#")
	Deletions    int    // deletions deferred ("Def-Del#")
	Flags        uint32 // daemon tunnel flags ("Flag")

	ConfiguredSAs, NegotiatedSAs int // multi-SA counts (one SA pair per selector)

	Events []TunnelEvent // newest first

	FPC, PIC            int    // "Location"; ipsecgw has one of each, 0
	Thread              int    // worker the tunnel is anchored to ("Anchorship")
	DistributionProfile string // how its traffic is spread over workers

	Monitor string    // VPN monitoring: "-" off (also ""), "U" up, "D" down
	SAs     []IPsecSA // the SA pair: inbound first, then outbound

	// MonitorCounters, when monitoring is on, are its counters (detail).
	MonitorCounters *MonitorCounters
}

// TunnelEvent is one line of "Tunnel events". Junos folds repeats of the
// same event into one line with a count, and marks repeated sequences.
type TunnelEvent struct {
	Time   time.Time // the latest occurrence
	Text   string    // "IPsec SA negotiation succeeds", ...
	Count  int       // occurrences folded into this line
	Marker string    // "", "repeated sequence START" or "repeated sequence END"
}

// IPsecSA is one direction of a tunnel: an SA the data plane installed.
type IPsecSA struct {
	Inbound bool   // direction
	SPI     uint32 // our SPI for inbound, the peer's for outbound
	AuxSPI  uint32 // SPI of an AH bundled with the ESP SA; 0 when none

	Protocol       string // "ESP" ("" too) or "AH"
	Encryption     string // cipher, Junos word: "aes-gcm", "aes-cbc", "3des-cbc"
	KeyBits        int    // cipher key length; printed with Encryption when not 0
	Authentication string // integrity: "hmac-sha256-128", or for AEAD "aes256-gcm"; "" prints None

	HardLifetime time.Duration // time left until the SA is deleted
	SoftLifetime time.Duration // time left until rekeying starts
	// LifetimeUnknown: the SA is keyed by IKE but when it is to be
	// rekeyed and deleted is not known here (no engine of this node
	// schedules it); the lifetimes read Unknown, not a guess. A manual SA
	// has no time lifetime at all (Manual).
	LifetimeUnknown bool
	// ByteLifetime is set when the SA has a lifetime in kilobytes
	// (otherwise "Unlimited"): LifesizeKB is what is left of it until the
	// hard limit, SoftLifesizeKB until the rekey starts (0: started).
	// The data plane rekeys a fast SA before its configured soft limit
	// (dataplane/softbytes.go): SoftConfiguredKB is what is left until
	// that one, shown when it is further.
	ByteLifetime     bool
	LifesizeKB       uint64
	SoftLifesizeKB   uint64
	SoftConfiguredKB uint64

	Transport    bool   // transport mode; false is tunnel mode
	Manual       bool   // keyed by hand; false is dynamic (IKE)
	Installed    bool   // in the data plane
	ReplayWindow int    // anti-replay window in packets; 0 is anti-replay off
	ESN          bool   // extended sequence numbers
	Establish    string // tunnel-establishment mode: "establish-tunnels-immediately", ...
	IKESAIndex   uint32 // the IKE SA that negotiated it; 0 for manual SAs

	// PFSGroup is the DH group (key exchange method) of the PFS its keys
	// came from, AdditionalKE the additional key exchanges after it (RFC
	// 9370, "ke1 ML-KEM-768"); zero and nil for an SA without (ipsecke.go).
	PFSGroup     int
	AdditionalKE []string
}

// IPsecQuery is the arguments of `show security ipsec security-associations`.
type IPsecQuery struct {
	Style Style  // brief by default, detail by default with an index
	Index uint32 // `index N`: only tunnel N; 0 selects all
}

// IPsecSecurityAssociations is `show security ipsec security-associations
// [brief | detail] [index N]`.
func IPsecSecurityAssociations(v IPsecView, q IPsecQuery) Reply {
	var tunnels []*IPsecTunnel
	for i := range v.Tunnels {
		if q.Index == 0 || v.Tunnels[i].ID == q.Index {
			tunnels = append(tunnels, &v.Tunnels[i])
		}
	}
	detail := q.Style == StyleDetail || q.Style == StyleDefault && q.Index != 0
	var t text
	m := &IPsecSecurityAssociationsInformation{
		Style: "brief", TotalActiveTunnels: v.ActiveTunnels, TotalIPsecSAs: v.IPsecSAs,
	}
	if detail {
		m.Style = "detail"
		for i, tn := range tunnels {
			if i > 0 {
				t.line("")
			}
			writeIPsecDetail(&t, tn)
			m.Blocks = append(m.Blocks, ipsecDetailModel(tn))
		}
		return Reply{t.String(), m}
	}
	t.line("Total active tunnels: %d     Total IPsec sas: %d", v.ActiveTunnels, v.IPsecSAs)
	if len(tunnels) > 0 {
		t.line("  ID      Algorithm       SPI      Life:sec/kb  Mon lsys Port  Gateway         ")
	}
	for _, tn := range tunnels {
		block := IPsecSABlock{State: blockState(tn)}
		for i := range tn.SAs {
			sa := &tn.SAs[i]
			life := lifetimeBrief(sa, sa.HardLifetime)
			t.line("  %s%d %s 0x%08x %s/%*s %s %s %d %-16s", arrow(sa.Inbound), tn.ID, briefAlgorithm(sa),
				sa.SPI, life, max(10-len(life), 0), lifesizeBrief(sa), monitor(tn), vsys(tn), tn.Port, tn.RemoteGateway)
			block.SAs = append(block.SAs, ipsecSAModel(tn, sa, false))
		}
		m.Blocks = append(m.Blocks, block)
	}
	return Reply{t.String(), m}
}

func arrow(inbound bool) string {
	if inbound {
		return "<"
	}
	return ">"
}

func direction(inbound bool) string {
	if inbound {
		return "inbound"
	}
	return "outbound"
}

func blockState(tn *IPsecTunnel) string {
	if len(tn.SAs) == 0 {
		return "down"
	}
	return "up"
}

func monitor(tn *IPsecTunnel) string { return orDefault(tn.Monitor, "-") }
func vsys(tn *IPsecTunnel) string    { return orDefault(tn.VirtualSystem, "root") }
func protocol(sa *IPsecSA) string    { return orDefault(sa.Protocol, "ESP") }

// briefEncryption is the cipher with its key length, "aes-gcm-256".
func briefEncryption(sa *IPsecSA) string {
	if sa.KeyBits == 0 {
		return sa.Encryption
	}
	return fmt.Sprintf("%s-%d", sa.Encryption, sa.KeyBits)
}

// briefAlgorithm is the Algorithm column, "ESP:aes-gcm-256/aes256-gcm".
func briefAlgorithm(sa *IPsecSA) string {
	return protocol(sa) + ":" + briefEncryption(sa) + "/" + orDefault(sa.Authentication, "None")
}

// detailEncryption is the cipher as the detail view prints it,
// "aes-gcm (256 bits)".
func detailEncryption(sa *IPsecSA) string {
	if sa.KeyBits == 0 {
		return sa.Encryption
	}
	return fmt.Sprintf("%s (%d bits)", sa.Encryption, sa.KeyBits)
}

// lifetimeBrief and lifetimeDetail are what is left of an SA's time
// lifetime d. A manual SA has none: unlimited, as its lifesize; one whose
// schedule is not known here says so rather than count down a guess.
func lifetimeBrief(sa *IPsecSA, d time.Duration) string {
	switch {
	case sa.Manual:
		return "unlim"
	case sa.LifetimeUnknown:
		return "-"
	}
	return strconv.FormatInt(seconds(d), 10)
}

func lifetimeDetail(sa *IPsecSA, d time.Duration) string {
	switch {
	case sa.Manual:
		return "Unlimited"
	case sa.LifetimeUnknown:
		return "Unknown"
	}
	return expires(d)
}

func lifesizeBrief(sa *IPsecSA) string {
	if !sa.ByteLifetime {
		return "unlim"
	}
	return strconv.FormatUint(sa.LifesizeKB, 10)
}

func lifesizeDetail(sa *IPsecSA) string {
	if !sa.ByteLifetime {
		return "Unlimited"
	}
	return strconv.FormatUint(sa.LifesizeKB, 10) + " kilobytes"
}

// softLifesize is what is left until the rekey starts, for an SA with a
// lifetime in kilobytes ("" without): Junos shows only the hard limit's;
// ipsecgw's rekey point moves with the rate, so it says where it is.
func softLifesize(sa *IPsecSA) string {
	if !sa.ByteLifetime {
		return ""
	}
	return strconv.FormatUint(sa.SoftLifesizeKB, 10) + " kilobytes"
}

// softConfigured is what is left until the configured soft limit, when
// the rekey starts before it ("" otherwise).
func softConfigured(sa *IPsecSA) string {
	if !sa.ByteLifetime || sa.SoftConfiguredKB <= sa.SoftLifesizeKB {
		return ""
	}
	return strconv.FormatUint(sa.SoftConfiguredKB, 10) + " kilobytes"
}

func pfsGroup(n int) string {
	if n == 0 {
		return "N/A"
	}
	return dhGroup(n)
}

func tunnelFlags(f uint32) string {
	if f == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", f)
}

// iked's words for the SA fields of the detail view.
func ikedMode(sa *IPsecSA) string {
	if sa.Transport {
		return "Transport(0 0)"
	}
	return "Tunnel(0 0)"
}

func saType(sa *IPsecSA) string {
	if sa.Manual {
		return "manual"
	}
	return "dynamic"
}

func ikedState(sa *IPsecSA) string {
	if sa.Installed {
		return "installed"
	}
	return "not installed"
}

func ikedAntiReplay(sa *IPsecSA) string {
	if sa.ReplayWindow == 0 {
		return "disabled"
	}
	return "counter-based enabled"
}

func eventLine(e TunnelEvent) string {
	s := fmt.Sprintf("%s: %s (%d times)", eventTime(e.Time), e.Text, e.Count)
	if e.Marker != "" {
		s += " <- [" + e.Marker + "]"
	}
	return s
}

// writeIPsecDetail prints the detail block of seed 004, spaces included
// (the space before ", Policy-name" and after "Flag: 0" and "Negotiated
// SAs#: 0" are iked's).
func writeIPsecDetail(t *text, tn *IPsecTunnel) {
	t.line("ID: %d Virtual-system: %s, VPN Name: %s", tn.ID, vsys(tn), tn.VPNName)
	t.line("  Local Gateway: %s, Remote Gateway: %s", tn.LocalGateway, tn.RemoteGateway)
	t.line("  Local Identity: %s", tn.LocalIdentity.Range())
	t.line("  Remote Identity: %s", tn.RemoteIdentity.Range())
	t.line("  TS Type: %s", tn.TSType)
	t.line("  Version: %s", tn.Version)
	t.line("  Quantum Secured: %s", yesNo(tn.QuantumSecured))
	t.line("  PFS group: %s", pfsGroup(tn.PFSGroup))
	t.line("  Passive mode tunneling: %s", onOff(tn.PassiveMode))
	t.line("  DF-bit: %s, Copy-Outer-DSCP: %s, Bind-interface: %s , Policy-name: %s",
		tn.DFBit, onOff(tn.CopyOuterDSCP), tn.BindInterface, tn.PolicyName)
	t.line("  Port: %d, Nego#: %d, Fail#: %d, Def-Del#: %d Flag: %s ",
		tn.Port, tn.Negotiations, tn.Failures, tn.Deletions, tunnelFlags(tn.Flags))
	t.line("  Multi-sa, Configured SAs# %d, Negotiated SAs#: %d ", tn.ConfiguredSAs, tn.NegotiatedSAs)
	writeMonitorCounters(t, tn)
	if len(tn.Events) > 0 {
		t.line("  Tunnel events:")
		for _, e := range tn.Events {
			t.line("    %s", eventLine(e))
		}
	}
	t.line("  Location: FPC %d, PIC %d", tn.FPC, tn.PIC)
	t.line("  Anchorship: Thread %d", tn.Thread)
	t.line("  Distribution-Profile: %s", tn.DistributionProfile)
	for i := range tn.SAs {
		sa := &tn.SAs[i]
		t.line("  Direction: %s, SPI: 0x%08x, AUX-SPI: %d", direction(sa.Inbound), sa.SPI, sa.AuxSPI)
		t.line("%s, VPN Monitoring: %s", strings.Repeat(" ", 30), monitor(tn))
		t.line("    Hard lifetime: %s", lifetimeDetail(sa, sa.HardLifetime))
		t.line("    Lifesize Remaining:  %s", lifesizeDetail(sa))
		t.line("    Soft lifetime: %s", lifetimeDetail(sa, sa.SoftLifetime))
		if s, c := softLifesize(sa), softConfigured(sa); c != "" {
			t.line("    Soft lifesize Remaining:  %s (lowered at the current rate from the configured %s)", s, c)
		} else if s != "" {
			t.line("    Soft lifesize Remaining:  %s", s)
		}
		t.line("    Mode: %s, Type: %s, State: %s", ikedMode(sa), saType(sa), ikedState(sa))
		t.line("    Protocol: %s, Authentication: %s, Encryption: %s",
			protocol(sa), orDefault(sa.Authentication, "None"), detailEncryption(sa))
		writeSAKeyExchanges(t, sa) // ipsecke.go
		if sa.ReplayWindow == 0 {
			t.line("    Anti-replay service: %s", ikedAntiReplay(sa))
		} else {
			t.line("    Anti-replay service: %s, Replay window size: %d", ikedAntiReplay(sa), sa.ReplayWindow)
		}
		t.line("    Extended-Sequence-Number: %s", onOff(sa.ESN))
		t.line("    tunnel-establishment: %s", sa.Establish)
		t.line("    IKE SA Index: %d", sa.IKESAIndex)
	}
}
