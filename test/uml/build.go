package uml

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildStatic builds the Go package pkg (an import path in this module, such
// as "ipsecgw/cmd/ipsecgw") into the file out as a static binary
// (CGO_ENABLED=0), for the UML guest to run. The guest runs host binaries
// too, since its root is the host's, but a static one needs nothing from the
// host's libraries and can sit in a share directory.
func BuildStatic(ctx context.Context, pkg, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("uml: build %s: %w", pkg, err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("uml: go build %s (from %s): %w\n%s", pkg, workingDir(), err, b)
	}
	return nil
}

func workingDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	return wd
}
