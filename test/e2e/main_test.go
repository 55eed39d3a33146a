// Package e2e runs real ipsecgw daemons in network namespaces and sends real
// traffic through their tunnels. Everything here needs root.
package e2e

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
	dir, err := os.MkdirTemp("", "ipsecgw-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ipsecgw")
	out, err := exec.Command("go", "build", "-race", "-o", binary, "ipsecgw/cmd/ipsecgw").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ipsecgw: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
