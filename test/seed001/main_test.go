// Package seed001 runs seed 001 (AS PIC IKE dynamic SAs, services
// ipsec-vpn rules, a next-hop service set, OSPF across the tunnel) on four
// network namespaces: ipsecgw on routers 2 and 3 with the seed's
// configurations, FRR's ospfd on all four. Everything here needs root.
package seed001

import (
	"os"
	"testing"

	"ipsecgw/test/netns"
)

// binary is the ipsecgw built once for the whole package.
var binary string

func TestMain(m *testing.M) { os.Exit(netns.MainWithBinary(m, "seed001", &binary)) }
