package dataplane

import (
	"net/netip"
	"sync/atomic"

	"ipsecgw/clock"
	"ipsecgw/esp"
	"ipsecgw/esp/replay"
)

// Selector is one traffic selector pair (RFC 4301 §4.4.1): packets from
// Local to Remote leave through the SA; decrypted packets must come from
// Remote to Local.
type Selector struct {
	Local, Remote netip.Prefix
}

// AnySelectors are the route-based VPN default: everything, both families
// (Junos proxy-identity 0.0.0.0/0 ↔ 0.0.0.0/0, and ::/0).
var AnySelectors = []Selector{
	{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("0.0.0.0/0")},
	{netip.MustParsePrefix("::/0"), netip.MustParsePrefix("::/0")},
}

func (s Selector) matchOut(src, dst netip.Addr) bool {
	return s.Local.Contains(src) && s.Remote.Contains(dst)
}

func (s Selector) matchIn(src, dst netip.Addr) bool {
	return s.Remote.Contains(src) && s.Local.Contains(dst)
}

// DFBit is what the outer IPv4 header's don't-fragment bit becomes
// (Junos df-bit).
type DFBit uint8

const (
	DFClear DFBit = iota
	DFSet
	DFCopy
)

// Encapsulation says how ESP travels: as IP protocol 50, or inside UDP
// (RFC 3948 NAT traversal on 4500, or the seed's packet-encapsulation on a
// configured port).
type Encapsulation struct {
	UDP     bool
	DstPort uint16
	// SrcPort is the fixed source port; with PerFlowSource the source port
	// is chosen per inner flow from 49152–65535 so ECMP routers spread
	// tunnels over paths.
	SrcPort       uint16
	PerFlowSource bool
}

// OutboundParams describe an outbound SA.
type OutboundParams struct {
	VPN       string // for show commands and logs
	ESP       esp.Config
	Local     netip.Addr // outer source
	Remote    netip.Addr // outer destination
	Encap     Encapsulation
	DF        DFBit
	TunnelMTU int // 0: no limit beyond the buffers
	Selectors []Selector
	Limit     ByteLimit
	// TCPMSS clamps the MSS of SYNs going into this SA (a service set's
	// tcp-mss); 0: only the engine's SetTCPMSS applies.
	TCPMSS int
}

// ByteLimit is an SA's lifetime in bytes (IPsec lifetime-kilobytes): OnSoft
// is called once when the SA has carried Soft bytes (time to rekey), OnHard
// once at Hard (time to go). Each runs on a goroutine of its own, never on
// the packet path. Zero limits are off.
type ByteLimit struct {
	Soft, Hard     uint64
	OnSoft, OnHard func()
	// Clock times the SA's rate, which lowers Soft to keep a few
	// seconds' traffic in hand (softbytes.go); nil: the system clock.
	Clock clock.Clock
}

// limitState remembers which limits have fired.
type limitState struct {
	soft, hard atomic.Bool
	rate       byteRate // the rate and the soft limit it makes (softbytes.go)
}

// check is called with the SA's byte count after each packet: one compare
// when no limit is near.
func (l *ByteLimit) check(st *limitState, n uint64) {
	if l.Soft != 0 && n >= st.rate.soft(l, n) && l.OnSoft != nil && !st.soft.Swap(true) {
		go l.OnSoft()
	}
	if l.Hard != 0 && n >= l.Hard && l.OnHard != nil && !st.hard.Swap(true) {
		go l.OnHard()
	}
}

// InboundParams describe an inbound SA.
type InboundParams struct {
	VPN           string
	ESP           esp.Config
	Local         netip.Addr
	Remote        netip.Addr
	Encap         Encapsulation // when UDP, packets must arrive in UDP to DstPort
	CopyOuterDSCP bool
	Selectors     []Selector
	Limit         ByteLimit
	TCPMSS        int // as OutboundParams.TCPMSS, for SYNs coming out of this SA
}

// OutboundSA is an installed outbound SA.
type OutboundSA struct {
	OutboundParams
	esp      *esp.Outbound
	tunnel   *Tunnel
	Counters Counters
	limit    limitState
	removed  atomic.Bool // uninstalled; the packet path skips it
	// outer4 is the outer IPv4 header's template (when Remote is IPv4).
	outer4 outerV4

	mark seqMark // the high-water mark kept in etcd (seqmark.go)
}

// SPI returns the SA's SPI.
func (sa *OutboundSA) SPI() uint32 { return sa.ESP.SPI }

// Sequence returns the last sequence number sent.
func (sa *OutboundSA) Sequence() uint64 { return sa.esp.Sequence() }

// InboundSA is an installed inbound SA.
type InboundSA struct {
	InboundParams
	esp      *esp.Inbound
	tunnel   *Tunnel
	Counters Counters
	limit    limitState
	// wildcard: which inner families the selectors let through whole
	// (inbound.go); set by InstallInbound.
	wildcard wildcard
}

// SPI returns the SA's SPI.
func (sa *InboundSA) SPI() uint32 { return sa.ESP.SPI }

// Sequence returns the highest sequence number accepted.
func (sa *InboundSA) Sequence() uint64 { return sa.esp.Sequence() }

// Tunnel returns the tunnel interface name the SA is bound to.
func (sa *InboundSA) Tunnel() string { return sa.tunnel.name }

// LastReplay returns the last packet refused as a replay: what its
// sequence number and the window's top were tell a duplicate from a late
// packet; false if none was.
func (sa *InboundSA) LastReplay() (replay.Refusal, bool) { return sa.esp.LastReplay() }

// ReplayRefusals counts the packets refused as replays by why.
func (sa *InboundSA) ReplayRefusals() replay.Refusals { return sa.esp.ReplayRefusals() }

// Tunnel returns the tunnel interface name the SA is bound to.
func (sa *OutboundSA) Tunnel() string { return sa.tunnel.name }
