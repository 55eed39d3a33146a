package netconf

import "testing"

func TestChassisHighAvailabilityRPC(t *testing.T) {
	rpc, ok := showRPCs["get-chassis-high-availability-information"]
	if !ok {
		t.Fatal("no get-chassis-high-availability-information RPC")
	}
	req, rerr := rpc.build(nil)
	if rerr != nil || req.GetChassisHighAvailability() == nil {
		t.Fatalf("request %v, error %v", req, rerr)
	}
}
