package uml

import (
	"errors"
	"os"
	"testing"
)

// RequireUML skips a test that needs UML when Available says no, loudly. Under
// IPSECGW_REQUIRE_ROOT=1 (what "make test" sets when run as root, after its
// dependency step has installed user-mode-linux) a missing installation fails
// the test instead, so CI cannot pass by not running it. Root itself is not
// needed: UML runs as any user, and the script is root inside the guest.
func RequireUML(t testing.TB) {
	t.Helper()
	err := Available()
	if err == nil {
		return
	}
	if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" && errors.Is(err, ErrNotInstalled) {
		t.Fatalf("UML TEST CANNOT RUN: %v; IPSECGW_REQUIRE_ROOT=1 and `make test` installs user-mode-linux", err)
	}
	t.Skipf("SKIPPED UML TEST: %v", err)
}
