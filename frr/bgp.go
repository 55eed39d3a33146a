package frr

import (
	"fmt"
	"strings"

	"ipsecgw/config/schema"
)

// bgp writes router bgp. Junos's defaults are spelled out where FRR's
// differ: a hold time of 90 s (keepalives every third of it), eBGP
// sessions that need no policy, one path per prefix (no multipath),
// families activated only where configured,
// and a reconnection within seconds (FRR waits 120 s by default; a tunnel
// that comes up should not leave its session down that long).
//
// Routes of other protocols reach BGP by redistribution, tagged with their
// source; each neighbor's export chain is a route-map with one section per
// tag and a last one for BGP's own routes (policy.go).
func (w *writer) bgp(b *schema.BGP) error {
	asn := w.rt.AutonomousSystem
	var all []*schema.BGPNeighbor
	for _, g := range b.Groups {
		all = append(all, g.Neighbors...)
	}
	if asn == 0 && len(all) > 0 {
		asn = all[0].LocalAS
	}
	w.line("router bgp %d", asn)
	if w.cfg.RouterID.IsValid() {
		w.line(" bgp router-id %s", w.cfg.RouterID)
	}
	w.line(" no bgp ebgp-requires-policy")
	w.line(" no bgp default ipv4-unicast")
	w.line(" no bgp network import-check")
	for _, n := range all {
		a := n.Address
		w.line(" neighbor %s remote-as %d", a, n.PeerAS)
		if n.LocalAS != 0 && n.LocalAS != asn {
			w.line(" neighbor %s local-as %d no-prepend replace-as", a, n.LocalAS)
		}
		if n.Description != "" {
			w.line(" neighbor %s description %s", a, oneLine(n.Description))
		}
		if n.LocalAddress.IsValid() {
			w.line(" neighbor %s update-source %s", a, n.LocalAddress)
		}
		hold := n.HoldTime
		if hold == 0 {
			hold = 90
		}
		w.line(" neighbor %s timers %d %d", a, hold/3, hold)
		w.line(" neighbor %s timers connect 5", a)
		if n.Multihop && n.Group.Type == "external" {
			w.line(" neighbor %s ebgp-multihop %d", a, n.MultihopTTL)
		}
		if n.AuthKey.IsSet() {
			w.line(" neighbor %s password %s", a, w.secret(n.AuthKey))
		}
		if n.BFD != nil {
			w.line(" neighbor %s bfd", a)
			w.line(" neighbor %s bfd profile %s", a, w.bfdProfile(n.BFD))
		}
	}
	for _, fam := range []family{v4, v6} {
		var active []*schema.BGPNeighbor
		for _, n := range all {
			if activeIn(n, fam) {
				active = append(active, n)
			}
		}
		if len(active) == 0 {
			continue
		}
		w.line(" address-family %s unicast", map[family]string{v4: "ipv4", v6: "ipv6"}[fam])
		// Junos installs one BGP path per prefix unless told "multipath".
		w.line("  maximum-paths 1")
		w.line("  maximum-paths ibgp 1")
		// Redistribute what some neighbor's export can accept.
		redist := map[string]bool{}
		var sources []source
		for _, n := range active {
			for _, src := range redistributable(n.Export, protoBGP) {
				if (src == srcOSPF && (fam == v6 || w.rt.OSPF == nil)) || (src == srcOSPF3 && (fam == v4 || w.rt.OSPF3 == nil)) || redist[src.frr] {
					continue
				}
				redist[src.frr] = true
				sources = append(sources, src)
			}
		}
		for _, src := range sources {
			w.line("  redistribute %s route-map %s", src.frr, w.maps.tagMap(src))
		}
		for _, n := range active {
			a := n.Address
			w.line("  neighbor %s activate", a)
			if len(n.Import) > 0 {
				w.line("  neighbor %s route-map %s in", a,
					w.maps.routeMap(fmt.Sprintf("bgp-import-%s-v%d", mapName(a.String()), fam), n.Import, fam, srcBGP, false))
			}
			if len(n.Export) > 0 || len(sources) > 0 {
				secs := make([]section, 0, len(sources)+1)
				for _, src := range sources {
					secs = append(secs, section{chain: n.Export, fam: fam, src: src, tagged: true, deflt: "deny"})
				}
				secs = append(secs, section{chain: n.Export, fam: fam, src: srcBGP, deflt: "permit"})
				w.line("  neighbor %s route-map %s out", a,
					w.maps.routeMapSections(fmt.Sprintf("bgp-export-%s-v%d", mapName(a.String()), fam), secs))
			}
		}
		w.line(" exit-address-family")
	}
	w.line("exit")
	w.line("!")
	return nil
}

// activeIn reports whether a neighbor carries a family: the group's
// families when it lists any, else the neighbor's own address family.
func activeIn(n *schema.BGPNeighbor, fam family) bool {
	if len(n.Group.Families) == 0 {
		return n.Address.Is4() == (fam == v4)
	}
	for _, f := range n.Group.Families {
		if (f == "inet") == (fam == v4) {
			return true
		}
	}
	return false
}

// tagMap defines the route-map that tags routes redistributed into BGP
// with their source.
func (w *writer) tagMap(src source) string {
	name := "bgp-redistribute-" + src.frr
	if w.defined == nil {
		w.defined = map[string]bool{}
	}
	if !w.defined["route-map "+name] {
		w.defined["route-map "+name] = true
		fmt.Fprintf(&w.defs, "route-map %s permit 10\n set tag %d\nexit\n!\n", name, src.tag)
	}
	return name
}

// mapName makes an address usable in a route-map name.
func mapName(s string) string { return strings.ReplaceAll(s, ":", ".") }

// oneLine keeps a description on its configuration line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
