package netconf

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"ipsecgw/mgmt/mgmtpb"
)

func TestRoutingRPCs(t *testing.T) {
	q := func(command, address, protocol, prefix string) *mgmtpb.ShowRequest {
		return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Routing{Routing: &mgmtpb.ShowRouting{
			Command: command, Address: address, Protocol: protocol, Prefix: prefix}}}
	}
	for _, c := range []struct {
		rpc  string
		args map[string]string
		want *mgmtpb.ShowRequest
	}{
		{"get-bgp-summary-information", nil, q("bgp-summary", "", "", "")},
		{"get-bgp-neighbor-information", map[string]string{"neighbor-address": "169.254.0.2"}, q("bgp-neighbor", "169.254.0.2", "", "")},
		{"get-ospf-neighbor-information", nil, q("ospf-neighbor", "", "", "")},
		{"get-route-information", map[string]string{"protocol": "bgp", "destination": "198.18.0.0/16"}, q("route", "", "bgp", "198.18.0.0/16")},
		{"get-route-information", map[string]string{"advertising-protocol-name": "bgp", "neighbor": "169.254.0.2"}, q("route-advertising-protocol", "169.254.0.2", "", "")},
		{"get-route-information", map[string]string{"receive-protocol-name": "bgp", "peer": "169.254.0.2"}, q("route-receive-protocol", "169.254.0.2", "", "")},
	} {
		got, rerr := showRPCs[c.rpc].build(c.args)
		if rerr != nil || !proto.Equal(got, c.want) {
			t.Errorf("%s %v: %v, %v; want %v", c.rpc, c.args, got, rerr, c.want)
		}
	}
	if _, rerr := showRPCs["get-route-information"].build(map[string]string{"advertising-protocol-name": "ospf", "neighbor": "x"}); rerr == nil {
		t.Error("advertising-protocol-name ospf accepted")
	}
}
