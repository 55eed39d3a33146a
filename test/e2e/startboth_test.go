package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// TestBothSidesKeepUpWithStrongSwan: ipsecgw (establish-tunnels
// immediately) and strongSwan (start_action = start) both bring the
// tunnel up, at about the same time; whatever crossed (two IKE SAs, two
// Child SAs of one VPN), both sides end with one IKE SA and one CHILD SA
// per VPN, the same on both sides, carrying traffic. One VPN, and two
// VPNs on one gateway (the second VPN's Child SAs, on an IKE SA up, may
// be created by both at once).
func TestBothSidesKeepUpWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	for _, vpns := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d-vpns", vpns), func(t *testing.T) {
			tp, _, _ := newMultiVPNTopology(t, true)
			cfg := multiVPNConfig("immediately")
			children := []strongswan.Child{{Name: "net1", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
				ESPProposals: []string{"aes256gcm16"}, StartAction: "start"}}
			if vpns == 2 {
				children = append(children, strongswan.Child{Name: "net2", LocalTS: []string{"198.18.3.0/24"}, RemoteTS: []string{"198.18.4.0/24"},
					ESPProposals: []string{"aes256gcm16"}, StartAction: "start"})
			} else {
				cfg += "delete security ipsec vpn vpn2\n"
			}
			tp.startOne(0, cfg)
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{{
				Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "multi-vpn-key",
				Proposals: []string{"aes256gcm16-prfsha256-ecp256"}, Children: children,
			}}})
			names := []string{"net1", "net2"}[:vpns]
			settled := func() (string, bool) {
				sas, err := charon.ListSAs()
				if err != nil {
					return err.Error(), false
				}
				st := tp.status(tp.gws[0])
				what := fmt.Sprintf("strongSwan: %+v\nipsecgw: %+v", sas, st.IKE)
				if len(sas) != 1 || len(sas[0].Children) != vpns || len(st.IKE) != 1 || st.IKE[0].State != "UP" ||
					st.IKE[0].Children != vpns || len(st.SAs) != 2*vpns || st.IKE[0].InitiatorSPI != sas[0].InitiatorSPI {
					return what, false
				}
				for _, n := range names {
					if _, c, ok := strongswan.FindChild(sas, n); !ok || c.State != "INSTALLED" {
						return what, false
					}
				}
				return what, true
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				what, ok := settled()
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not one IKE SA with one CHILD SA per VPN on both sides:\n%s\ngw1:\n%s\ncharon:\n%s",
						what, tp.logOf(tp.gws[0]), charon.Log())
				}
				time.Sleep(200 * time.Millisecond)
			}
			pingUntil(t, tp, charon, "h1", netns.Ping{Count: 3, Interval: 200 * time.Millisecond}, "198.18.2.2")
			if vpns == 2 {
				pingUntil(t, tp, charon, "h1", netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.4.2"}}, "198.18.3.2")
			}
			// It stays so: a duplicate's DELETE comes seconds after both
			// are up, and must not take the survivor.
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
				if what, ok := settled(); !ok {
					t.Fatalf("no longer one IKE SA with one CHILD SA per VPN:\n%s\ngw1:\n%s\ncharon:\n%s", what, tp.logOf(tp.gws[0]), charon.Log())
				}
			}
			for _, l := range strings.Split(tp.logOf(tp.gws[0]), "\n") {
				if strings.Contains(l, "duplicate") {
					t.Log(l)
				}
			}
		})
	}
}
