package cli

import (
	"net/netip"

	"ipsecgw/mgmt/mgmtpb"
)

// The routing commands (show bgp, show ospf, show route, clear bgp), read
// from the daemon's FRR.

var (
	routeProtocolValue = &opValue{placeholder: "<protocol>", help: "Protocol name", enum: []choice{
		{word: "bgp", help: "Border Gateway Protocol"},
		{word: "direct", help: "Directly connected routes"},
		{word: "ospf", help: "Open Shortest Path First"},
		{word: "ospf3", help: "Open Shortest Path First version 3"},
		{word: "static", help: "Static routes"},
	}}
	bgpOnlyValue = &opValue{placeholder: "<protocol>", help: "Protocol name", enum: []choice{
		{word: "bgp", help: "Border Gateway Protocol"},
	}}
	destinationValue = &opValue{placeholder: "<destination>", help: "IP address and optional prefix length of destination, or BGP neighbor", check: func(v string) bool {
		if _, err := netip.ParsePrefix(v); err == nil {
			return true
		}
		_, err := netip.ParseAddr(v)
		return err == nil
	}}
	neighborValue = &opValue{placeholder: "<neighbor>", help: "IP address of BGP neighbor", check: func(v string) bool {
		_, err := netip.ParseAddr(v)
		return err == nil
	}}
)

func showRouting(command string) func(opArgs) opCommand {
	return func(a opArgs) opCommand {
		q := &mgmtpb.ShowRouting{Command: command, Address: a[neighborValue.placeholder]}
		if command == "route" {
			q.Protocol = a["protocol"]
			q.Prefix = a[destinationValue.placeholder]
			switch {
			case a.has("advertising-protocol"):
				q.Command, q.Address, q.Prefix = "route-advertising-protocol", q.Prefix, ""
			case a.has("receive-protocol"):
				q.Command, q.Address, q.Prefix = "route-receive-protocol", q.Prefix, ""
			}
		}
		return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Routing{Routing: q}})
	}
}

func clearBGPNeighbor(a opArgs) opCommand {
	return opCommand{clear: &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_BgpNeighbor{
		BgpNeighbor: &mgmtpb.ClearBGPNeighbor{Address: a[neighborValue.placeholder]},
	}}}
}

var neighborOption = &opOption{help: "IP address of BGP neighbor", value: neighborValue}

var clearBGP = &opNode{name: "bgp", help: "Clear BGP information", sub: []*opNode{
	{name: "neighbor", help: "Reset BGP sessions (all, or one neighbor's)", opts: []*opOption{neighborOption}, build: clearBGPNeighbor},
}}

var showBGP = &opNode{name: "bgp", help: "Show Border Gateway Protocol information", sub: []*opNode{
	{name: "neighbor", help: "Show BGP neighbor information", opts: []*opOption{neighborOption}, build: showRouting("bgp-neighbor")},
	{name: "summary", help: "Show BGP neighbor summary information", build: showRouting("bgp-summary")},
}}

var showOSPF = &opNode{name: "ospf", help: "Show Open Shortest Path First information", sub: []*opNode{
	{name: "interface", help: "Show OSPF interface information", build: showRouting("ospf-interface")},
	{name: "neighbor", help: "Show OSPF neighbor information", build: showRouting("ospf-neighbor")},
}}

var showOSPF3 = &opNode{name: "ospf3", help: "Show Open Shortest Path First version 3 information", sub: []*opNode{
	{name: "neighbor", help: "Show OSPFv3 neighbor information", build: showRouting("ospf3-neighbor")},
}}

var showRoute = &opNode{name: "route", help: "Show routing table information", opts: []*opOption{
	{name: "protocol", help: "Name of protocol", value: routeProtocolValue, group: "route-kind"},
	{name: "advertising-protocol", help: "Routes advertised to a BGP neighbor", value: bgpOnlyValue, group: "route-kind"},
	{name: "receive-protocol", help: "Routes received from a BGP neighbor", value: bgpOnlyValue, group: "route-kind"},
	{help: "IP address and optional prefix length of destination, or BGP neighbor", value: destinationValue},
}, build: showRouting("route")}

func init() {
	opRoot.child("clear").sub = insertSorted(opRoot.child("clear").sub, clearBGP)
	show := opRoot.child("show")
	for _, n := range []*opNode{showBGP, showOSPF, showOSPF3, showRoute} {
		show.sub = insertSorted(show.sub, n)
	}
}

// insertSorted adds n among sub in name order (help lists sub-commands in
// the order of the tree).
func insertSorted(sub []*opNode, n *opNode) []*opNode {
	for i, c := range sub {
		if n.name < c.name {
			return append(sub[:i], append([]*opNode{n}, sub[i:]...)...)
		}
	}
	return append(sub, n)
}
