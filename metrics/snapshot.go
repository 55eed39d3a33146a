package metrics

import (
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Snapshot is what the data plane and the IKE daemon count, as they count
// it, at the moment of a scrape. Counters are totals since start (or since
// the SA was installed, for an SA's); the collector exports them as they
// are.
type Snapshot struct {
	ESP    ESP
	SAs    []SA           // every installed IPsec SA, both directions
	IKESAs map[string]int // IKE SAs by state: "up", "negotiating", "down", ...
	// IKEDrops is the IKE messages dropped, by reason: malformed, no-sa,
	// unauthenticated.
	IKEDrops map[string]uint64
	// IKEAbandoned is the IKE initiations given up because the peer's IKE
	// SA with this gateway came up first (IKEv2).
	IKEAbandoned uint64
}

// ESP is the gateway's ESP totals: what `show security ipsec statistics`
// prints, and the drops by reason.
type ESP struct {
	EncryptedPackets, EncryptedBytes uint64 // sealed and sent (outbound)
	DecryptedPackets, DecryptedBytes uint64 // received and opened (inbound)
	// Drops counts packets dropped, by reason ("replay", "auth-failed",
	// "bad-header", "no-sa", ...); the keys are the data plane's own.
	Drops map[string]uint64
	// TCPMSSClamped counts the TCP SYNs whose MSS option was lowered on the
	// way into or out of a tunnel (tcp-mss ipsec-vpn).
	TCPMSSClamped uint64
}

// SA is the counters of one IPsec SA.
type SA struct {
	VPN       string // [security ipsec vpn NAME]
	Tunnel    string // tunnel index or bind interface, as the operator reads it in show output
	Direction string // "inbound" or "outbound"
	SPI       string // as show prints it ("0x8d92e737")
	Packets   uint64
	Bytes     uint64
	Drops     uint64 // packets of this SA dropped (replay, ICV, ...)
}

var (
	saLabels = []string{"vpn", "tunnel", "direction", "spi"}

	espPacketsDesc = prometheus.NewDesc("ipsecgw_esp_packets_total",
		"ESP packets processed by the gateway, by direction: outbound packets encrypted and sent, inbound packets received and decrypted.",
		[]string{"direction"}, nil)
	espBytesDesc = prometheus.NewDesc("ipsecgw_esp_bytes_total",
		"ESP payload bytes processed by the gateway, by direction: outbound bytes encrypted, inbound bytes decrypted.",
		[]string{"direction"}, nil)
	espDropsDesc = prometheus.NewDesc("ipsecgw_esp_drops_total",
		"ESP packets the data plane dropped, by reason.",
		[]string{"reason"}, nil)
	tcpMSSDesc = prometheus.NewDesc("ipsecgw_tcp_mss_clamped_total",
		"TCP SYN and SYN-ACK packets whose MSS option the data plane lowered to the configured tcp-mss ipsec-vpn.",
		nil, nil)
	saPacketsDesc = prometheus.NewDesc("ipsecgw_sa_packets_total",
		"Packets carried by one installed IPsec SA since it was installed.",
		saLabels, nil)
	saBytesDesc = prometheus.NewDesc("ipsecgw_sa_bytes_total",
		"Payload bytes carried by one installed IPsec SA since it was installed.",
		saLabels, nil)
	saDropsDesc = prometheus.NewDesc("ipsecgw_sa_drops_total",
		"Packets of one installed IPsec SA dropped (anti-replay, integrity check) since it was installed.",
		saLabels, nil)
	ikeSAsDesc = prometheus.NewDesc("ipsecgw_ike_sas",
		"IKE SAs that exist now, by state.",
		[]string{"state"}, nil)
	ikeDropsDesc = prometheus.NewDesc("ipsecgw_ike_dropped_total",
		"IKE messages dropped, by reason: malformed (they do not parse), no-sa (for no SA of ours), unauthenticated (they do not decrypt or verify).",
		[]string{"reason"}, nil)
	ikeAbandonedDesc = prometheus.NewDesc("ipsecgw_ike_abandoned_initiations_total",
		"IKE initiations given up, unanswered, because the peer's IKE SA with the same gateway came up first; its VPNs come up on that IKE SA instead.",
		nil, nil)
)

// snapshotCollector exports a Snapshot taken at scrape time as constant
// metrics; it keeps nothing between scrapes.
type snapshotCollector struct {
	snapshot func() Snapshot // nil: nothing to export
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{espPacketsDesc, espBytesDesc, espDropsDesc, tcpMSSDesc, saPacketsDesc, saBytesDesc, saDropsDesc, ikeSAsDesc, ikeDropsDesc, ikeAbandonedDesc} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	if c.snapshot == nil {
		return
	}
	s := c.snapshot()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(espPacketsDesc, s.ESP.EncryptedPackets, "outbound")
	counter(espPacketsDesc, s.ESP.DecryptedPackets, "inbound")
	counter(espBytesDesc, s.ESP.EncryptedBytes, "outbound")
	counter(espBytesDesc, s.ESP.DecryptedBytes, "inbound")
	counter(tcpMSSDesc, s.ESP.TCPMSSClamped)
	for _, reason := range slices.Sorted(maps.Keys(s.ESP.Drops)) {
		counter(espDropsDesc, s.ESP.Drops[reason], reason)
	}
	for _, sa := range mergeSAs(s.SAs) {
		labels := []string{sa.VPN, sa.Tunnel, sa.Direction, sa.SPI}
		counter(saPacketsDesc, sa.Packets, labels...)
		counter(saBytesDesc, sa.Bytes, labels...)
		counter(saDropsDesc, sa.Drops, labels...)
	}
	for _, state := range slices.Sorted(maps.Keys(s.IKESAs)) {
		ch <- prometheus.MustNewConstMetric(ikeSAsDesc, prometheus.GaugeValue, float64(s.IKESAs[state]), state)
	}
	for _, reason := range slices.Sorted(maps.Keys(s.IKEDrops)) {
		counter(ikeDropsDesc, s.IKEDrops[reason], reason)
	}
	counter(ikeAbandonedDesc, s.IKEAbandoned)
}

// mergeSAs sums SAs that carry the same labels. A scrape may not hold two
// series with one label set (the registry rejects the metric), and during a
// rekey the data plane can report an SA twice, old and new entry, for a
// moment.
func mergeSAs(sas []SA) []SA {
	type key struct{ vpn, tunnel, direction, spi string }
	at := make(map[key]int, len(sas))
	out := make([]SA, 0, len(sas))
	for _, sa := range sas {
		k := key{sa.VPN, sa.Tunnel, sa.Direction, sa.SPI}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, sa)
			continue
		}
		out[i].Packets += sa.Packets
		out[i].Bytes += sa.Bytes
		out[i].Drops += sa.Drops
	}
	return out
}
