package frr

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// FRR's state as its JSON reports it (vtysh "... json", FRR 8.4), in the
// fields the show commands and the metrics use. Parsing never fails on a
// field FRR adds or leaves out; it fails only on text that is not JSON of
// the expected shape.

// BGPNeighbor is one BGP session ("show bgp neighbors json").
type BGPNeighbor struct {
	Address       string // the neighbor's address (the key)
	RemoteAS      uint32 `json:"remoteAs"`
	LocalAS       uint32 `json:"localAs"`
	Description   string `json:"nbrDesc"`
	External      bool   `json:"nbrExternalLink"`
	State         string `json:"bgpState"` // Idle, Connect, Active, OpenSent, OpenConfirm, Established
	UpMsec        int64  `json:"bgpTimerUpMsec"`
	RemoteID      string `json:"remoteRouterId"`
	LocalID       string `json:"localRouterId"`
	HoldMsec      int64  `json:"bgpTimerHoldTimeMsecs"`
	KeepaliveMsec int64  `json:"bgpTimerKeepAliveIntervalMsecs"`
	ConfHoldMsec  int64  `json:"bgpTimerConfiguredHoldTimeMsecs"`
	LastReadMsec  int64  `json:"bgpTimerLastRead"`
	LastWriteMsec int64  `json:"bgpTimerLastWrite"`
	Established   int    `json:"connectionsEstablished"`
	Dropped       int    `json:"connectionsDropped"`
	LastReset     string `json:"lastResetDueTo"`
	LocalHost     string `json:"hostLocal"`
	LocalPort     int    `json:"portLocal"`
	ForeignPort   int    `json:"portForeign"`
	Messages      struct {
		OutQ         int    `json:"depthOutq"`
		InQ          int    `json:"depthInq"`
		UpdatesSent  uint64 `json:"updatesSent"`
		UpdatesRecv  uint64 `json:"updatesRecv"`
		RefreshSent  uint64 `json:"routeRefreshSent"`
		RefreshRecv  uint64 `json:"routeRefreshRecv"`
		TotalSent    uint64 `json:"totalSent"`
		TotalRecv    uint64 `json:"totalRecv"`
		NotifSent    uint64 `json:"notificationsSent"`
		NotifRecv    uint64 `json:"notificationsRecv"`
		KeepalivesIn uint64 `json:"keepalivesRecv"`
	} `json:"messageStats"`
	// Families by FRR's name (ipv4Unicast, ipv6Unicast).
	Families map[string]BGPFamily `json:"addressFamilyInfo"`
}

// BGPFamily is one address family of a session.
type BGPFamily struct {
	Accepted int    `json:"acceptedPrefixCounter"`
	Sent     int    `json:"sentPrefixCounter"`
	Import   string `json:"routeMapForIncomingAdvertisements"`
	Export   string `json:"routeMapForOutgoingAdvertisements"`
}

// Up is how long the session has been in its state.
func (n *BGPNeighbor) Up() time.Duration { return time.Duration(n.UpMsec) * time.Millisecond }

// ParseBGPNeighbors reads "show bgp neighbors json", sorted by address.
func ParseBGPNeighbors(b []byte) ([]BGPNeighbor, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("FRR bgp neighbors: %w", err)
	}
	var out []BGPNeighbor
	for addr, raw := range m {
		if _, err := netip.ParseAddr(addr); err != nil {
			continue // not a neighbor (FRR adds a few top-level fields)
		}
		var n BGPNeighbor
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("FRR bgp neighbor %s: %w", addr, err)
		}
		n.Address = addr
		out = append(out, n)
	}
	sortByAddr(out, func(n BGPNeighbor) string { return n.Address })
	return out, nil
}

