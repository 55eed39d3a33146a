package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// config check --node-id N checks what node N runs: its group's
// statements, errors pointing at the group; without it, no group.
func TestConfigCheckAsNode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.conf")
	os.WriteFile(file, []byte(`set groups node2 security ike gateway g ike-policy missing
set groups node2 security ike gateway g address 192.0.2.9
set apply-groups "${node}"
set chassis high-availability node 1
set chassis high-availability node 2
`), 0o600)
	code, out, errs := runCLI("config", "check", file)
	if code != 0 || !strings.Contains(out, "[edit chassis high-availability] accepted, not applied") {
		t.Fatalf("as a single gateway: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI("config", "check", "--node-id", "1", file); code != 0 {
		t.Fatalf("as node 1: exit %d\n%s", code, errs)
	}
	code, _, errs = runCLI("config", "check", "--node-id", "2", file)
	if code != 1 || !strings.Contains(errs, file+":1:52: security ike gateway g ike-policy: IKE policy missing is not defined") {
		t.Fatalf("as node 2: exit %d\n%s", code, errs)
	}
}

func TestDaemonClusterFlags(t *testing.T) {
	if code, _, errs := runCLI("daemon", "--node-id", "2"); code != 2 || !strings.Contains(errs, "--node-id needs --cluster-etcd") {
		t.Fatalf("--node-id alone: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI("daemon", "--cluster-etcd", "http://192.0.2.1:2379"); code != 2 || !strings.Contains(errs, "--cluster-etcd needs --node-id 1..255") {
		t.Fatalf("--cluster-etcd alone: exit %d %s", code, errs)
	}
}
