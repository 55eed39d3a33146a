package netns

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// MainWithBinary is the TestMain of a root-only test package that runs the
// ipsecgw binary: as root it builds ipsecgw once (with the race detector)
// into a temporary directory, sets *binary to it, runs the tests and
// removes it. Not as root the tests skip (or fail under
// IPSECGW_REQUIRE_ROOT=1) by themselves. It returns the exit code.
func MainWithBinary(m *testing.M, name string, binary *string) int {
	if os.Geteuid() != 0 {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "ipsecgw-"+name+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*binary = filepath.Join(dir, "ipsecgw")
	out, err := exec.Command("go", "build", "-race", "-o", *binary, "ipsecgw/cmd/ipsecgw").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ipsecgw: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
