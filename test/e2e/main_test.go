// Package e2e runs real ipsecgw daemons in network namespaces and sends real
// traffic through their tunnels. Everything here needs root.
package e2e

import (
	"os"
	"testing"

	"ipsecgw/test/netns"
)

// binary is the ipsecgw built once for the whole package.
var binary string

func TestMain(m *testing.M) { os.Exit(netns.MainWithBinary(m, "e2e", &binary)) }
