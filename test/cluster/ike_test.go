package cluster

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/strongswan"
)

// ikeSeed adds to the cluster an IKEv2 VPN whose gateway's local-address
// is the virtual IP, to strongSwan on the client.
const ikeSeed = seed + `set interfaces st0 unit 1 family inet address 198.18.1.1/24
set routing-options static route 198.18.2.0/24 next-hop st0.1
set security ike proposal ike_prop authentication-method pre-shared-keys
set security ike proposal ike_prop dh-group group19
set security ike proposal ike_prop authentication-algorithm sha-256
set security ike proposal ike_prop encryption-algorithm aes-256-gcm
set security ike policy ike_policy proposals ike_prop
set security ike policy ike_policy pre-shared-key ascii-text "cluster test key"
set security ike gateway ike_gw ike-policy ike_policy
set security ike gateway ike_gw address 198.51.100.100
set security ike gateway ike_gw local-address 198.51.100.10
set security ike gateway ike_gw version v2-only
set security ipsec proposal ipsec_prop protocol esp
set security ipsec proposal ipsec_prop encryption-algorithm aes-128-gcm
set security ipsec policy ipsec_policy proposals ipsec_prop
set security ipsec vpn ipsec_vpn bind-interface st0.1
set security ipsec vpn ipsec_vpn ike gateway ike_gw
set security ipsec vpn ipsec_vpn ike ipsec-policy ipsec_policy
set security ipsec vpn ipsec_vpn establish-tunnels immediately
`

// TestIKEThroughVirtualIP: strongSwan on the client has a tunnel to the
// virtual IP; the owner is killed and the survivor, now the owner, brings
// the tunnel up again. The nodes have no cluster key in their state
// directories, so no SA state is kept in etcd: this is a new negotiation
// (new SPIs). With a key the survivor carries the SAs on
// (TestSAsSurviveFailover).
func TestIKEThroughVirtualIP(t *testing.T) {
	strongswan.Require(t)
	n, _, node := newCluster(t, ikeSeed)
	charon := startClient(t, n, vipConnection())
	n1 := node(1, true)
	tunnelUp := pingsThrough(n, "198.18.2.1", "198.18.1.1")
	waitFor(t, 30*time.Second, "the tunnel through the virtual IP carries traffic", tunnelUp, n1)
	first := ikeSPI(t, charon)
	n2 := node(2, false)
	time.Sleep(time.Second) // node 2 a member
	n1.stop(t, syscall.SIGKILL)
	took := waitFor(t, 3*ttl+20*time.Second, "the tunnel carries traffic again through node 2", tunnelUp, n2)
	second := ikeSPI(t, charon)
	t.Logf("tunnel back %v after SIGKILL of the owner (lease TTL %v); IKE SA %x then %x (a new negotiation: no cluster key, no SA state in etcd)",
		took.Round(time.Millisecond), ttl, first, second)
	if first == second {
		t.Fatalf("the same IKE SA %x: expected a new negotiation with node 2", first)
	}
}

// ikeSPI is strongSwan's established IKE SA's initiator SPI.
func ikeSPI(t *testing.T, c *strongswan.Charon) uint64 {
	t.Helper()
	sas, err := c.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	for _, sa := range sas {
		if strings.EqualFold(sa.State, "ESTABLISHED") {
			return sa.InitiatorSPI
		}
	}
	t.Fatalf("no established IKE SA: %+v", sas)
	return 0
}
