package ike

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestEnginesImportNeitherEachOtherNorConfig: the shape this package's doc
// states, checked on the build graph: neither IKE engine depends on the
// other or on the configuration (the daemon resolves the configuration
// into a Peer).
func TestEnginesImportNeitherEachOtherNorConfig(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	for engine, other := range map[string]string{"ipsecgw/ike/ikev1": "ipsecgw/ike/ikev2", "ipsecgw/ike/ikev2": "ipsecgw/ike/ikev1"} {
		out, err := exec.Command(goTool, "list", "-deps", engine).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", engine, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed only %v", engine, deps)
		}
		for _, d := range deps {
			if d == other || d == "ipsecgw/config" || strings.HasPrefix(d, "ipsecgw/config/") || strings.HasPrefix(d, "ipsecgw/daemon") {
				t.Errorf("%s depends on %s", engine, d)
			}
		}
	}
}
