package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// libreswan 4.x cannot be installed next to strongSwan (the packages
// conflict), so the test downloads Debian's .deb files with apt-get
// download, unpacks them with dpkg -x into a tree under the cache, and runs
// pluto from there with LD_LIBRARY_PATH pointing into the tree.
const (
	libreswanCache = "/var/cache/ipsecgw-test/libreswan"
	libreswanTree  = libreswanCache + "/tree"
	libreswanLibs  = libreswanTree + "/usr/lib/x86_64-linux-gnu"
	libreswanExec  = libreswanTree + "/usr/libexec/ipsec"
)

// libreswanDebs are the packages unpacked into the tree: libreswan itself,
// its library dependencies a host with strongSwan lacks, and certutil
// (libnss3-tools) to create pluto's NSS database.
var libreswanDebs = []string{"libreswan", "libldns3", "libevent-pthreads-2.1-7", "libnss3-tools"}

// requireLibreswan makes sure the unpacked tree exists and its programs
// find every library, installing it when it is missing and this is root.
// Without it the test skips loudly, or fails under IPSECGW_REQUIRE_ROOT=1.
func requireLibreswan(t *testing.T) {
	t.Helper()
	if err := ensureLibreswan(); err != nil {
		if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" {
			t.Fatalf("LIBRESWAN INTEROP CANNOT RUN: %v", err)
		}
		t.Skipf("SKIPPED LIBRESWAN INTEROP: %v", err)
	}
}

func ensureLibreswan() error {
	if libreswanTreeUsable() == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("libreswan tree %s is missing and only root installs it", libreswanTree)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	debs := filepath.Join(libreswanCache, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return err
	}
	for _, pkg := range libreswanDebs {
		if m, _ := filepath.Glob(filepath.Join(debs, pkg+"_*.deb")); len(m) > 0 {
			continue
		}
		cmd := exec.CommandContext(ctx, "apt-get", "download", pkg)
		cmd.Dir = debs
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get download %s (needs Debian's mirror): %w\n%s", pkg, err, out)
		}
	}
	// Unpack aside and rename, so a run interrupted half-way (or another
	// engineer's run at the same time) never sees a partial tree.
	tmp, err := os.MkdirTemp(libreswanCache, "tree-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	all, _ := filepath.Glob(filepath.Join(debs, "*.deb"))
	for _, deb := range all {
		if out, err := exec.CommandContext(ctx, "dpkg", "-x", deb, tmp).CombinedOutput(); err != nil {
			return fmt.Errorf("dpkg -x %s: %w\n%s", deb, err, out)
		}
	}
	os.RemoveAll(libreswanTree)
	if err := os.Rename(tmp, libreswanTree); err != nil && libreswanTreeUsable() != nil {
		return err
	}
	return libreswanTreeUsable()
}

// libreswanTreeUsable says whether pluto, whack, addconn and certutil are
// in the tree and ldd finds all their libraries.
func libreswanTreeUsable() error {
	for _, p := range []string{libreswanExec + "/pluto", libreswanExec + "/whack", libreswanExec + "/addconn", libreswanTree + "/usr/bin/certutil"} {
		if _, err := os.Stat(p); err != nil {
			return err
		}
		cmd := exec.Command("ldd", p)
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+libreswanLibs)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "not found") {
			return fmt.Errorf("ldd %s: %v: a library is missing (check dpkg -I for Depends):\n%s", p, err, out)
		}
	}
	return nil
}

// makeNSSDB creates an empty NSS database for pluto (what "ipsec initnss"
// does), on the host: certutil is the tree's.
func makeNSSDB(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command(libreswanTree+"/usr/bin/certutil", "-N", "-d", "sql:"+dir, "--empty-password")
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+libreswanLibs)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("certutil -N -d sql:%s: %w\n%s", dir, err, out)
	}
	return nil
}
