package netconf

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// The network: a management client, gw1 (whose SSH and NETCONF doors are
// under test) and gw2, gw1's IKEv2 peer.
//
//	client 198.51.100.2/24 ── 198.51.100.1 gw1 192.0.2.1/24 ── 192.0.2.2 gw2
const gw1Address = "198.51.100.1"

// Passwords and their crypt(3) SHA-512 hashes, made by OpenSSL ("openssl
// passwd -6 -salt ..."), an implementation independent of the one
// ipsecgw checks them with.
const (
	alicePassword = "secret123"
	aliceHash     = "$6$saltsalt$4wxWeHqpAHNNJcQMSu6jvr3dQTQoGoqMQhPAP0o5Ygzna6vr4y0u6.EZzboAAqg6dXU4q/OfcYqdrvZixR76r0"
	bobPassword   = "bob-pw"
	bobHash       = "$6$bobsalt$rt.1WAPDQAm9w/bMx2NAc4Xf.JZ4.BiqVAcw2L1UeNjI8OkCzNXRPzkbFYvaOOnzK6liKZXUOSixQpLTF1l3K/"
)

type lab struct {
	t        *testing.T
	net      *netns.Net
	dir      string // keys, scripts
	key      string // alice's and bob's OpenSSH private key
	gw1, gw2 *daemon
}

type daemon struct {
	name     string
	stateDir string
	cmd      *exec.Cmd
}

// ikeConfig is gateway i's (0: gw1, the initiator; 1: gw2) IKEv2 VPN.
func ikeConfig(i int) string {
	me, peer := i+1, 2-i
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set system host-name gw%d", me)
	w("set interfaces gw%d-gw%d unit 0 family inet address 192.0.2.%d/24", me, peer, me)
	w("set interfaces st0 unit 1 family inet")
	w("set routing-options static route 198.18.%d.0/24 next-hop st0.1", peer)
	w("set security ike proposal ike_prop authentication-method pre-shared-keys")
	w("set security ike proposal ike_prop dh-group group19")
	w("set security ike proposal ike_prop authentication-algorithm sha-256")
	w("set security ike proposal ike_prop encryption-algorithm aes-256-gcm")
	w("set security ike policy ike_policy proposals ike_prop")
	w(`set security ike policy ike_policy pre-shared-key ascii-text "test123"`)
	w("set security ike gateway ike_gw ike-policy ike_policy")
	w("set security ike gateway ike_gw address 192.0.2.%d", peer)
	w("set security ike gateway ike_gw external-interface gw%d-gw%d", me, peer)
	w("set security ike gateway ike_gw version v2-only")
	w("set security ipsec proposal ipsec_prop protocol esp")
	w("set security ipsec proposal ipsec_prop encryption-algorithm aes-256-gcm")
	w("set security ipsec policy ipsec_policy proposals ipsec_prop")
	w("set security ipsec vpn ipsec_vpn bind-interface st0.1")
	w("set security ipsec vpn ipsec_vpn ike gateway ike_gw")
	w("set security ipsec vpn ipsec_vpn ike ipsec-policy ipsec_policy")
	if i == 0 {
		w("set security ipsec vpn ipsec_vpn establish-tunnels immediately")
	} else {
		w("set security ipsec vpn ipsec_vpn establish-tunnels responder-only")
	}
	return b.String()
}

