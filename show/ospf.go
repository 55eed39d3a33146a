package show

import (
	"strings"

	"ipsecgw/frr"
)

// junosOSPFState is Junos's word for an adjacency state (2Way, ExStart).
func junosOSPFState(s string) string {
	switch s {
	case "2-Way":
		return "2Way"
	case "":
		return "Down"
	}
	return s
}

// OSPFNeighbors is `show ospf neighbor` (and `show ospf3 neighbor`): a
// row per neighbor, interfaces by their Junos names (ifname maps FRR's
// Linux name back; it returns the name itself when it knows none).
func OSPFNeighbors(ns []frr.OSPFNeighbor, ifname func(string) string) Reply {
	var t text
	m := &OSPFNeighborInformation{}
	t.line("Address          Interface              State     ID               Pri  Dead")
	for _, n := range ns {
		addr := n.Address
		if addr == "" {
			addr = n.RouterID
		}
		ifc := ifname(n.Ifname())
		state := junosOSPFState(n.StateWord())
		dead := seconds(n.Dead())
		t.line("%-16s %-22s %-9s %-16s %3d %5d", addr, ifc, state, n.RouterID, n.Priority, dead)
		m.Neighbors = append(m.Neighbors, OSPFNeighborInfo{Address: addr, Interface: ifc, State: state, ID: n.RouterID, Priority: n.Priority, Dead: dead})
	}
	return Reply{t.String(), m}
}

// junosOSPFIfState is Junos's word for an interface state.
func junosOSPFIfState(s string) string {
	switch s {
	case "Point-To-Point":
		return "PtToPt"
	case "Backup":
		return "BDR"
	case "DROther":
		return "DRother"
	case "Loopback":
		return "DR"
	case "":
		return "Down"
	}
	return s
}

// OSPFInterfaces is `show ospf interface`.
func OSPFInterfaces(ifs []frr.OSPFInterface, ifname func(string) string) Reply {
	var t text
	m := &OSPFInterfaceInformation{}
	t.line("Interface           State   Area            DR ID           BDR ID          Nbrs")
	for _, i := range ifs {
		name := ifname(i.Name)
		state := junosOSPFIfState(i.State)
		dr, bdr := orDefault(i.DRID, "0.0.0.0"), orDefault(i.BDRID, "0.0.0.0")
		if strings.EqualFold(i.NetworkType, "POINTOPOINT") {
			dr, bdr = "0.0.0.0", "0.0.0.0"
		}
		t.line("%-19s %-7s %-15s %-15s %-15s %4d", name, state, i.Area, dr, bdr, i.Neighbors)
		m.Interfaces = append(m.Interfaces, OSPFInterfaceInfo{Name: name, State: state, Area: i.Area, DR: dr, BDR: bdr, Neighbors: i.Neighbors})
	}
	return Reply{t.String(), m}
}

// OSPF3Neighbors is `show ospf3 neighbor`: OSPFv3 names neighbors by
// router ID (their addresses are link-local).
func OSPF3Neighbors(ns []frr.OSPFNeighbor, ifname func(string) string) Reply {
	var t text
	m := &OSPF3NeighborInformation{}
	t.line("ID               Interface              State     Pri   Dead")
	for _, n := range ns {
		ifc := ifname(n.Ifname())
		state := junosOSPFState(n.StateWord())
		dead := seconds(n.Dead())
		t.line("%-16s %-22s %-9s %3d %6d", n.RouterID, ifc, state, n.Priority, dead)
		m.Neighbors = append(m.Neighbors, OSPF3NeighborInfo{ID: n.RouterID, Interface: ifc, State: state, Priority: n.Priority, Dead: dead})
	}
	return Reply{t.String(), m}
}
