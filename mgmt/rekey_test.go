package mgmt

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/mgmt/mgmtpb"
)

// TestRekeyRequests: "request security ike|ipsec security-associations
// rekey" through the API rekey the live SAs (new IKE SPIs, a new inbound
// SPI) and refuse what matches nothing or does not parse.
func TestRekeyRequests(t *testing.T) {
	gws := startGateways(t, nil)
	g := gws[0]
	first := waitUp(t, g, 0)
	ctx := context.Background()
	request := func(words ...string) (string, error) {
		r, err := g.op.Request(ctx, &mgmtpb.CommandRequest{Words: words})
		return r.GetOutput(), err
	}
	out, err := request("security", "ike", "security-associations", "rekey", "peer-address", "192.0.2.2")
	if err != nil || !strings.Contains(out, "Rekey started for 1 IKE security association") {
		t.Fatalf("IKE rekey: %q %v", out, err)
	}
	waitUp(t, g, first)
	inbound := func() string {
		for _, sa := range g.d.Status().SAs {
			if sa.Direction == "inbound" && sa.VPN == "ike" {
				return sa.SPI
			}
		}
		return ""
	}
	old := inbound()
	out, err = request("security", "ipsec", "security-associations", "rekey")
	if err != nil || !strings.Contains(out, "Rekey started for 1 IPsec security association") {
		t.Fatalf("IPsec rekey: %q %v", out, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for inbound() == old || inbound() == "" {
		if time.Now().After(deadline) {
			t.Fatalf("the Child SA was not rekeyed: %+v", g.d.Status().SAs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, tc := range []struct {
		code  codes.Code
		want  string
		words []string
	}{
		{codes.NotFound, "no established IKE security association to rekey with peer 203.0.113.9", []string{"security", "ike", "security-associations", "rekey", "peer-address", "203.0.113.9"}},
		{codes.NotFound, "no IKE SA with index 99", []string{"security", "ike", "security-associations", "rekey", "index", "99"}},
		{codes.NotFound, "no tunnel with index 99", []string{"security", "ipsec", "security-associations", "rekey", "index", "99"}},
		{codes.InvalidArgument, `unknown option "peer-address"`, []string{"security", "ipsec", "security-associations", "rekey", "peer-address", "192.0.2.2"}},
		{codes.InvalidArgument, `"x" is not an index`, []string{"security", "ike", "security-associations", "rekey", "index", "x"}},
		{codes.InvalidArgument, "index needs a value", []string{"security", "ike", "security-associations", "rekey", "index"}},
		{codes.InvalidArgument, `"nowhere" is not an IP address`, []string{"security", "ike", "security-associations", "rekey", "peer-address", "nowhere"}},
	} {
		_, err := request(tc.words...)
		if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %v %q", tc.words, err, tc.code, tc.want)
		}
	}
}
