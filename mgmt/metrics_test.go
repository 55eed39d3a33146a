package mgmt

import (
	"maps"
	"testing"

	"ipsecgw/daemon"
	"ipsecgw/ike"
)

// TestSnapshotCarriesIKECounters: the IKE engines' counters in the status
// reach the metrics snapshot as they are.
func TestSnapshotCarriesIKECounters(t *testing.T) {
	st := daemon.Status{
		IKEDrops:     map[string]uint64{"malformed": 4, "unauthenticated": 1},
		IKEAbandoned: 3,
		IKE:          []ike.SAInfo{{State: "UP"}, {State: "UP"}},
	}
	s := snapshot(st)
	if !maps.Equal(s.IKEDrops, st.IKEDrops) || s.IKEAbandoned != 3 || s.IKESAs["up"] != 2 {
		t.Fatalf("snapshot: drops %v, abandoned %d, IKE SAs %v; want the status's %v, 3, 2 up",
			s.IKEDrops, s.IKEAbandoned, s.IKESAs, st.IKEDrops)
	}
}
