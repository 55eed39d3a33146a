package access

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	"ipsecgw/config/schema"
	"ipsecgw/mgmt/mgmtpb"
)

// fakeConfig and fakeOp answer every call: what reaches them was let
// through.
type fakeConfig struct{ mgmtpb.ConfigClient }
type fakeOp struct{ mgmtpb.OperationalClient }

func (fakeOp) Clear(context.Context, *mgmtpb.ClearRequest, ...grpc.CallOption) (*mgmtpb.ClearReply, error) {
	return &mgmtpb.ClearReply{}, nil
}

func TestClasses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		class              string
		configure, doClear bool
	}{
		{schema.ClassSuperUser, true, true},
		{schema.ClassOperator, false, true},
		{schema.ClassReadOnly, false, false},
	} {
		u := &schema.User{Name: "u", Class: tc.class}
		c := Config(fakeConfig{}, u)
		if _, ok := c.(namedConfig); ok != tc.configure {
			t.Errorf("%s: configuration client unwrapped = %v", tc.class, ok)
		}
		if !tc.configure {
			for name, call := range map[string]func() error{
				"edit":     func() error { _, err := c.Edit(ctx, &mgmtpb.EditRequest{}); return err },
				"load":     func() error { _, err := c.Load(ctx, &mgmtpb.LoadRequest{}); return err },
				"commit":   func() error { _, err := c.Commit(ctx, &mgmtpb.CommitRequest{Check: true}); return err },
				"rollback": func() error { _, err := c.Rollback(ctx, &mgmtpb.RollbackRequest{}); return err },
			} {
				if err := call(); !IsDenied(err) {
					t.Errorf("%s %s: %v", tc.class, name, err)
				}
			}
		}
		o := Operational(fakeOp{}, u)
		if _, ok := o.(fakeOp); ok != tc.configure {
			t.Errorf("%s: operational client unwrapped = %v", tc.class, ok)
		}
		if !tc.configure {
			if _, err := o.Request(ctx, &mgmtpb.CommandRequest{}); !IsDenied(err) {
				t.Errorf("%s request: %v", tc.class, err)
			}
		}
		if tc.doClear && !tc.configure {
			if _, err := o.Clear(ctx, &mgmtpb.ClearRequest{}); err != nil {
				t.Errorf("%s clear: %v", tc.class, err)
			}
		}
		if !tc.doClear {
			if _, err := o.Clear(ctx, &mgmtpb.ClearRequest{}); !IsDenied(err) || err.Error() != "rpc error: code = PermissionDenied desc = error: permission denied" {
				t.Errorf("%s clear: %v", tc.class, err)
			}
		}
	}
}
