package mgmt

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/mgmt/mgmtpb"
)

// "show | display inheritance" through the API, and the chassis
// high-availability commands on a gateway that is not in a cluster.
func TestInheritanceAndHighAvailabilityOnOneGateway(t *testing.T) {
	gws := startGateways(t, nil)
	g := gws[0]
	ctx := context.Background()
	if _, err := g.conf.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{
		"delete system host-name", "set groups names system host-name from-group", "set apply-groups names"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.conf.Commit(ctx, &mgmtpb.CommitRequest{}); err != nil {
		t.Fatal(err)
	}
	if g.d.Config().HostName != "from-group" {
		t.Fatalf("the daemon does not run the inherited host-name: %q", g.d.Config().HostName)
	}
	r, err := g.conf.Show(ctx, &mgmtpb.ShowConfigRequest{Database: mgmtpb.ConfigDatabase_COMMITTED,
		Path: []string{"system"}, Format: mgmtpb.ConfigFormat_INHERITANCE})
	if err != nil || r.Text != "##\n## 'from-group' was inherited from group 'names'\n##\nhost-name from-group;\n" {
		t.Fatalf("display inheritance: %v\n%s", err, r.GetText())
	}
	plain, _ := g.conf.Show(ctx, &mgmtpb.ShowConfigRequest{Database: mgmtpb.ConfigDatabase_COMMITTED, Path: []string{"system"}})
	if plain.Text != "" {
		t.Fatalf("plain show has inherited statements:\n%s", plain.Text)
	}
	_, err = g.op.Show(ctx, &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_ChassisHighAvailability{ChassisHighAvailability: &mgmtpb.ChassisHighAvailability{}}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "not part of a cluster") {
		t.Fatalf("show chassis high-availability on a single gateway: %v", err)
	}
	_, err = g.op.Request(ctx, &mgmtpb.CommandRequest{Words: []string{"chassis", "high-availability", "failover", "services-redundancy-group", "1"}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "not part of a cluster") {
		t.Fatalf("failover on a single gateway: %v", err)
	}
}
