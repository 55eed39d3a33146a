package show

import (
	"encoding/xml"
	"time"
)

// DataPlane is what `show security ipsec statistics detail` adds to the
// Junos counters: how raw ESP enters and leaves the host (ipsecgw's
// security ipsec data-plane) and every other reason the engine dropped a
// packet.
type DataPlane struct {
	Mode     string // "xdp", "packet-ring" or "socket"
	Detail   string // where the XDP program or the rings run
	Fallback string // why the mode asked for (Wanted) is not running
	// Wanted is the faster mode asked for that is not running ("" is
	// xdp).
	Wanted string
	// Committed is a data-plane statement committed since the start,
	// which takes effect at the next start ("" when none).
	Committed string
	// Rings: AF_XDP or AF_PACKET counters, when Mode is xdp or
	// packet-ring; RingsMalformed for packet-ring only.
	RingsReceived, RingsSent, SentByKernel uint64
	RingsMalformed                         uint64
	// Transmit: the AF_XDP transmit kicks and their waits, when Mode is
	// xdp.
	Transmit XDPTransmit
	Drops    []Drop
}

// XDPTransmit is how the AF_XDP transmit waited for the kernel to take
// its rings: Kicks asked it to (in SendtoCalls calls), Waits of them
// paused for a full peer queue, WaitNs in all, in Pauses pauses; GaveUp
// stopped waiting with LeftInRing frames still queued, which leave late,
// with the next transmit (not a drop).
type XDPTransmit struct {
	Kicks       uint64 `xml:"kicks"`
	SendtoCalls uint64 `xml:"sendto-calls"`
	Waits       uint64 `xml:"waits"`
	WaitNs      uint64 `xml:"wait-ns"`
	Pauses      uint64 `xml:"pauses"`
	GaveUp      uint64 `xml:"gave-up"`
	LeftInRing  uint64 `xml:"left-in-ring"`
}

// Drop is one drop counter, named as the status file names it.
type Drop struct {
	Reason string `xml:"reason"`
	Count  uint64 `xml:"count"`
}

// IPsecStatisticsDetail is `show security ipsec statistics [index N]
// detail`: the counter block, then the data plane.
func IPsecStatisticsDetail(s Statistics, dp DataPlane) Reply {
	var t text
	writeStatistics(&t, &s)
	mode := dp.Mode
	if dp.Detail != "" {
		mode += " (" + dp.Detail + ")"
	}
	t.line("Data plane: %s", mode)
	if dp.Fallback != "" {
		wanted := dp.Wanted
		if wanted == "" {
			wanted = "xdp"
		}
		t.line("  Not on %s: %s", wanted, dp.Fallback)
	}
	if dp.Committed != "" {
		t.line("  Committed: data-plane %s, from the next start", dp.Committed)
	}
	switch dp.Mode {
	case "xdp":
		t.line("  AF_XDP rings: received %d, sent %d, sent by the kernel %d", dp.RingsReceived, dp.RingsSent, dp.SentByKernel)
		tx := dp.Transmit
		t.line("  AF_XDP transmit: kicks %d, sendto calls %d, waits for a full peer queue %d (%v in all, %d pauses)",
			tx.Kicks, tx.SendtoCalls, tx.Waits, time.Duration(tx.WaitNs).Round(time.Microsecond), tx.Pauses)
		t.line("  AF_XDP transmit gave up waiting: %d times, %d frames left in the ring (sent late, not lost)", tx.GaveUp, tx.LeftInRing)
	case "packet-ring":
		t.line("  AF_PACKET rings: received %d, sent %d, sent by the kernel %d, malformed %d", dp.RingsReceived, dp.RingsSent, dp.SentByKernel, dp.RingsMalformed)
	}
	t.line("Drops:")
	for _, d := range dp.Drops {
		t.counter("  ", d.Reason+":", d.Count, 35)
	}
	m := &IPsecStatisticsDetailInformation{IPsecStatisticsBody: statisticsModel(&s), DataPlane: DataPlaneModel{
		Mode: dp.Mode, Detail: dp.Detail, Fallback: dp.Fallback, Committed: dp.Committed, Drops: dp.Drops}}
	switch dp.Mode {
	case "xdp":
		m.DataPlane.Rings = &RingsModel{Received: dp.RingsReceived, Sent: dp.RingsSent, SentByKernel: dp.SentByKernel}
		m.DataPlane.Transmit = &dp.Transmit
	case "packet-ring":
		m.DataPlane.PacketRings = &PacketRingsModel{RingsModel: RingsModel{Received: dp.RingsReceived, Sent: dp.RingsSent,
			SentByKernel: dp.SentByKernel}, Malformed: dp.RingsMalformed}
	}
	return Reply{t.String(), m}
}

// IPsecStatisticsDetailInformation is the structured form: the Junos
// counters, then ipsecgw's own element.
type IPsecStatisticsDetailInformation struct {
	XMLName xml.Name `xml:"usp-ipsec-total-statistics-information"`
	IPsecStatisticsBody
	DataPlane DataPlaneModel `xml:"ipsecgw-data-plane"`
}

// DataPlaneModel is the ipsecgw-data-plane element.
type DataPlaneModel struct {
	Mode      string      `xml:"mode"`
	Detail    string      `xml:"detail,omitempty"`
	Fallback  string      `xml:"fallback,omitempty"`
	Committed string      `xml:"committed,omitempty"`
	Rings     *RingsModel `xml:"af-xdp-rings,omitempty"`
	// Transmit: the AF_XDP transmit's waits (xdp).
	Transmit *XDPTransmit `xml:"af-xdp-transmit,omitempty"`
	Drops    []Drop       `xml:"drop"`
	// PacketRings: the AF_PACKET ring counters (packet-ring).
	PacketRings *PacketRingsModel `xml:"af-packet-rings,omitempty"`
}

// RingsModel is the AF_XDP ring counters.
type RingsModel struct {
	Received     uint64 `xml:"received"`
	Sent         uint64 `xml:"sent"`
	SentByKernel uint64 `xml:"sent-by-kernel"`
}

// PacketRingsModel is the AF_PACKET ring counters.
type PacketRingsModel struct {
	RingsModel
	Malformed uint64 `xml:"malformed"`
}
