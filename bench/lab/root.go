package lab

import (
	"fmt"
	"io"
	"os"
)

// NotRoot reports whether this program lacks root, and if so says loudly
// on w that the benchmark what was skipped and how to run it: a benchmark
// without root exits 0, but nobody can miss that it measured nothing.
func NotRoot(w io.Writer, what, how string) bool {
	if os.Geteuid() == 0 {
		return false
	}
	fmt.Fprintln(w, "########################################################################")
	fmt.Fprintf(w, "## SKIPPED: %s needs root (network namespaces).\n", what)
	fmt.Fprintf(w, "## Run %s as root.\n", how)
	fmt.Fprintln(w, "########################################################################")
	return true
}
