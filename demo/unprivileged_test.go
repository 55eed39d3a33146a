package demo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDemoRunsUnprivileged builds the ipsecgw binary and runs "ipsecgw demo"
// as the unprivileged user nobody, from a directory without the examples:
// the demo needs no root, no capability and no files. The test needs root
// to switch users; as an ordinary user the in-process tests already show it.
func TestDemoRunsUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running as an ordinary user already: the in-process demo tests cover it")
	}
	// t.TempDir's parent is private to root; nobody must reach the binary.
	dir, err := os.MkdirTemp("", "ipsecgw-demo-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ipsecgw")
	if out, err := exec.Command("go", "build", "-o", bin, "ipsecgw/cmd/ipsecgw").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "demo")
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ipsecgw demo as nobody: %v\n%s", err, out)
	}
	for _, want := range []string{"IKE SA UP", "show security ike security-associations", "ESP:aes-gcm-256", "0 ESP errors"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}
