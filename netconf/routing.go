package netconf

import "ipsecgw/mgmt/mgmtpb"

// The routing show RPCs (FRR's state, package show's routing layouts), in
// the RPC names and arguments of Junos.
func init() {
	routing := func(command string, build func(a map[string]string, q *mgmtpb.ShowRouting) *rpcError) func(map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
		return func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
			q := &mgmtpb.ShowRouting{Command: command}
			var rerr *rpcError
			if build != nil {
				rerr = build(a, q)
			}
			return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Routing{Routing: q}}, rerr
		}
	}
	showRPCs["get-bgp-summary-information"] = showRPC{build: routing("bgp-summary", nil)}
	showRPCs["get-bgp-neighbor-information"] = showRPC{values: []string{"neighbor-address"},
		build: routing("bgp-neighbor", func(a map[string]string, q *mgmtpb.ShowRouting) *rpcError {
			q.Address = a["neighbor-address"]
			return nil
		})}
	showRPCs["get-ospf-neighbor-information"] = showRPC{build: routing("ospf-neighbor", nil)}
	showRPCs["get-ospf3-neighbor-information"] = showRPC{build: routing("ospf3-neighbor", nil)}
	showRPCs["get-ospf-interface-information"] = showRPC{build: routing("ospf-interface", nil)}
	showRPCs["get-route-information"] = showRPC{
		values: []string{"destination", "protocol", "advertising-protocol-name", "receive-protocol-name", "neighbor", "peer"},
		build: routing("route", func(a map[string]string, q *mgmtpb.ShowRouting) *rpcError {
			q.Protocol, q.Prefix = a["protocol"], a["destination"]
			for _, kind := range []struct{ arg, neighbor, command string }{
				{"advertising-protocol-name", "neighbor", "route-advertising-protocol"},
				{"receive-protocol-name", "peer", "route-receive-protocol"},
			} {
				if !has(a, kind.arg) {
					continue
				}
				if a[kind.arg] != "bgp" || a[kind.neighbor] == "" {
					return &rpcError{Type: "protocol", Tag: "invalid-value", BadElement: kind.arg,
						Message: kind.arg + " is bgp, with the neighbor in <" + kind.neighbor + ">"}
				}
				q.Command, q.Address, q.Prefix = kind.command, a[kind.neighbor], ""
			}
			return nil
		})}
}
