package netconf

import "ipsecgw/mgmt/mgmtpb"

// The chassis high-availability RPC of a cluster node (show chassis
// high-availability information).
func init() {
	showRPCs["get-chassis-high-availability-information"] = showRPC{build: func(map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
		return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_ChassisHighAvailability{
			ChassisHighAvailability: &mgmtpb.ChassisHighAvailability{}}}, nil
	}}
}
