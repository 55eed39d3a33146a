package frr

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ipsecgw/config"
	"ipsecgw/config/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// ifName is the daemon's naming: mapped physical interfaces, lo, and the
// tunnel interfaces under their own names ("/" becomes "-").
func ifName(u *schema.Unit) string {
	switch u.Interface.Kind {
	case schema.Physical, schema.Loopback:
		return u.Interface.HostName
	}
	return strings.ReplaceAll(u.Name(), "/", "-")
}

// load builds a configuration from one file, or several (joined: a set
// file and its continuation) separated by commas.
func load(t *testing.T, file string, ifmap map[string]string) *schema.Config {
	t.Helper()
	var src []byte
	for _, f := range strings.Split(file, ",") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	tree, err := config.Parse(file, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tree, schema.Options{InterfaceMap: ifmap})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRenderGolden renders configurations to FRR's language, compares them
// with the golden files, and has FRR's own vtysh check them (-C, a dry run
// through every daemon's command grammar) when it is installed.
func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		ifmap      map[string]string
		daemons    string
	}{
		{"cloud", "testdata/cloud.conf", nil, "zebra ospfd ospf6d bgpd bfdd"},
		{"seed001-r2", "../examples/seed001/r2.conf", map[string]string{"so-0/0/0": "r2-so0", "so-0/0/1": "r2-so1"}, "zebra ospfd"},
		// A cloud provider's "Juniper SRX" download as it comes (two
		// tunnels, BGP with local-as and no autonomous-system).
		{"cloud-srx", "../config/testdata/cloud/srx.set,../config/testdata/cloud/srx-bgp.set",
			map[string]string{"ge-0/0/0": "eth0", "ge-0/0/1": "eth1"}, "zebra bgpd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Render(load(t, tc.file, tc.ifmap), Options{IfName: ifName})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.Daemons, " "); got != tc.daemons {
				t.Errorf("daemons %q, want %q", got, tc.daemons)
			}
			golden := filepath.Join("testdata", tc.name+".frr")
			if *update {
				os.WriteFile(golden, []byte(r.Text), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != string(want) {
				t.Errorf("rendering differs from %s (go test -update to accept):\n%s", golden, r.Text)
			}
			vtyshCheck(t, r.Text)
		})
	}
}

// vtyshCheck runs FRR's dry run over a rendering.
func vtyshCheck(t *testing.T, text string) {
	t.Helper()
	vtysh, err := exec.LookPath("vtysh")
	if err != nil {
		t.Log("vtysh is not installed: the rendering is not checked by FRR")
		return
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "frr.conf")
	os.WriteFile(file, []byte(text), 0o644)
	os.WriteFile(filepath.Join(dir, "vtysh.conf"), nil, 0o644)
	out, err := exec.Command(vtysh, "--config_dir", dir, "-C", "-f", file).CombinedOutput()
	if err != nil {
		t.Errorf("vtysh -C refuses the rendering: %v\n%s", err, out)
	}
}

func TestRenderNothing(t *testing.T) {
	cfg := load(t, "../examples/seed001/r1.conf", map[string]string{"so-0/0/0": "r1-so0"})
	cfg.Routing = nil
	if r, err := Render(cfg, Options{IfName: ifName}); r != nil || err != nil {
		t.Fatalf("no routing rendered %v, %v", r, err)
	}
}

func TestRedact(t *testing.T) {
	r, err := Render(load(t, "testdata/cloud.conf", nil), Options{IfName: ifName})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "password juniper") || !strings.Contains(r.Text, "md5 juniper") {
		t.Fatalf("the keys are not in the rendering:\n%s", r.Text)
	}
	got := r.Redact("line 7: neighbor 169.254.10.1 password juniper")
	if strings.Contains(got, "juniper") || !strings.Contains(got, "$9$") {
		t.Fatalf("Redact: %q", got)
	}
}

func TestRefusal(t *testing.T) {
	log := "2026 INFO: Loading\n['router bgp 1\\n']\n% Can not configure the local system as neighbor\nline 2: Failure to communicate[13] to bgpd, line:  neighbor 192.0.2.1 remote-as 2\n\n"
	want := "% Can not configure the local system as neighbor; line 2: Failure to communicate[13] to bgpd, line:  neighbor 192.0.2.1 remote-as 2"
	if got := refusal(log); got != want {
		t.Fatalf("refusal:\n got %q\nwant %q", got, want)
	}
	if got := refusal("a\nb\nlast words"); got != "a\nb\nlast words" {
		t.Fatalf("refusal without vtysh messages: %q", got)
	}
}
