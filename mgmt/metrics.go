package mgmt

import (
	"encoding/json"
	"strings"

	"ipsecgw/daemon"
	"ipsecgw/dataplane"
	"ipsecgw/metrics"
)

// Metrics exposes d's counters and events to Prometheus: the counters are
// read from the daemon at each scrape, the events counted as they happen.
func Metrics(d *daemon.Daemon) *metrics.Metrics {
	m := metrics.New(func() metrics.Snapshot { return snapshot(d.Status()) })
	m.AddRouting(func() metrics.Routing { return routingMetrics(d) })
	ev := m.Events()
	clusterMetrics(m, d)
	d.Events().OnEvent(func(e daemon.Event) {
		switch e.Kind {
		case "ike-sa-up":
			ev.Negotiated()
		case "negotiation-failed":
			ev.Failed(e.Cause)
			if e.CertCause != "" {
				ev.CertificateFailed(metrics.CertificateCause(e.CertCause))
			}
		case "ike-sa-rekeyed":
			ev.Rekeyed("ike")
		case "ipsec-sa-rekeyed":
			ev.Rekeyed("child")
		case "peer-dead":
			ev.DPD("dead")
		}
	})
	return m
}

func snapshot(st daemon.Status) metrics.Snapshot {
	g := st.Global
	s := metrics.Snapshot{
		ESP: metrics.ESP{EncryptedPackets: g.EncryptedPackets, EncryptedBytes: g.EncryptedBytes,
			DecryptedPackets: g.DecryptedPackets, DecryptedBytes: g.DecryptedBytes, Drops: drops(g),
			TCPMSSClamped: g.TCPMSSClamped},
		IKESAs:       map[string]int{},
		IKEDrops:     st.IKEDrops,
		IKEAbandoned: st.IKEAbandoned,
	}
	for _, sa := range st.SAs {
		c := sa.Counters
		m := metrics.SA{VPN: sa.VPN, Tunnel: sa.Tunnel, Direction: sa.Direction, SPI: sa.SPI}
		if sa.Direction == "inbound" {
			m.Packets, m.Bytes = c.DecryptedPackets, c.DecryptedBytes
		} else {
			m.Packets, m.Bytes = c.EncryptedPackets, c.EncryptedBytes
		}
		for _, n := range drops(c) {
			m.Drops += n
		}
		s.SAs = append(s.SAs, m)
	}
	for _, ike := range st.IKE {
		s.IKESAs[strings.ToLower(ike.State)]++
	}
	return s
}

// drops is every drop counter of a Stats by its name (the JSON names the
// status file uses), leaving out the ones that count traffic or events
// that are not drops.
func drops(c dataplane.Stats) map[string]uint64 {
	b, _ := json.Marshal(c)
	var all map[string]uint64
	json.Unmarshal(b, &all)
	for _, notDrop := range []string{"encrypted-bytes", "encrypted-packets", "decrypted-bytes", "decrypted-packets",
		"fragmented", "nat-keepalives", "dummy-packets", "tcp-mss-clamped"} {
		delete(all, notDrop)
	}
	return all
}
