package show

import (
	"fmt"
	"strings"
	"time"

	"ipsecgw/frr"
)

// BGPSession is one configured BGP neighbor with its live state from FRR
// and what the configuration says of it (group, policies).
type BGPSession struct {
	frr.BGPNeighbor
	Group          string
	Import, Export []string
	// Tables are the families the session carries (inet.0, inet6.0) with
	// its prefix counts in each.
	Tables []BGPSessionTable
}

// BGPSessionTable is a session's prefixes in one table.
type BGPSessionTable struct {
	Name                         string // inet.0, inet6.0
	Active, Accepted, Advertised int
}

// BGPTable is one table's BGP paths, for the summary's header.
type BGPTable struct {
	Name          string
	Total, Active int
}

// junosState is the Junos word of a BGP state.
func junosState(s string) string {
	if s == "" {
		return "Idle"
	}
	return s
}

// elapsed is Junos's "Last Up/Dwn": seconds, m:ss, h:mm:ss, then days and
// weeks ("2d 3:04:05", "1w2d 3:04:05").
func elapsed(d time.Duration) string {
	s := int64(d / time.Second)
	if s < 0 {
		s = 0
	}
	switch {
	case s < 60:
		return fmt.Sprint(s)
	case s < 3600:
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	days, rest := s/86400, s%86400
	clock := fmt.Sprintf("%d:%02d:%02d", rest/3600, rest/60%60, rest%60)
	if days >= 7 {
		return fmt.Sprintf("%dw%dd %s", days/7, days%7, clock)
	}
	return fmt.Sprintf("%dd %s", days, clock)
}

// padTo returns s followed by spaces up to width, and at least one.
func padTo(s string, width int) string {
	return s + strings.Repeat(" ", max(width-len(s), 1))
}

// BGPSummary is `show bgp summary`: the tables' path counts, then a row
// per peer, Established peers followed by their tables'
// active/received/accepted/damped counts.
func BGPSummary(sessions []BGPSession, groups int, tables []BGPTable) Reply {
	var t text
	m := &BGPInformation{GroupCount: groups, PeerCount: len(sessions)}
	for _, s := range sessions {
		if s.State != "Established" {
			m.DownPeerCount++
		}
	}
	t.line("Threading mode: BGP I/O")
	t.line("Groups: %d Peers: %d Down peers: %d", groups, len(sessions), m.DownPeerCount)
	t.line("Table          Tot Paths  Act Paths Suppressed    History Damp State    Pending")
	for _, tb := range tables {
		t.line("%s", tb.Name)
		t.line("%24d %10d %10d %10d %10d %10d", tb.Total, tb.Active, 0, 0, 0, 0)
		m.RIBs = append(m.RIBs, BGPRIB{Name: tb.Name, Total: tb.Total, Active: tb.Active})
	}
	t.line("Peer                     AS      InPkt     OutPkt    OutQ   Flaps Last Up/Dwn State|#Active/Received/Accepted/Damped...")
	for _, s := range sessions {
		state := junosState(s.State)
		col := state
		if state == "Established" {
			col = "Establ"
		}
		asCol := fmt.Sprint(s.RemoteAS)
		t.line("%s%s %10d %10d %7d %7d %11s %s", padTo(s.Address, 27-len(asCol)), asCol,
			s.Messages.TotalRecv, s.Messages.TotalSent, s.Messages.OutQ, s.Dropped, elapsed(s.Up()), col)
		p := BGPPeer{PeerAddress: s.Address, PeerAS: s.RemoteAS, Description: s.Description, PeerState: state,
			FlapCount: s.Dropped, InputMessages: s.Messages.TotalRecv, OutputMessages: s.Messages.TotalSent,
			RouteQueue: s.Messages.OutQ, ElapsedTime: elapsed(s.Up())}
		if state == "Established" {
			for _, tb := range s.Tables {
				t.line("  %s: %d/%d/%d/0", tb.Name, tb.Active, tb.Accepted, tb.Accepted)
				p.RIBs = append(p.RIBs, BGPRIB{Name: tb.Name, Active: tb.Active, Received: tb.Accepted, Accepted: tb.Accepted})
			}
		}
		m.Peers = append(m.Peers, p)
	}
	return Reply{t.String(), m}
}

// BGPNeighbors is `show bgp neighbor [ADDRESS]`: a block per peer.
func BGPNeighbors(sessions []BGPSession, address string) Reply {
	var t text
	m := &BGPInformation{}
	n := 0
	for _, s := range sessions {
		if address != "" && s.Address != address {
			continue
		}
		if n > 0 {
			t.line("")
		}
		n++
		writeBGPNeighbor(&t, &s)
		m.Peers = append(m.Peers, bgpNeighborModel(&s))
	}
	if n == 0 && address != "" {
		return errorReply("BGP neighbor " + address + " is not configured")
	}
	return Reply{t.String(), m}
}

func hostPort(addr string, port int) string {
	if port == 0 {
		return addr
	}
	return fmt.Sprintf("%s+%d", addr, port)
}

func writeBGPNeighbor(t *text, s *BGPSession) {
	state := junosState(s.State)
	local := s.LocalHost
	if local == "" {
		local = "unspecified"
	}
	t.line("Peer: %s AS %d Local: %s AS %d", hostPort(s.Address, s.ForeignPort), s.RemoteAS, hostPort(local, s.LocalPort), s.LocalAS)
	if s.Description != "" {
		t.line("  Description: %s", s.Description)
	}
	t.line("  Group: %-20s Routing-Instance: master", s.Group)
	typ := "Internal"
	if s.External {
		typ = "External"
	}
	t.line("  Type: %s    State: %s", typ, state)
	lastErr := "None"
	if s.LastReset != "" && s.Dropped > 0 {
		lastErr = s.LastReset
	}
	t.line("  Last Error: %s", lastErr)
	if len(s.Export) > 0 {
		t.line("  Export: [ %s ]", strings.Join(s.Export, " "))
	}
	if len(s.Import) > 0 {
		t.line("  Import: [ %s ]", strings.Join(s.Import, " "))
	}
	t.line("  Holdtime: %d Preference: 170", s.ConfHoldMsec/1000)
	t.line("  Number of flaps: %d", s.Dropped)
	if state == "Established" {
		t.line("  Peer ID: %-15s Local ID: %-15s Active Holdtime: %d", s.RemoteID, s.LocalID, s.HoldMsec/1000)
		t.line("  Keepalive Interval: %d", s.KeepaliveMsec/1000)
		for _, tb := range s.Tables {
			t.line("  Table %s", tb.Name)
			t.line("    Active prefixes:              %d", tb.Active)
			t.line("    Received prefixes:            %d", tb.Accepted)
			t.line("    Accepted prefixes:            %d", tb.Accepted)
			t.line("    Suppressed due to damping:    0")
			t.line("    Advertised prefixes:          %d", tb.Advertised)
		}
		t.line("  Last traffic (seconds): Received %-4d Sent %d", s.LastReadMsec/1000, s.LastWriteMsec/1000)
	}
	t.line("  Input messages:  Total %-8d Updates %-8d Refreshes %d", s.Messages.TotalRecv, s.Messages.UpdatesRecv, s.Messages.RefreshRecv)
	t.line("  Output messages: Total %-8d Updates %-8d Refreshes %d", s.Messages.TotalSent, s.Messages.UpdatesSent, s.Messages.RefreshSent)
	t.line("  Output Queue[0]: %d", s.Messages.OutQ)
}

func bgpNeighborModel(s *BGPSession) BGPPeer {
	typ := "Internal"
	if s.External {
		typ = "External"
	}
	p := BGPPeer{PeerAddress: hostPort(s.Address, s.ForeignPort), PeerAS: s.RemoteAS, LocalAddress: hostPort(s.LocalHost, s.LocalPort),
		LocalAS: s.LocalAS, Description: s.Description, Group: s.Group, PeerType: typ, PeerState: junosState(s.State),
		ExportPolicy: strings.Join(s.Export, " "), ImportPolicy: strings.Join(s.Import, " "), HoldTime: s.ConfHoldMsec / 1000,
		FlapCount: s.Dropped, PeerID: s.RemoteID, LocalID: s.LocalID, ActiveHoldTime: s.HoldMsec / 1000, Keepalive: s.KeepaliveMsec / 1000,
		InputMessages: s.Messages.TotalRecv, OutputMessages: s.Messages.TotalSent, InputUpdates: s.Messages.UpdatesRecv,
		OutputUpdates: s.Messages.UpdatesSent, RouteQueue: s.Messages.OutQ, ElapsedTime: elapsed(s.Up())}
	if s.Dropped > 0 {
		p.LastError = s.LastReset
	}
	for _, tb := range s.Tables {
		p.RIBs = append(p.RIBs, BGPRIB{Name: tb.Name, Active: tb.Active, Received: tb.Accepted, Accepted: tb.Accepted, Advertised: tb.Advertised})
	}
	return p
}
