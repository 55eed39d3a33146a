package show

import (
	"encoding/xml"
	"net/netip"
	"strconv"
	"time"
)

// InactiveTunnel is a configured tunnel without SAs, as `show security ipsec
// inactive-tunnels` lists it.
type InactiveTunnel struct {
	ID                   uint32     // tunnel index
	Port                 uint16     // remote IKE port
	Gateway              netip.Addr // remote gateway
	PendingSAs           int        // SAs waiting to be negotiated
	EstablishImmediately bool       // configured establish-tunnels immediately
	Reason               string     // why it is down: the last failure, Junos wording; "" when none yet
	ReasonCount          int        // how many times that happened in a row; 0 omits the count
	ReasonTime           time.Time  // when it last happened; zero when unknown
}

// IPsecInactiveTunnels is `show security ipsec inactive-tunnels`.
func IPsecInactiveTunnels(tunnels []InactiveTunnel) Reply {
	m := &IPsecUnestablishedTunnelInformation{TotalInactiveTunnels: len(tunnels)}
	for _, tn := range tunnels {
		if tn.EstablishImmediately {
			m.TotalEstablishImmediately++
		}
	}
	var t text
	t.line("  Total inactive tunnels: %d", m.TotalInactiveTunnels)
	t.line("  Total inactive tunnels with establish immediately: %d", m.TotalEstablishImmediately)
	if len(tunnels) > 0 {
		t.line("  ID           Port   Gateway          Pending SAs   Tunnel Down Reason")
	}
	for _, tn := range tunnels {
		reason := tn.Reason
		if tn.ReasonCount > 0 {
			reason += " (" + strconv.Itoa(tn.ReasonCount) + " times)"
		}
		t.line("  %-13d%-7d%-17s%-14d%s", tn.ID, tn.Port, tn.Gateway, tn.PendingSAs, reason)
		e := InactiveTunnelEntry{
			TunnelIndex: tn.ID, RemoteGateway: tn.Gateway.String(), Port: tn.Port,
			PendingSAs: tn.PendingSAs, Event: tn.Reason, EventNumTimes: tn.ReasonCount,
		}
		if !tn.ReasonTime.IsZero() {
			e.EventTime = eventTime(tn.ReasonTime)
		}
		m.Blocks = append(m.Blocks, InactiveTunnelBlock{SA: e})
	}
	return Reply{t.String(), m}
}

// IPsecUnestablishedTunnelInformation is the reply of `show security ipsec
// inactive-tunnels` (RPC get-inactive-tunnels); names from a NETCONF client
// of that RPC, except sa-pending-sas (guessed).
type IPsecUnestablishedTunnelInformation struct {
	XMLName                   xml.Name              `xml:"ipsec-unestablished-tunnel-information"`
	TotalInactiveTunnels      int                   `xml:"total-inactive-tunnels"`
	TotalEstablishImmediately int                   `xml:"total-inactive-tunnels-with-establish-immediately"`
	Blocks                    []InactiveTunnelBlock `xml:"ipsec-security-associations-block"`
}

// InactiveTunnelBlock is one inactive tunnel.
type InactiveTunnelBlock struct {
	SA InactiveTunnelEntry `xml:"ipsec-security-associations"`
}

// InactiveTunnelEntry is the row of one inactive tunnel; the down reason is
// the tunnel's last event.
type InactiveTunnelEntry struct {
	TunnelIndex   uint32 `xml:"sa-tunnel-index"`
	RemoteGateway string `xml:"sa-remote-gateway"`
	Port          uint16 `xml:"sa-port"`
	PendingSAs    int    `xml:"sa-pending-sas"` // name guessed
	EventTime     string `xml:"sa-tunnel-event-time,omitempty"`
	Event         string `xml:"sa-tunnel-event,omitempty"`
	EventNumTimes int    `xml:"sa-tunnel-event-num-times,omitempty"`
}
