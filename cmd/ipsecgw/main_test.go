package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigCheckExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*/*")
	if len(files) < 8 {
		t.Fatalf("found %d example files", len(files))
	}
	code, out, errs := runCLI(append([]string{"config", "check", "--interface-map", "et-0/2/10=eth1,et-0/1/8=eth0"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if n := strings.Count(out, "configuration check succeeds"); n != len(files) {
		t.Fatalf("%d successes for %d files:\n%s", n, len(files), out)
	}
	if strings.Contains(out, "et-0/2/10 is a Junos interface name") {
		t.Fatal("mapped interface still reported as unmapped")
	}
}

func TestConfigCheckReportsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("security {\n    ike {\n        gateway g { ike-policy none; address 192.0.2.1; }\n    }\n}\n"), 0o600)
	code, _, errs := runCLI("config", "check", bad)
	want := "error: " + bad + ":3:32: security ike gateway g ike-policy: IKE policy none is not defined; expected the name of a policy under [edit security ike policy] (none are defined)\n"
	if code != 1 || errs != want {
		t.Fatalf("exit %d, stderr:\n%s\nwant:\n%s", code, errs, want)
	}
}

func TestConfigShowSetMatchesShippedFile(t *testing.T) {
	code, out, errs := runCLI("config", "show", "../../examples/seed004/peer1.conf", "--format", "set")
	want, _ := os.ReadFile("../../examples/seed004/peer1.set")
	if code != 0 || out != string(want) {
		t.Fatalf("exit %d (%s); output differs from peer1.set:\n%s", code, errs, out)
	}
}

func TestConfigCompare(t *testing.T) {
	code, out, _ := runCLI("config", "compare", "../../examples/seed004/peer1.conf", "../../examples/seed004/peer2.conf")
	if code != 0 || !strings.Contains(out, "[edit security ike gateway ike_gw]\n-   address 16.1.1.1;\n+   address 16.1.1.2;\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestUsageAndUnknown(t *testing.T) {
	if code, _, _ := runCLI(); code != 2 {
		t.Fatalf("no args: exit %d", code)
	}
	if code, _, errs := runCLI("frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: exit %d %s", code, errs)
	}
	if code, out, _ := runCLI("version"); code != 0 || !strings.HasPrefix(out, "ipsecgw ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := runCLI("config", "show", "--format", "xml", "x"); code != 2 || !strings.Contains(errs, "unknown format") {
		t.Fatalf("bad format: %d %s", code, errs)
	}
}

// TestSystemdUnitFlags: the unit file's ExecStart runs "ipsecgw daemon"
// with flags the daemon accepts.
func TestSystemdUnitFlags(t *testing.T) {
	b, err := os.ReadFile("../../dist/systemd/ipsecgw.service")
	if err != nil {
		t.Fatal(err)
	}
	var exec []string
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "ExecStart="); ok {
			exec = strings.Fields(rest)
		}
	}
	if len(exec) < 2 || !strings.HasSuffix(exec[0], "/ipsecgw") || exec[1] != "daemon" {
		t.Fatalf("ExecStart %q is not ipsecgw daemon", exec)
	}
	var errb bytes.Buffer
	fs, _ := daemonFlags(&errb)
	if err := fs.Parse(exec[2:]); err != nil || fs.NArg() != 0 {
		t.Fatalf("daemon flags %q: %v %s", exec[2:], err, errb.String())
	}
}
