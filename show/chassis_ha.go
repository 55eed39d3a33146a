package show

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// HANode is one node of a cluster as `show chassis high-availability
// information` lists it.
type HANode struct {
	ID      int
	Address string // configured or announced; "" when unknown
	Alive   bool   // a member in etcd now (its lease is alive)
	Local   bool   // the node answering
	SRGs    []int  // services redundancy groups it owns
}

// HASRG is one services redundancy group.
type HASRG struct {
	ID         int
	Owner      int // 0: no owner now
	Token      int64
	Preemption bool
	Priority   map[int]int // node → activeness-priority
	VirtualIPs []string    // "198.51.100.10/24 on eth1"
}

// ChassisHighAvailability is `show chassis high-availability information`
// (Junos MNHA's layout, extended to any number of nodes): the local node,
// every other node and its health, and each group with its owner.
func ChassisHighAvailability(nodes []HANode, srgs []HASRG) Reply {
	m := &ChassisHighAvailabilityInformation{}
	var t text
	for _, n := range nodes {
		if n.Local {
			m.LocalID, m.LocalIP, m.NodeStatus = n.ID, n.Address, status(n.Alive, "ONLINE", "ISOLATED")
			t.line("Node Status: %s", m.NodeStatus)
			t.line("Local-id: %d", n.ID)
			t.line("Local-IP: %s", orDash(n.Address))
			t.line("Active SRGs: %s", ints(n.SRGs))
		}
	}
	t.line("HA Peer Information:")
	for _, n := range nodes {
		if n.Local {
			continue
		}
		p := HAPeer{ID: n.ID, Address: n.Address, ConnState: status(n.Alive, "UP", "DOWN"),
			Health: status(n.Alive, "HEALTHY", "UNREACHABLE"), ActiveSRGs: ints(n.SRGs)}
		m.Peers = append(m.Peers, p)
		t.line("    Peer Id: %-5d IP address: %-16s Conn State: %-5s Health Status: %s", p.ID, orDash(p.Address), p.ConnState, p.Health)
		t.line("        Active SRGs: %s", p.ActiveSRGs)
	}
	local := 0
	for _, n := range nodes {
		if n.Local {
			local = n.ID
		}
	}
	for _, g := range srgs {
		x := HASRGInfo{ID: g.ID, Owner: g.Owner, FencingToken: g.Token,
			Preemption: status(g.Preemption, "ENABLED", "DISABLED"), VirtualIPs: g.VirtualIPs,
			ActivenessPriority: g.Priority[local]}
		switch {
		case g.Owner == 0:
			x.Status = "INELIGIBLE"
		case g.Owner == local:
			x.Status = "ACTIVE"
		default:
			x.Status = "BACKUP"
		}
		m.SRGs = append(m.SRGs, x)
		t.line("Services Redundancy Group: %d", g.ID)
		t.line("        Status: %s", x.Status)
		if g.Owner != 0 {
			t.line("        Active Node: %d", g.Owner)
			t.line("        Fencing Token: %d", g.Token)
		} else {
			t.line("        Active Node: none")
		}
		t.line("        Activeness Priority: %d", x.ActivenessPriority)
		t.line("        Preemption: %s", x.Preemption)
		for _, v := range g.VirtualIPs {
			t.line("        Virtual IP: %s", v)
		}
	}
	return Reply{t.String(), m}
}

func status(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ints(v []int) string {
	if len(v) == 0 {
		return "none"
	}
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, " ")
}

// ChassisHighAvailabilityInformation is the reply of `show chassis
// high-availability information`.
type ChassisHighAvailabilityInformation struct {
	XMLName    xml.Name    `xml:"chassis-high-availability-information"`
	NodeStatus string      `xml:"node-status"`
	LocalID    int         `xml:"local-id"`
	LocalIP    string      `xml:"local-ip,omitempty"`
	Peers      []HAPeer    `xml:"peer-information"`
	SRGs       []HASRGInfo `xml:"services-redundancy-group"`
}

// HAPeer is one other node.
type HAPeer struct {
	ID         int    `xml:"peer-id"`
	Address    string `xml:"peer-ip-address,omitempty"`
	ConnState  string `xml:"peer-conn-state"`
	Health     string `xml:"peer-health-status"`
	ActiveSRGs string `xml:"peer-active-srgs"`
}

// HASRGInfo is one group.
type HASRGInfo struct {
	ID                 int      `xml:"srg-id"`
	Status             string   `xml:"srg-status"`
	Owner              int      `xml:"active-node-id"`
	FencingToken       int64    `xml:"fencing-token"`
	ActivenessPriority int      `xml:"activeness-priority"`
	Preemption         string   `xml:"preemption"`
	VirtualIPs         []string `xml:"virtual-ip"`
}
