// Package netconf proves ipsecgw's SSH and NETCONF doors against the
// clients Junos users drive them with: Juniper's PyEZ and ncclient
// (Debian's python3-junos-eznc, python3-ncclient) and the OpenSSH client,
// with the daemons in network namespaces and a live IKEv2 tunnel whose SAs
// PyEZ reads. Everything here needs root.
package netconf

import (
	"os"
	"testing"

	"ipsecgw/test/netns"
)

// binary is the ipsecgw built once for the whole package.
var binary string

func TestMain(m *testing.M) { os.Exit(netns.MainWithBinary(m, "netconf", &binary)) }
