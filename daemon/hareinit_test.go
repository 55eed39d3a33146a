package daemon

import (
	"errors"
	"fmt"
	"testing"

	"ipsecgw/cluster"
)

// Each way a takeover can fail to resume a tunnel has its own cause, the
// same for IKEv1 and IKEv2 tunnels (both are resumed).
func TestReinitCause(t *testing.T) {
	unreadable := fmt.Errorf("cluster: %w: sa/1/ike/x does not open", cluster.ErrUnreadable)
	for _, c := range []struct {
		r    haResume
		imp  error
		want string
	}{
		{haResume{}, nil, "no-state"},
		{haResume{loadErr: errors.New("etcd down")}, nil, "state-unavailable"},
		{haResume{}, errors.New("gateway not configured"), "resume-failed"},
		{haResume{loadErr: errors.New("context deadline exceeded")}, nil, "state-unavailable"},
		{haResume{loadErr: unreadable}, nil, "state-unreadable"},
		{haResume{unreadable: 1}, nil, "state-unreadable"},
		{haResume{unreadable: 1}, errors.New("no such VPN"), "resume-failed"},
	} {
		if got, why := haReinitCause(&c.r, c.imp); got != c.want || why == "" {
			t.Errorf("%+v, import %v: %q (%q), want %q", c.r, c.imp, got, why, c.want)
		}
	}
}
