// Package routing runs ipsecgw's routing protocols (FRR, started and
// configured by ipsecgw) over its tunnels in network namespaces:
// BGP over IKEv2 between two ipsecgw gateways with both address families.
// Everything here needs root.
package routing

import (
	"os"
	"testing"

	"ipsecgw/test/netns"
)

// binary is the ipsecgw built once for the whole package.
var binary string

func TestMain(m *testing.M) { os.Exit(netns.MainWithBinary(m, "routing", &binary)) }
