package show

// MonitorCounters is what VPN monitoring (vpn-monitor) counted for one
// tunnel. Junos prints no such line; ipsecgw adds it to the detail view
// under the SAs' "VPN Monitoring" state, in the same words.
type MonitorCounters struct {
	Sent, Replies uint64 // echo requests sent, replies received
	Misses        int    // consecutive unanswered intervals now
	Downs         uint64 // times the monitor declared the VPN down
}

// IPsecMonitorStatistics is the XML of MonitorCounters (ipsecgw's names).
type IPsecMonitorStatistics struct {
	Sent    uint64 `xml:"vpn-monitor-requests-sent"`
	Replies uint64 `xml:"vpn-monitor-replies-received"`
	Misses  int    `xml:"vpn-monitor-consecutive-failures"`
	Downs   uint64 `xml:"vpn-monitor-down-count"`
}

func writeMonitorCounters(t *text, tn *IPsecTunnel) {
	if c := tn.MonitorCounters; c != nil {
		t.line("  VPN Monitoring: %s, Requests sent: %d, Replies received: %d, Consecutive failures: %d, Down#: %d",
			monitor(tn), c.Sent, c.Replies, c.Misses, c.Downs)
	}
}

func monitorModel(tn *IPsecTunnel) *IPsecMonitorStatistics {
	if c := tn.MonitorCounters; c != nil {
		return &IPsecMonitorStatistics{Sent: c.Sent, Replies: c.Replies, Misses: c.Misses, Downs: c.Downs}
	}
	return nil
}
