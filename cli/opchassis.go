package cli

import (
	"strconv"

	"ipsecgw/mgmt/mgmtpb"
)

// The chassis high-availability commands of a cluster node.

var srgValue = &opValue{placeholder: "<srg-id>", help: "Services redundancy group", check: func(v string) bool {
	n, err := strconv.ParseUint(v, 10, 32)
	return err == nil && n >= 1 && n <= 1000
}}

var showChassis = &opNode{name: "chassis", help: "Show chassis information", sub: []*opNode{
	{name: "high-availability", help: "Show high availability information", sub: []*opNode{
		{name: "information", help: "Show nodes, their health and the groups each owns", build: func(opArgs) opCommand {
			return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_ChassisHighAvailability{
				ChassisHighAvailability: &mgmtpb.ChassisHighAvailability{}}})
		}},
	}},
}}

// requestChassis is "request chassis".
var requestChassis = &opNode{name: "chassis", help: "Chassis requests", sub: []*opNode{
	{name: "high-availability", help: "High availability requests", sub: []*opNode{
		{name: "failover", help: "Move a group to another node", sub: []*opNode{
			{name: "services-redundancy-group", help: "Services redundancy group to move",
				opts: []*opOption{{help: "Services redundancy group", value: srgValue}},
				build: func(a opArgs) opCommand {
					return opCommand{request: &mgmtpb.CommandRequest{Words: []string{
						"chassis", "high-availability", "failover", "services-redundancy-group", a[srgValue.placeholder]}}}
				}},
		}},
	}},
}}