// newLab builds the network, a key pair, and runs both gateways; gw1 with
// users alice (super-user: password and key) and bob (read-only: password
// and the same key), SSH on 22 and NETCONF on 830.
func newLab(t *testing.T) *lab {
	t.Helper()
	netns.RequireRoot(t)
	for _, bin := range []string{"/usr/bin/python3", "ssh", "ssh-keygen", "curl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is missing (scripts/install-test-deps.sh installs it): %v", bin, err)
		}
	}
	if out, err := exec.Command("/usr/bin/python3", "-c", "import jnpr.junos, ncclient").CombinedOutput(); err != nil {
		t.Fatalf("PyEZ and ncclient are missing (python3-junos-eznc, python3-ncclient; scripts/install-test-deps.sh installs them): %v\n%s", err, out)
	}
	n := netns.New(t, "client", "gw1", "gw2")
	n.Link("client", "c-gw1", "198.51.100.2/24", "gw1", "gw1-c", gw1Address+"/24")
	n.Link("gw1", "gw1-gw2", "", "gw2", "gw2-gw1", "")
	l := &lab{t: t, net: n, dir: t.TempDir()}
	l.key = filepath.Join(l.dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@client", "-f", l.key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(l.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	users := fmt.Sprintf(`set system login user alice class super-user
set system login user alice authentication encrypted-password "%s"
set system login user alice authentication ssh-ed25519 "%s"
set system login user bob class read-only
set system login user bob authentication encrypted-password "%s"
set system login user bob authentication ssh-ed25519 "%s"
set system services ssh port 22
set system services netconf ssh port 830
`, aliceHash, strings.TrimSpace(string(pub)), bobHash, strings.TrimSpace(string(pub)))
	l.gw2 = l.start("gw2", ikeConfig(1))
	l.gw1 = l.start("gw1", ikeConfig(0)+users, "--metrics-listen", "127.0.0.1:9478")
	l.waitPort("830")
	l.waitPort("22")
	return l
}

func (l *lab) start(name, config string, args ...string) *daemon {
	t := l.t
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ipsecgw.conf")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.net.Name(name), binary, "daemon", "--config", cfg,
		"--state-dir", dir, "--socket", filepath.Join(dir, "api.sock")}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{name: name, stateDir: dir, cmd: cmd}
	t.Cleanup(func() { l.stop(d); logf.Close() })
	return d
}

func (l *lab) log(d *daemon) string {
	b, _ := os.ReadFile(filepath.Join(d.stateDir, "daemon.log"))
	return string(b)
}

// stop sends SIGTERM by PID, then kills after a bounded wait.
func (l *lab) stop(d *daemon) {
	if d.cmd.Process == nil || d.cmd.ProcessState != nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			l.t.Errorf("%s exited with %v:\n%s", d.name, err, l.log(d))
		}
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
		l.t.Errorf("%s did not stop on SIGTERM:\n%s", d.name, l.log(d))
	}
}

// waitPort waits (bounded) until gw1 listens on TCP port.
func (l *lab) waitPort(port string) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _ := l.net.Try("gw1", "ss", "-Htln", "sport = :"+port)
		if strings.Contains(out, "LISTEN") {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("gw1 does not listen on port %s:\n%s", port, l.log(l.gw1))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cli runs "ipsecgw cli -c" against gw1's API (the local door, to check
// what the remote ones did).
func (l *lab) cli(command string) string {
	l.t.Helper()
	out, err := exec.Command(binary, "cli", "--socket", filepath.Join(l.gw1.stateDir, "api.sock"), "-c", command).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ipsecgw cli -c %q: %v\n%s", command, err, out)
	}
	return string(out)
}

// waitIKE waits (bounded) for gw1's IKE SA.
func (l *lab) waitIKE() {
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := l.cli("show security ipsec security-associations")
		if strings.Contains(out, "Total active tunnels: 1") {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("the tunnel did not come up:\n%s\ngw1:\n%s\ngw2:\n%s", out, l.log(l.gw1), l.log(l.gw2))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// python runs a Python script with Debian's interpreter in the client
// namespace, with args; it returns stdout and fails the test on error.
func (l *lab) python(script string, args ...string) string {
	l.t.Helper()
	file := filepath.Join(l.dir, "script.py")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.net.Name("client"), "timeout", "120", "/usr/bin/python3", file}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		l.t.Fatalf("python: %v\nstdout:\n%s\nstderr:\n%s\ngw1 log:\n%s", err, stdout.String(), stderr.String(), l.log(l.gw1))
	}
	return stdout.String()
}

// metric returns the lines of gw1's metrics that start with name.
func (l *lab) metric(name string) string {
	out, err := l.net.Try("gw1", "curl", "-sS", "--max-time", "5", "http://127.0.0.1:9478/metrics")
	if err != nil {
		l.t.Fatalf("metrics: %v\n%s", err, out)
	}
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, name) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
