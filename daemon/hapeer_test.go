package daemon

import (
	"net/netip"
	"testing"

	"ipsecgw/ike/ikev1"
	"ipsecgw/ike/ikev2"
)

// A takeover holds back the initiation of the peers it has SA state for,
// by gateway address and peer address: the gateway of another group (its
// own virtual IP) to the same peer address negotiates as usual, for
// either IKE version.
func TestHoldInitiationByLocalAndRemote(t *testing.T) {
	peer := netip.MustParseAddr("203.0.113.9")
	vip1, vip2 := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.20")
	r := &haResume{skipped: map[haPeer]bool{},
		states: []ikev2.State{{PeerAddr: peer, Local: netip.AddrPortFrom(vip1, 500)}}}
	s := &haSync{pending: map[int]*haResume{1: r}}
	s.v1.loaded = map[int]*haLoadedV1{1: {states: []ikev1.State{{PeerAddr: peer, Local: netip.AddrPortFrom(vip1, 4500)}}}}
	d := &Daemon{cluster: &clusterState{}}
	d.cluster.sync.Store(s)
	for _, version := range []int{1, 2} {
		clear(r.skipped)
		if d.haHoldInitiation(onTrafficPeer{version: version, local: vip2, remote: peer}) {
			t.Errorf("IKEv%d: the other group's gateway to %s is held back", version, peer)
		}
		if !d.haHoldInitiation(onTrafficPeer{version: version, local: vip1, remote: peer}) {
			t.Errorf("IKEv%d: the peer with SA state is not held back", version)
		}
		if want := map[haPeer]bool{{vip1, peer}: true}; len(r.skipped) != 1 || !r.skipped[haPeer{vip1, peer}] {
			t.Errorf("IKEv%d: skipped %v, want %v", version, r.skipped, want)
		}
	}
}
