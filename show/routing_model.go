package show

import "encoding/xml"

// The structured forms of the routing show commands (RPCs
// get-bgp-summary-information, get-bgp-neighbor-information,
// get-ospf-neighbor-information, get-ospf-interface-information,
// get-route-information), element names as Junos's.

// BGPInformation is `show bgp summary` and `show bgp neighbor`.
type BGPInformation struct {
	XMLName       xml.Name  `xml:"bgp-information"`
	GroupCount    int       `xml:"group-count,omitempty"`
	PeerCount     int       `xml:"peer-count,omitempty"`
	DownPeerCount int       `xml:"down-peer-count,omitempty"`
	RIBs          []BGPRIB  `xml:"bgp-rib"`
	Peers         []BGPPeer `xml:"bgp-peer"`
}

// BGPRIB is a table's (or, under a peer, the peer's) prefix counts.
type BGPRIB struct {
	Name       string `xml:"name"`
	Total      int    `xml:"total-prefix-count,omitempty"`
	Received   int    `xml:"received-prefix-count"`
	Accepted   int    `xml:"accepted-prefix-count"`
	Active     int    `xml:"active-prefix-count"`
	Advertised int    `xml:"advertised-prefix-count,omitempty"`
	Suppressed int    `xml:"suppressed-prefix-count"`
}

// BGPPeer is one peer's row (summary) or block (neighbor).
type BGPPeer struct {
	PeerAddress    string   `xml:"peer-address"`
	PeerAS         uint32   `xml:"peer-as"`
	LocalAddress   string   `xml:"local-address,omitempty"`
	LocalAS        uint32   `xml:"local-as,omitempty"`
	Description    string   `xml:"description,omitempty"`
	Group          string   `xml:"peer-group,omitempty"`
	PeerType       string   `xml:"peer-type,omitempty"`
	PeerState      string   `xml:"peer-state"`
	LastError      string   `xml:"last-error,omitempty"`
	ExportPolicy   string   `xml:"export-policy,omitempty"`
	ImportPolicy   string   `xml:"import-policy,omitempty"`
	HoldTime       int64    `xml:"holdtime,omitempty"`
	FlapCount      int      `xml:"flap-count"`
	PeerID         string   `xml:"peer-id,omitempty"`
	LocalID        string   `xml:"local-id,omitempty"`
	ActiveHoldTime int64    `xml:"active-holdtime,omitempty"`
	Keepalive      int64    `xml:"keepalive-interval,omitempty"`
	InputMessages  uint64   `xml:"input-messages"`
	OutputMessages uint64   `xml:"output-messages"`
	InputUpdates   uint64   `xml:"input-updates,omitempty"`
	OutputUpdates  uint64   `xml:"output-updates,omitempty"`
	RouteQueue     int      `xml:"route-queue-count"`
	ElapsedTime    string   `xml:"elapsed-time"`
	RIBs           []BGPRIB `xml:"bgp-rib"`
}

// OSPFNeighborInformation is `show ospf neighbor`.
type OSPFNeighborInformation struct {
	XMLName   xml.Name           `xml:"ospf-neighbor-information"`
	Neighbors []OSPFNeighborInfo `xml:"ospf-neighbor"`
}

// OSPFNeighborInfo is one neighbor row.
type OSPFNeighborInfo struct {
	Address   string `xml:"neighbor-address"`
	Interface string `xml:"interface-name"`
	State     string `xml:"ospf-neighbor-state"`
	ID        string `xml:"neighbor-id"`
	Priority  int    `xml:"neighbor-priority"`
	Dead      int64  `xml:"activity-timer"`
}

// OSPF3NeighborInformation is `show ospf3 neighbor`.
type OSPF3NeighborInformation struct {
	XMLName   xml.Name            `xml:"ospf3-neighbor-information"`
	Neighbors []OSPF3NeighborInfo `xml:"ospf3-neighbor"`
}

// OSPF3NeighborInfo is one OSPFv3 neighbor row.
type OSPF3NeighborInfo struct {
	ID        string `xml:"neighbor-id"`
	Interface string `xml:"interface-name"`
	State     string `xml:"ospf-neighbor-state"`
	Priority  int    `xml:"neighbor-priority"`
	Dead      int64  `xml:"activity-timer"`
}

// OSPFInterfaceInformation is `show ospf interface`.
type OSPFInterfaceInformation struct {
	XMLName    xml.Name            `xml:"ospf-interface-information"`
	Interfaces []OSPFInterfaceInfo `xml:"ospf-interface"`
}

// OSPFInterfaceInfo is one interface row.
type OSPFInterfaceInfo struct {
	Name      string `xml:"interface-name"`
	State     string `xml:"ospf-interface-state"`
	Area      string `xml:"ospf-area"`
	DR        string `xml:"dr-id"`
	BDR       string `xml:"bdr-id"`
	Neighbors int    `xml:"neighbor-count"`
}

// RouteInformation is `show route` and its BGP forms.
type RouteInformation struct {
	XMLName xml.Name     `xml:"route-information"`
	Tables  []RouteTable `xml:"route-table"`
}

// RouteTable is one table (inet.0, inet6.0).
type RouteTable struct {
	Name         string         `xml:"table-name"`
	Destinations int            `xml:"destination-count"`
	Routes       int            `xml:"total-route-count"`
	Active       int            `xml:"active-route-count"`
	Holddown     int            `xml:"holddown-route-count"`
	Hidden       int            `xml:"hidden-route-count"`
	Entries      []RouteDestEnt `xml:"rt"`
}

// RouteDestEnt is one destination and its routes.
type RouteDestEnt struct {
	Destination string       `xml:"rt-destination"`
	Entries     []RouteEntry `xml:"rt-entry"`
}

// RouteEntry is one route.
type RouteEntry struct {
	Active     string      `xml:"active-tag,omitempty"` // "*"
	Protocol   string      `xml:"protocol-name,omitempty"`
	Preference int         `xml:"preference,omitempty"`
	Age        string      `xml:"age,omitempty"`
	MED        string      `xml:"med,omitempty"`
	LocalPref  string      `xml:"local-preference,omitempty"`
	ASPath     string      `xml:"as-path,omitempty"`
	NextHops   []RouteNext `xml:"nh"`
}

// RouteNext is one next hop.
type RouteNext struct {
	Selected *Flag  `xml:"selected-next-hop"`
	To       string `xml:"to,omitempty"`
	Via      string `xml:"via,omitempty"`
}
