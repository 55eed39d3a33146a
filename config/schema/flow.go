package schema

import (
	"net/netip"
	"time"

	"ipsecgw/config"
)

// Junos defaults of the statements below.
const (
	defaultTCPMSSIPsecVPN   = 1320 // "tcp-mss ipsec-vpn" written without mss
	defaultMonitorInterval  = 10 * time.Second
	defaultMonitorThreshold = 10
)

// Flow is [security flow]: what the data plane does to packets entering
// and leaving the tunnels.
type Flow struct {
	// TCPMSS is tcp-mss ipsec-vpn mss: the largest MSS a TCP SYN going into
	// or coming out of a tunnel may carry (0: no clamping).
	TCPMSS int
}

// VPNMonitor is vpn NAME vpn-monitor with [security ipsec
// vpn-monitor-options]: ICMP echoes through the tunnel that decide whether
// the VPN is up.
type VPNMonitor struct {
	Optimized bool // probe only when no traffic comes back
	// Source is the unit whose address the echoes come from (source-interface,
	// else the VPN's bind-interface); DestinationIP defaults to the peer's
	// address.
	Source        *Unit
	DestinationIP netip.Addr
	Interval      time.Duration
	Threshold     int
}

func (b *builder) securityFlow(s *config.Stmt) {
	if iv := child(child(s, "tcp-mss"), "ipsec-vpn"); iv != nil {
		b.cfg.Flow.TCPMSS = num(iv, "mss", defaultTCPMSSIPsecVPN)
	}
}

// vpnMonitor builds the monitor of VPN v from its statement vs; nil when
// vpn-monitor is not configured.
func (b *builder) vpnMonitor(vs *config.Stmt, v *VPN) *VPNMonitor {
	ms := child(vs, "vpn-monitor")
	if ms == nil {
		return nil
	}
	if v.BindInterface == nil {
		// The echoes go out of the tunnel interface.
		b.cfg.Notices = append(b.cfg.Notices, Notice{Path: ms.PathString(),
			Msg: "accepted, not applied: ipsecgw monitors route-based VPNs only (bind-interface st0.N)"})
		return nil
	}
	m := &VPNMonitor{
		Optimized:     has(ms, "optimized"),
		DestinationIP: addr(ms, "destination-ip"),
		Interval:      defaultMonitorInterval,
		Threshold:     defaultMonitorThreshold,
		Source:        v.BindInterface,
	}
	if opts := child(vs.Parent(), "vpn-monitor-options"); opts != nil {
		m.Interval = seconds(opts, "interval", defaultMonitorInterval)
		m.Threshold = num(opts, "threshold", defaultMonitorThreshold)
	}
	if ss := child(ms, "source-interface"); ss != nil {
		m.Source = b.unitRef(ss)
	}
	return m
}
