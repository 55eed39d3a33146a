package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"ipsecgw/config"
)

// DefaultLeaseTTL is how long an SRG owner's etcd lease lives without
// renewal when "chassis high-availability lease-ttl" is not set.
const DefaultLeaseTTL = 2 * time.Second

// HighAvailability is "chassis high-availability": the nodes of a cluster
// and the services redundancy groups they share (package cluster runs it).
type HighAvailability struct {
	LeaseTTL time.Duration
	Nodes    []HANode // in configuration order
	SRGs     []*SRG   // in configuration order
}

// HANode is one "node N { address A; }".
type HANode struct {
	ID      int
	Address netip.Addr // invalid when not configured
}

// SRG is one services redundancy group.
type SRG struct {
	ID         int
	VirtualIPs []VirtualIP
	Services   []string // managed-services: "ipsec"
	// Priority is each node's activeness-priority; a node not named has 0
	// and owns the group only when no named node is alive.
	Priority   map[int]int
	Preemption bool
}

// VirtualIP is an address the owner of its SRG adds to Interface (a Linux
// name, after the interface map) and announces.
type VirtualIP struct {
	ID        int
	Prefix    netip.Prefix // the address with its prefix length
	Interface string
}

// NodeGroup is the group "${node}" names for node id: "node1".
func NodeGroup(id int) string {
	if id <= 0 {
		return ""
	}
	return "node" + strconv.Itoa(id)
}

// SRGOf returns the SRG one of whose virtual IPs is addr (an IKE gateway's
// local-address), or nil: the gateway, its VPNs, st0 units and routes belong
// to that group and run only on its owner.
func (h *HighAvailability) SRGOf(addr netip.Addr) *SRG {
	if h == nil || !addr.IsValid() {
		return nil
	}
	for _, g := range h.SRGs {
		for _, v := range g.VirtualIPs {
			if v.Prefix.Addr() == addr.Unmap() {
				return g
			}
		}
	}
	return nil
}

// SRG returns the group with the given id, or nil.
func (h *HighAvailability) SRG(id int) *SRG {
	if h == nil {
		return nil
	}
	for _, g := range h.SRGs {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (b *builder) highAvailability(s *config.Stmt) {
	if s == nil || s.Inactive {
		return
	}
	if b.opts.NodeID == 0 {
		b.cfg.Notices = append(b.cfg.Notices, Notice{Path: s.PathString(),
			Msg: "accepted, not applied: high availability needs the daemon to run with --cluster-etcd and --node-id"})
	}
	h := &HighAvailability{LeaseTTL: seconds(s, "lease-ttl", DefaultLeaseTTL)}
	nodes := map[int]bool{}
	for _, n := range entries(s, "node") {
		id, _ := strconv.Atoi(n.Key)
		nodes[id] = true
		h.Nodes = append(h.Nodes, HANode{ID: id, Address: addr(n, "address")})
	}
	if b.opts.NodeID != 0 && len(nodes) > 0 && !nodes[b.opts.NodeID] {
		b.fail(s, fmt.Sprintf("this daemon is node %d, which is not configured", b.opts.NodeID),
			fmt.Sprintf("node %d under [edit chassis high-availability]", b.opts.NodeID))
	}
	vips := map[netip.Addr]string{}
	for _, g := range entries(s, "services-redundancy-group") {
		id, _ := strconv.Atoi(g.Key)
		srg := &SRG{ID: id, Priority: map[int]int{}, Preemption: has(g, "preemption")}
		if ms := child(g, "managed-services"); ms != nil {
			srg.Services = ms.Values
		}
		for _, v := range entries(g, "virtual-ip") {
			vid, _ := strconv.Atoi(v.Key)
			p, ok := prefix(v, "ip")
			if !ok {
				b.fail(v, "virtual-ip has no ip", "ip ADDRESS/LENGTH")
				continue
			}
			ifname := str(v, "interface")
			if ifname == "" {
				b.fail(v, "virtual-ip has no interface", "interface NAME")
				continue
			}
			if prev, dup := vips[p.Addr()]; dup {
				b.fail(child(v, "ip"), fmt.Sprintf("%s is already a virtual IP of %s", p.Addr(), prev), "each virtual IP in one group")
				continue
			}
			vips[p.Addr()] = g.PathString()
			srg.VirtualIPs = append(srg.VirtualIPs, VirtualIP{ID: vid, Prefix: p, Interface: b.linuxName(ifname)})
		}
		for _, n := range entries(g, "node") {
			nid, _ := strconv.Atoi(n.Key)
			if len(nodes) > 0 && !nodes[nid] {
				b.fail(n, fmt.Sprintf("node %d is not configured", nid), "a node defined under [edit chassis high-availability]")
				continue
			}
			srg.Priority[nid] = num(n, "activeness-priority", 0)
		}
		h.SRGs = append(h.SRGs, srg)
	}
	b.cfg.HA = h
}

// linuxName maps a configured interface name through the interface map.
func (b *builder) linuxName(name string) string {
	if l, ok := b.opts.InterfaceMap[name]; ok {
		return l
	}
	return name
}

// isVirtualIPOn reports whether addr is a virtual IP that a services
// redundancy group puts on unit u's interface.
func (b *builder) isVirtualIPOn(addr netip.Addr, u *Unit) bool {
	g := b.cfg.HA.SRGOf(addr)
	if g == nil {
		return false
	}
	for _, v := range g.VirtualIPs {
		if v.Prefix.Addr() == addr.Unmap() && (v.Interface == b.linuxName(u.Interface.Name) || v.Interface == b.linuxName(u.Name())) {
			return true
		}
	}
	return false
}
