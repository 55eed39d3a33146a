package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// TestTwoVPNsWithAdditionalKEWithStrongSwan6: two VPNs on one IKEv2
// gateway whose IPsec policy has PFS x25519 and ML-KEM-768 after it
// (perfect-forward-secrecy additional-key-exchange), against one strongSwan
// 6 connection with two children proposing the same. IKE_AUTH makes the
// first Child SA (its keys from the IKE SA's); the CREATE_CHILD_SA of the
// second runs x25519 and then ML-KEM-768 in IKE_FOLLOWUP_KE (RFC 9370
// §2.2.4), whoever initiates. Both tunnels carry pings, so both sides
// derived the same keys; the show command names the key exchanges of the
// second's SAs.
func TestTwoVPNsWithAdditionalKEWithStrongSwan6(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require6(t)
	for _, ipsecgwInitiates := range []bool{true, false} {
		name := map[bool]string{true: "ipsecgw-initiates", false: "strongswan-initiates"}[ipsecgwInitiates]
		t.Run(name, func(t *testing.T) {
			tp, establish, start := newMultiVPNTopology(t, ipsecgwInitiates)
			tp.startOne(0, multiVPNConfig(establish)+
				"set security ipsec policy ipsec_policy perfect-forward-secrecy keys group31\n"+
				"set security ipsec policy ipsec_policy perfect-forward-secrecy additional-key-exchange ke1 mlkem768\n")
			child := func(n int, local, remote string) strongswan.Child {
				return strongswan.Child{Name: fmt.Sprintf("net%d", n), LocalTS: []string{local}, RemoteTS: []string{remote},
					ESPProposals: []string{"aes256gcm16-x25519-ke1_mlkem768"}, StartAction: start}
			}
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Strongswan6: true, Connections: []strongswan.Connection{{
				Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "multi-vpn-key",
				Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
				Children:  []strongswan.Child{child(1, "198.18.2.0/24", "198.18.1.0/24"), child(2, "198.18.3.0/24", "198.18.4.0/24")},
			}}})
			vpn1 := netns.Ping{Count: 3, Interval: 200 * time.Millisecond}
			vpn2 := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.4.2"}}
			back := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-I", "198.18.3.2"}}
			pingUntil(t, tp, charon, "h1", vpn1, "198.18.2.2")
			pingUntil(t, tp, charon, "h1", vpn2, "198.18.3.2")
			pingUntil(t, tp, charon, "h2", back, "198.18.4.2")

			ike := oneIKESAWithChildren(t, charon, "net1", "net2")
			// The CHILD SA the CREATE_CHILD_SA made has the PFS group (the
			// IKE_AUTH one has none); IKE_FOLLOWUP_KE ran for it.
			pfs := 0
			for _, c := range ike.Children {
				if strings.Contains(c.DHGroup, "CURVE_25519") {
					pfs++
				}
			}
			log := charon.Log()
			gen, parsed := strings.Count(log, "generating IKE_FOLLOWUP_KE"), strings.Count(log, "parsed IKE_FOLLOWUP_KE")
			if pfs != 1 || gen < 1 || parsed < 1 {
				t.Fatalf("charon: %d CHILD SAs with x25519 (want 1), IKE_FOLLOWUP_KE %d generated, %d parsed (want both): %+v\ncharon:\n%s\ngw1:\n%s",
					pfs, gen, parsed, ike.Children, log, tp.logOf(tp.gws[0]))
			}
			st := tp.status(tp.gws[0])
			if len(st.IKE) != 1 || st.IKE[0].Children != 2 {
				t.Fatalf("gw1 IKE SAs: %+v, want one with 2 Child SAs", st.IKE)
			}
			checkChildKEShow(t, tp, tp.gws[0], "DH-group-31", "ke1 ML-KEM-768") // childke_test.go
		})
	}
}
