package daemon

import (
	"errors"
	"fmt"
	"testing"

	"ipsecgw/cluster"
)

// Each way a takeover can fail to resume a tunnel has its own cause.
func TestReinitCause(t *testing.T) {
	unreadable := fmt.Errorf("cluster: %w: sa/1/ike/x does not open", cluster.ErrUnreadable)
	for _, c := range []struct {
		version int
		r       haResume
		imp     error
		want    string
	}{
		{2, haResume{}, nil, "no-state"},
		{1, haResume{loadErr: errors.New("etcd down")}, nil, "state-unavailable"}, // IKEv1 SAs are kept too (hasyncv1.go)
		{1, haResume{}, nil, "no-state"},
		{1, haResume{}, errors.New("gateway not configured"), "resume-failed"},
		{2, haResume{loadErr: errors.New("context deadline exceeded")}, nil, "state-unavailable"},
		{2, haResume{loadErr: unreadable}, nil, "state-unreadable"},
		{2, haResume{unreadable: 1}, nil, "state-unreadable"},
		{2, haResume{unreadable: 1}, errors.New("no such VPN"), "resume-failed"},
	} {
		if got, why := haReinitCause(c.version, &c.r, c.imp); got != c.want || why == "" {
			t.Errorf("version %d, %+v, import %v: %q (%q), want %q", c.version, c.r, c.imp, got, why, c.want)
		}
	}
}
