package show

import (
	"strings"
	"testing"
	"time"
)

// TestMonitorColumnAndCounters: a monitored tunnel shows its state in the
// brief table's Mon column and in each SA's detail, and its counters on a
// line of the detail (text and XML); an unmonitored one shows "-" and no
// counters line.
func TestMonitorColumnAndCounters(t *testing.T) {
	tn := seed004Tunnel(time.Hour)
	tn.Monitor = "D"
	tn.MonitorCounters = &MonitorCounters{Sent: 12, Replies: 9, Misses: 3, Downs: 1}
	v := IPsecView{ActiveTunnels: 1, IPsecSAs: 1, Tunnels: []IPsecTunnel{tn}}
	brief := IPsecSecurityAssociations(v, IPsecQuery{Style: StyleBrief}).Text()
	for _, l := range strings.Split(brief, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "<") || strings.HasPrefix(strings.TrimSpace(l), ">") {
			if !strings.Contains(l, " D root ") {
				t.Errorf("Mon column not D: %q", l)
			}
		}
	}
	detail := IPsecSecurityAssociations(v, IPsecQuery{Style: StyleDetail})
	want := "  VPN Monitoring: D, Requests sent: 12, Replies received: 9, Consecutive failures: 3, Down#: 1\n"
	if !strings.Contains(detail.Text(), want) || !strings.Contains(detail.Text(), ", VPN Monitoring: D\n") {
		t.Errorf("detail:\n%s", detail.Text())
	}
	if x := detail.XML(); !strings.Contains(x, "<vpn-monitor-consecutive-failures>3</vpn-monitor-consecutive-failures>") {
		t.Errorf("XML:\n%s", x)
	}
	plain := IPsecSecurityAssociations(seed004IPsec(time.Hour), IPsecQuery{Style: StyleDetail}).Text()
	if strings.Contains(plain, "Requests sent") || !strings.Contains(plain, "VPN Monitoring: -") {
		t.Errorf("unmonitored detail:\n%s", plain)
	}
}
