package cli

import (
	"testing"

	"ipsecgw/mgmt/mgmtpb"
)

func routing(command, address, protocol, prefix string) *mgmtpb.ShowRequest {
	return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Routing{Routing: &mgmtpb.ShowRouting{
		Command: command, Address: address, Protocol: protocol, Prefix: prefix}}}
}

func TestRoutingShowRequests(t *testing.T) {
	for _, c := range []struct {
		line string
		want *mgmtpb.ShowRequest
	}{
		{"show bgp summary", routing("bgp-summary", "", "", "")},
		{"sh bgp n 169.254.0.2", routing("bgp-neighbor", "169.254.0.2", "", "")},
		{"show bgp neighbor", routing("bgp-neighbor", "", "", "")},
		{"show ospf neighbor", routing("ospf-neighbor", "", "", "")},
		{"sh ospf int", routing("ospf-interface", "", "", "")},
		{"show ospf3 neighbor", routing("ospf3-neighbor", "", "", "")},
		{"show route", routing("route", "", "", "")},
		{"show route protocol bgp", routing("route", "", "bgp", "")},
		{"show route 198.18.0.0/16 protocol static", routing("route", "", "static", "198.18.0.0/16")},
		{"show route 2001:db8::1", routing("route", "", "", "2001:db8::1")},
		{"show route advertising-protocol bgp 169.254.0.2", routing("route-advertising-protocol", "169.254.0.2", "", "")},
		{"sh route rec bgp 2001:db8:ffff::2", routing("route-receive-protocol", "2001:db8:ffff::2", "", "")},
		{"show bgp summary | display json", &mgmtpb.ShowRequest{Display: mgmtpb.Display_JSON, Command: routing("bgp-summary", "", "", "").Command}},
		{"clear bgp neighbor 169.254.0.2", nil},
	} {
		h := newHarness(t)
		h.mustRun(t, c.line)
		if c.want == nil {
			want := &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_BgpNeighbor{BgpNeighbor: &mgmtpb.ClearBGPNeighbor{Address: "169.254.0.2"}}}
			if len(h.op.clears) != 1 {
				t.Fatalf("%q: %d clear requests", c.line, len(h.op.clears))
			}
			assertProto(t, c.line, h.op.clears[0], want)
			continue
		}
		if len(h.op.shows) != 1 {
			t.Errorf("%q: %d show requests", c.line, len(h.op.shows))
			continue
		}
		assertProto(t, c.line, h.op.shows[0], c.want)
	}
}

func TestRoutingCommandErrors(t *testing.T) {
	for _, line := range []string{
		"show route protocol rip",
		"show route advertising-protocol ospf 169.254.0.2",
		"show route protocol bgp advertising-protocol bgp 169.254.0.2",
		"show bgp neighbor not-an-address",
		"clear bgp neighbor 300.1.1.1",
	} {
		h := newHarness(t)
		if _, errText := h.run(t, line); errText == "" || len(h.op.shows)+len(h.op.clears) != 0 {
			t.Errorf("%q parsed", line)
		}
	}
}
