package routing

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/frr"
	"ipsecgw/test/netns"
)

// providerFRR is a cloud provider's router: zebra and bgpd in a namespace,
// configured by the test with FRR's own language (the provider is not
// ipsecgw). Its directory holds the configuration, PID files and sockets,
// owned by the frr user the daemons run as.
type providerFRR struct {
	t     *testing.T
	name  string
	dir   string
	procs []*exec.Cmd
}

// startProviderFRR runs zebra and bgpd (and bfdd, with bfdConf) in ns.
func startProviderFRR(t *testing.T, n *netns.Net, ns, bgpConf, bfdConf string) *providerFRR {
	t.Helper()
	dir, err := os.MkdirTemp("", "routing-provider-"+ns+"-")
	if err != nil {
		t.Fatal(err)
	}
	p := &providerFRR{t: t, name: ns, dir: dir}
	t.Cleanup(p.stop)
	u, err := user.Lookup("frr")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	daemons := []string{"zebra", "bgpd"}
	files := map[string]string{"zebra.conf": "", "bgpd.conf": bgpConf}
	if bfdConf != "" {
		daemons = append(daemons, "bfdd")
		files["bfdd.conf"] = bfdConf
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chown(filepath.Join(dir, name), uid, gid)
	}
	os.Chown(dir, uid, gid)
	os.Chmod(dir, 0o755)
	zserv := filepath.Join(dir, "zserv.api")
	for _, d := range daemons {
		out, err := os.Create(filepath.Join(dir, d+".out"))
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"netns", "exec", n.Name(ns), filepath.Join(frr.DaemonDir, d),
			"-f", filepath.Join(dir, d+".conf"), "-i", filepath.Join(dir, d+".pid"), "-z", zserv,
			"--vty_socket", dir, "-P", "0"}
		if d == "bfdd" {
			args = append(args, "--bfdctl", filepath.Join(dir, "bfdd.sock"))
		}
		cmd := exec.Command("ip", args...)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out.Close()
		p.procs = append(p.procs, cmd)
		if d == "zebra" && !poll(10*time.Second, func() bool { _, err := os.Stat(zserv); return err == nil }) {
			t.Fatalf("%s: zebra did not open %s", ns, zserv)
		}
	}
	return p
}

func (p *providerFRR) vtysh(command string) string {
	out, _ := netns.Command("vtysh", "--vty_socket", p.dir, "-c", command)
	return out
}

// stop ends bgpd, then zebra, by PID.
func (p *providerFRR) stop() {
	for i := len(p.procs) - 1; i >= 0; i-- {
		cmd := p.procs[i]
		if cmd.Process == nil || cmd.ProcessState != nil {
			continue
		}
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(p.dir)
}

func (p *providerFRR) logs() string {
	var b strings.Builder
	for _, f := range []string{"zebra.out", "bgpd.out", "bfdd.out"} {
		text, _ := os.ReadFile(filepath.Join(p.dir, f))
		fmt.Fprintf(&b, "--- %s %s\n%s", p.name, f, tail(string(text), 20))
	}
	fmt.Fprintf(&b, "--- %s show bgp summary\n%s", p.name, p.vtysh("show bgp summary"))
	return b.String()
}
