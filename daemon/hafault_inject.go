//go:build faultinject

package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Fault injection for root tests, compiled only with -tags faultinject
// (test/cluster builds such a binary for its fault tests; the product's
// binary has none of this). A file "faultinject" in the state directory
// makes the next reads of a taken-over group's SA state fail as an
// unreachable etcd would, at the exact moment between winning the group
// and reading its records:
//
//	sa-load-fail N    the next N reads fail (then they reach etcd again)
//	sa-load-fail all  every read fails

var errInjected = errors.New("etcdserver: request timed out (fault injected: etcd unreachable)")

var faultMu sync.Mutex

func init() {
	haLoadFault = func(stateDir string, srg int) error {
		faultMu.Lock()
		defer faultMu.Unlock()
		path := filepath.Join(stateDir, "faultinject")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		what, arg, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		if what != "sa-load-fail" {
			return nil
		}
		if arg == "all" {
			return errInjected
		}
		n, err := strconv.Atoi(arg)
		if err != nil || n <= 0 {
			return nil
		}
		os.WriteFile(path, []byte("sa-load-fail "+strconv.Itoa(n-1)+"\n"), 0o600)
		return errInjected
	}
}
