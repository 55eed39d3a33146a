// Package access is what a login class may do through the management API.
// The API itself has no users (its unix socket is the daemon owner's); the
// doors that log users in (SSH to the CLI, NETCONF) hand their sessions
// these wrappers of the API clients, which refuse, with the Junos message,
// what the user's class may not do:
//
//	super-user  everything
//	operator    show and clear; no configuration change, no request
//	read-only   show only
//
// Reading the configuration (show configuration, get-config) is allowed to
// every class, as on Junos.
package access

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"ipsecgw/config/schema"
	"ipsecgw/mgmt/mgmtpb"
)

// Message is the text of every refusal, Junos's ("permission denied" is
// also what PyEZ recognises as its PermissionError).
const Message = "permission denied"

// Denied is the error of a refused request: gRPC PermissionDenied with the
// text the CLI prints, "error: permission denied".
func Denied() error { return status.Error(codes.PermissionDenied, "error: "+Message) }

// IsDenied reports whether err is a refusal of this package.
func IsDenied(err error) bool { return status.Code(err) == codes.PermissionDenied }

// Config returns c as user u may use it: a super-user's commits are
// recorded under their name; for the other classes every request that
// changes the candidate or commits is refused.
func Config(c mgmtpb.ConfigClient, u *schema.User) mgmtpb.ConfigClient {
	if u.MayConfigure() {
		return namedConfig{c, u}
	}
	return readOnlyConfig{c, u}
}

// namedConfig names its user in the requests that record one (commit).
type namedConfig struct {
	mgmtpb.ConfigClient
	u *schema.User
}

func (n namedConfig) Commit(ctx context.Context, req *mgmtpb.CommitRequest, opts ...grpc.CallOption) (*mgmtpb.CommitReply, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, mgmtpb.UserMetadata, n.u.Name)
	return n.ConfigClient.Commit(ctx, req, opts...)
}

type readOnlyConfig struct {
	mgmtpb.ConfigClient
	u *schema.User
}

func (r readOnlyConfig) deny() error { return Denied() }

func (r readOnlyConfig) Edit(context.Context, *mgmtpb.EditRequest, ...grpc.CallOption) (*mgmtpb.EditReply, error) {
	return nil, r.deny()
}

func (r readOnlyConfig) Load(context.Context, *mgmtpb.LoadRequest, ...grpc.CallOption) (*mgmtpb.EditReply, error) {
	return nil, r.deny()
}

func (r readOnlyConfig) Commit(context.Context, *mgmtpb.CommitRequest, ...grpc.CallOption) (*mgmtpb.CommitReply, error) {
	return nil, r.deny()
}

func (r readOnlyConfig) Rollback(context.Context, *mgmtpb.RollbackRequest, ...grpc.CallOption) (*mgmtpb.EditReply, error) {
	return nil, r.deny()
}

// Operational returns o as user u may use it: clear commands are refused
// to read-only users, request commands (request security pki: keys and
// files on the gateway) to all but super-users.
func Operational(o mgmtpb.OperationalClient, u *schema.User) mgmtpb.OperationalClient {
	if u.MayConfigure() {
		return o
	}
	return limitedOp{o, u}
}

type limitedOp struct {
	mgmtpb.OperationalClient
	u *schema.User
}

func (l limitedOp) Clear(ctx context.Context, req *mgmtpb.ClearRequest, opts ...grpc.CallOption) (*mgmtpb.ClearReply, error) {
	if !l.u.MayClear() {
		return nil, Denied()
	}
	return l.OperationalClient.Clear(ctx, req, opts...)
}

func (l limitedOp) Request(context.Context, *mgmtpb.CommandRequest, ...grpc.CallOption) (*mgmtpb.CommandReply, error) {
	return nil, Denied()
}
