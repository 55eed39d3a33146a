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
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"demo"}, []string{"IKE SA UP", "show security ike security-associations", "ESP:aes-gcm-256", "0 ESP errors"}},
		// Three nodes and an embedded etcd on 127.0.0.1 ports the kernel
		// picks, its data in the temporary directory: no privilege either.
		{[]string{"demo", "--scenario", "cluster"}, []string{"KILLED node", "sa-resumed", "on the same IKE SA: no new negotiation"}},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ipsecgw %s as nobody: %v\n%s", strings.Join(c.args, " "), err, out)
		}
		for _, want := range c.want {
			if !strings.Contains(string(out), want) {
				t.Fatalf("ipsecgw %s: output lacks %q:\n%s", strings.Join(c.args, " "), want, out)
			}
		}
	}
}
