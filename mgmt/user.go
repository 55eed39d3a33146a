package mgmt

import (
	"context"

	"google.golang.org/grpc/metadata"

	"ipsecgw/mgmt/mgmtpb"
)

// requestUser is the user a request names (mgmtpb.UserMetadata), "root"
// when none.
func requestUser(ctx context.Context) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(mgmtpb.UserMetadata); len(v) == 1 && v[0] != "" {
			return v[0]
		}
	}
	return "root"
}
