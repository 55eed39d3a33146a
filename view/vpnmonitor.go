package view

import (
	"ipsecgw/daemon"
	"ipsecgw/show"
)

// monitorView fills the Mon column and the monitoring counters of a
// tunnel whose VPN has vpn-monitor.
func monitorView(tn *show.IPsecTunnel, st daemon.Status) {
	m, ok := st.Monitors[tn.VPNName]
	if !ok {
		return
	}
	tn.Monitor = m.State
	tn.MonitorCounters = &show.MonitorCounters{Sent: m.Sent, Replies: m.Replies, Misses: m.Misses, Downs: m.Downs}
}
