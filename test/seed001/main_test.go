// Package seed001 runs seed 001 (AS PIC IKE dynamic SAs, services
// ipsec-vpn rules, a next-hop service set, OSPF across the tunnel) on four
// network namespaces: ipsecgw on routers 2 and 3 with the seed's
// configurations, FRR's ospfd on all four. Everything here needs root.
package seed001

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the ipsecgw built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		// The tests skip (or fail under IPSECGW_REQUIRE_ROOT=1) by themselves.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ipsecgw-seed001-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ipsecgw")
	out, err := exec.Command("go", "build", "-race", "-o", binary, "ipsecgw/cmd/ipsecgw").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ipsecgw: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