// BGPRoute is one path of "show bgp ... routes json" or an advertised
// route of "advertised-routes json".
type BGPRoute struct {
	Prefix    string `json:"network"`
	PeerID    string `json:"peerId"` // "(unspec)" for a route of this router
	Valid     bool   `json:"valid"`
	Best      bool   `json:"bestpath"`
	Path      string `json:"path"`
	Origin    string `json:"origin"` // IGP, EGP, incomplete
	OriginSym string `json:"bgpOriginCode"`
	Metric    uint32 `json:"metric"`
	LocalPref uint32 `json:"locPrf"`
	NextHop   string `json:"nextHop"`
	NextHops  []struct {
		IP    string `json:"ip"`
		Scope string `json:"scope"`
	} `json:"nexthops"`
}

// OriginCode is Junos's one-letter origin: I, E or ?.
func (r *BGPRoute) OriginCode() string {
	switch strings.ToLower(r.Origin + r.OriginSym) {
	case "igp", "i":
		return "I"
	case "egp", "e":
		return "E"
	}
	return "?"
}

// ParseBGPRoutes reads "show bgp ... neighbors A routes json" (received
// and accepted) or "advertised-routes json", sorted by prefix.
func ParseBGPRoutes(b []byte) ([]BGPRoute, error) {
	var m struct {
		Routes     map[string][]BGPRoute `json:"routes"`
		Advertised map[string]BGPRoute   `json:"advertisedRoutes"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("FRR bgp routes: %w", err)
	}
	var out []BGPRoute
	for p, paths := range m.Routes {
		for _, r := range paths {
			r.Prefix = p
			out = append(out, r)
		}
	}
	for p, r := range m.Advertised {
		r.Prefix = p
		out = append(out, r)
	}
	sortByPrefix(out, func(r BGPRoute) string { return r.Prefix })
	return out, nil
}

// OSPFNeighbor is one neighbor of "show ip ospf neighbor json" (or ipv6
// ospf6).
type OSPFNeighbor struct {
	RouterID  string
	Priority  int    `json:"priority"`
	State     string `json:"nbrState"` // Full/DR, Full/-, 2-Way/DROther...
	Converged string `json:"converged"`
	DeadMsec  int64  `json:"deadTimeMsecs"`
	Address   string `json:"ifaceAddress"`
	Interface string `json:"ifaceName"` // "eth0:192.0.2.1" (ospfd)
	UpMsec    int64  `json:"upTimeInMsec"`
	// OSPFv3 names.
	V3State     string `json:"state"`
	V3Interface string `json:"interfaceName"`
	V3Dead      string `json:"deadTime"`
}

// StateWord is the neighbor's adjacency state without its role: Full,
// 2-Way, Init...
func (n *OSPFNeighbor) StateWord() string {
	s := n.State
	if s == "" {
		s = n.V3State
	}
	if n.Converged != "" && !strings.Contains(s, "/") {
		return n.Converged
	}
	s, _, _ = strings.Cut(s, "/")
	return s
}

// Ifname is the neighbor's Linux interface.
func (n *OSPFNeighbor) Ifname() string {
	if n.Interface != "" {
		name, _, _ := strings.Cut(n.Interface, ":")
		return name
	}
	return n.V3Interface
}

// Dead is the time left before the neighbor is declared down.
func (n *OSPFNeighbor) Dead() time.Duration {
	if n.DeadMsec != 0 {
		return time.Duration(n.DeadMsec) * time.Millisecond
	}
	// ospf6d prints "00:00:36".
	var h, m, s int
	if _, err := fmt.Sscanf(n.V3Dead, "%d:%d:%d", &h, &m, &s); err == nil {
		return time.Duration(h*3600+m*60+s) * time.Second
	}
	return 0
}

// ParseOSPFNeighbors reads "show ip ospf neighbor json" or "show ipv6
// ospf6 neighbor json".
func ParseOSPFNeighbors(b []byte) ([]OSPFNeighbor, error) {
	var m struct {
		Neighbors map[string][]OSPFNeighbor `json:"neighbors"`
	}
	if err := json.Unmarshal(b, &m); err == nil && m.Neighbors != nil {
		var out []OSPFNeighbor
		for id, list := range m.Neighbors {
			for _, n := range list {
				n.RouterID = id
				out = append(out, n)
			}
		}
		sortByAddr(out, func(n OSPFNeighbor) string { return n.RouterID + " " + n.Ifname() })
		return out, nil
	}
	// ospf6d: {"neighbors":[{"neighborId":...}]}
	var v3 struct {
		Neighbors []struct {
			OSPFNeighbor
			ID string `json:"neighborId"`
		} `json:"neighbors"`
	}
	if err := json.Unmarshal(b, &v3); err != nil {
		return nil, fmt.Errorf("FRR ospf neighbors: %w", err)
	}
	var out []OSPFNeighbor
	for _, n := range v3.Neighbors {
		n.OSPFNeighbor.RouterID = n.ID
		out = append(out, n.OSPFNeighbor)
	}
	return out, nil
}

// OSPFInterface is one interface of "show ip ospf interface json".
type OSPFInterface struct {
	Name        string
	Up          bool   `json:"ifUp"`
	Address     string `json:"ipAddress"`
	PrefixLen   int    `json:"ipAddressPrefixlen"`
	Area        string `json:"area"`
	RouterID    string `json:"routerId"`
	NetworkType string `json:"networkType"` // POINTOPOINT, BROADCAST...
	Cost        int    `json:"cost"`
	State       string `json:"state"` // Point-To-Point, DR, Backup, DROther, Loopback, Down
	DRID        string `json:"drId"`
	BDRID       string `json:"bdrId"`
	Hello       int    `json:"timerMsecs"`
	Dead        int    `json:"timerDeadSecs"`
	Neighbors   int    `json:"nbrCount"`
	Adjacent    int    `json:"nbrAdjacentCount"`
	Passive     bool   `json:"timerPassiveIface"`
}

// ParseOSPFInterfaces reads "show ip ospf interface json".
func ParseOSPFInterfaces(b []byte) ([]OSPFInterface, error) {
	var m struct {
		Interfaces map[string]OSPFInterface `json:"interfaces"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("FRR ospf interfaces: %w", err)
	}
	var out []OSPFInterface
	for name, i := range m.Interfaces {
		i.Name = name
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// Route is one route of zebra's table ("show ip route json").
type Route struct {
	Prefix   string `json:"prefix"`
	Protocol string `json:"protocol"` // connected, kernel, local, bgp, ospf, ospf6, static
	Selected bool   `json:"selected"`
	Distance int    `json:"distance"`
	Metric   uint32 `json:"metric"`
	Uptime   string `json:"uptime"` // "00:01:02", "1d02h03m"
	NextHops []struct {
		IP        string `json:"ip"`
		Interface string `json:"interfaceName"`
		Active    bool   `json:"active"`
		FIB       bool   `json:"fib"`
		Connected bool   `json:"directlyConnected"`
	} `json:"nexthops"`
}

// ParseRoutes reads "show ip route json" or "show ipv6 route json".
func ParseRoutes(b []byte) ([]Route, error) {
	var m map[string][]Route
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("FRR routes: %w", err)
	}
	var out []Route
	for p, list := range m {
		for _, r := range list {
			r.Prefix = p
			out = append(out, r)
		}
	}
	sortByPrefix(out, func(r Route) string { return r.Prefix })
	return out, nil
}

// Queries against a running instance.

func (in *Instance) jsonQuery(ctx context.Context, command string) ([]byte, error) {
	out, err := in.Vtysh(ctx, command)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(out) == "" {
		return []byte("{}"), nil // the daemon is not running: nothing to show
	}
	return []byte(out), nil
}

// BGPNeighbors is every BGP session.
func (in *Instance) BGPNeighbors(ctx context.Context) ([]BGPNeighbor, error) {
	b, err := in.jsonQuery(ctx, "show bgp neighbors json")
	if err != nil {
		return nil, err
	}
	return ParseBGPNeighbors(b)
}

// BGPRoutes is what a neighbor sent and was accepted (received), or what
// is sent to it (advertised), in one family.
func (in *Instance) BGPRoutes(ctx context.Context, neighbor netip.Addr, ipv6, advertised bool) ([]BGPRoute, error) {
	which := "routes"
	if advertised {
		which = "advertised-routes"
	}
	afi := "ipv4"
	if ipv6 {
		afi = "ipv6"
	}
	b, err := in.jsonQuery(ctx, fmt.Sprintf("show bgp %s unicast neighbors %s %s json", afi, neighbor, which))
	if err != nil {
		return nil, err
	}
	return ParseBGPRoutes(b)
}

// BGPPaths is every BGP path of one family, with its attributes (AS path,
// local preference) for show route.
func (in *Instance) BGPPaths(ctx context.Context, ipv6 bool) ([]BGPRoute, error) {
	afi := "ipv4"
	if ipv6 {
		afi = "ipv6"
	}
	b, err := in.jsonQuery(ctx, "show bgp "+afi+" unicast json")
	if err != nil {
		return nil, err
	}
	return ParseBGPRoutes(b)
}

// OSPFNeighbors is OSPFv2's (or OSPFv3's) neighbors.
func (in *Instance) OSPFNeighbors(ctx context.Context, v3 bool) ([]OSPFNeighbor, error) {
	cmd := "show ip ospf neighbor json"
	if v3 {
		cmd = "show ipv6 ospf6 neighbor json"
	}
	b, err := in.jsonQuery(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return ParseOSPFNeighbors(b)
}

// OSPFInterfaces is OSPFv2's interfaces.
func (in *Instance) OSPFInterfaces(ctx context.Context) ([]OSPFInterface, error) {
	b, err := in.jsonQuery(ctx, "show ip ospf interface json")
	if err != nil {
		return nil, err
	}
	return ParseOSPFInterfaces(b)
}

// Routes is zebra's table, IPv4 then IPv6.
func (in *Instance) Routes(ctx context.Context) ([]Route, error) {
	var all []Route
	for _, cmd := range []string{"show ip route json", "show ipv6 route json"} {
		b, err := in.jsonQuery(ctx, cmd)
		if err != nil {
			return nil, err
		}
		rs, err := ParseRoutes(b)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	return all, nil
}

// ClearBGPNeighbor resets one session (or every one with an invalid
// address).
func (in *Instance) ClearBGPNeighbor(ctx context.Context, neighbor netip.Addr) error {
	target := "*"
	if neighbor.IsValid() {
		target = neighbor.String()
	}
	out, err := in.Vtysh(ctx, "clear bgp "+target)
	if err != nil {
		return err
	}
	if strings.Contains(out, "%") {
		return fmt.Errorf("FRR: %s", strings.TrimSpace(out))
	}
	return nil
}

func sortByAddr[T any](list []T, key func(T) string) {
	sort.SliceStable(list, func(i, j int) bool {
		a, errA := netip.ParseAddr(strings.Fields(key(list[i]) + " ")[0])
		b, errB := netip.ParseAddr(strings.Fields(key(list[j]) + " ")[0])
		if errA == nil && errB == nil && a != b {
			return a.Less(b)
		}
		return key(list[i]) < key(list[j])
	})
}

func sortByPrefix[T any](list []T, key func(T) string) {
	sort.SliceStable(list, func(i, j int) bool {
		a, errA := netip.ParsePrefix(key(list[i]))
		b, errB := netip.ParsePrefix(key(list[j]))
		if errA == nil && errB == nil && a != b {
			if a.Addr() != b.Addr() {
				return a.Addr().Less(b.Addr())
			}
			return a.Bits() < b.Bits()
		}
		return key(list[i]) < key(list[j])
	})
}
