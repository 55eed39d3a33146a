package uml

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// run boots one script and fails the test when the status did not come back.
func run(t *testing.T, script string, opts Options) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, script, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("UML: %v on the host clock, script started at guest uptime %v, exit %d", res.Duration.Round(time.Millisecond), res.Boot, res.ExitCode)
	if leaked := orphanedUML(t); len(leaked) > 0 {
		t.Errorf("UML processes left running after the boot: %v", leaked)
	}
	return res
}

// TestBootEcho proves a boot runs the script under the UML kernel (not the
// host's), brings its output and status back, and that the guest's writes to
// the share directory reach the host.
func TestBootEcho(t *testing.T) {
	RequireUML(t)
	rel, err := KernelRelease()
	if err != nil {
		t.Fatal(err)
	}
	var host unix.Utsname
	if err := unix.Uname(&host); err != nil {
		t.Fatal(err)
	}
	hostRel := unix.ByteSliceToString(host.Release[:])
	share := t.TempDir()

	res := run(t, `uname -r; echo hello; echo "pid1=$(cat /proc/1/comm)"; echo from-guest > "$UML_SHARE/note"; pwd`, Options{ShareDir: share})
	t.Logf("boot: %v total, %v to the script; output:\n%s", res.Duration.Round(time.Millisecond), res.Boot, res.Output)
	lines := strings.Split(strings.TrimSpace(res.Output), "\n")
	if res.ExitCode != 0 || len(lines) < 4 || lines[0] != rel || lines[1] != "hello" || lines[3] != share {
		t.Fatalf("exit %d, output %q; want exit 0 and %q, hello, pid1=…, %s\nconsole:\n%s", res.ExitCode, res.Output, rel, share, res.Console)
	}
	if rel == hostRel {
		t.Fatalf("UML release %s is the host's too: cannot tell the kernels apart", rel)
	}
	if b, err := os.ReadFile(filepath.Join(share, "note")); err != nil || string(b) != "from-guest\n" {
		t.Fatalf("share dir write from the guest: %q, %v; want \"from-guest\\n\" on the host", b, err)
	}

	res = run(t, "echo about to fail >&2; exit 3", Options{})
	if res.ExitCode != 3 || !strings.Contains(res.Output, "about to fail") {
		t.Fatalf("exit %d, output %q; want exit 3 and the stderr line", res.ExitCode, res.Output)
	}
}

// TestOnDemandModuleLoading proves the kernel's own module requests reach
// kmod/modprobe through kernel.modprobe: with nothing preloaded, creating a
// veth pair and a GCM SA pulls in veth, xfrm_user, esp4 and the GCM modules.
func TestOnDemandModuleLoading(t *testing.T) {
	RequireUML(t)
	script := `set -e
ip link add name v0 type veth peer name v1
ip xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x100 mode tunnel aead 'rfc4106(gcm(aes))' ` + key(36, 'a', 1) + ` 128
ip xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp spi 0x101 mode tunnel enc 'cbc(aes)' ` + key(32, 'a', 2) + ` auth-trunc 'hmac(sha256)' ` + key(32, 'a', 3) + ` 128
ip xfrm state list | grep -c "proto esp" | sed 's/^/states=/'
cut -d' ' -f1 /proc/modules | sort | tr '\n' ' '
`
	res := run(t, script, Options{Modules: []string{}})
	t.Logf("output:\n%s", res.Output)
	if res.ExitCode != 0 {
		t.Fatalf("script exit %d", res.ExitCode)
	}
	for _, m := range []string{"states=2", "veth", "xfrm_user", "esp4", "gcm", "ghash_generic", "seqiv", "authenc", "cbc", "hmac"} {
		if !strings.Contains(res.Output, m) {
			t.Errorf("output lacks %q", m)
		}
	}
}

// sa is one pair of tunnel-mode ESP SAs, a→b and b→a, with the policies that
// send traffic between two inner addresses through it.
type sa struct {
	name           string
	innerA, innerB string // /32 or /128 on each side's loopback
	outerA, outerB string // the veth addresses carrying ESP
	spiAB, spiBA   uint32
	reqid          int
	alg            func(dir byte) string // ip xfrm algorithm arguments, per direction
	extra          string                // more ip xfrm state arguments (flags, encap)
}

// key returns n bytes of key material as ip xfrm wants it; dir and the seed
// keep every SA's key different.
func key(n int, dir, seed byte) string {
	var b strings.Builder
	b.WriteString("0x")
	for i := range n {
		fmt.Fprintf(&b, "%02x", byte(i)*7+dir*31+seed)
	}
	return b.String()
}

var (
	gcm = func(dir byte) string {
		return "aead 'rfc4106(gcm(aes))' " + key(36, dir, 1) + " 128" // 256-bit key + 32-bit salt
	}
	cbcSHA256 = func(dir byte) string {
		return "enc 'cbc(aes)' " + key(32, dir, 2) + " auth-trunc 'hmac(sha256)' " + key(32, dir, 3) + " 128"
	}
	tripleDESSHA1 = func(dir byte) string {
		return "enc 'cbc(des3_ede)' " + key(24, dir, 4) + " auth 'hmac(sha1)' " + key(20, dir, 5)
	}
	chachaPoly = func(dir byte) string {
		return "aead 'rfc7539esp(chacha20,poly1305)' " + key(36, dir, 6) + " 128"
	}
)

const (
	outer4A, outer4B = "198.51.100.1", "198.51.100.2"
	outer6A, outer6B = "2001:db8:1::1", "2001:db8:1::2"
	pings            = 3
)

var sas = []sa{
	{name: "aes256gcm16-v4", innerA: "192.0.2.1", innerB: "203.0.113.1", outerA: outer4A, outerB: outer4B, spiAB: 0x1001, spiBA: 0x1002, reqid: 1, alg: gcm},
	{name: "aes256gcm16-v6", innerA: "2001:db8:a::1", innerB: "2001:db8:b::1", outerA: outer6A, outerB: outer6B, spiAB: 0x2001, spiBA: 0x2002, reqid: 2, alg: gcm},
	{name: "aes256-sha256-v4", innerA: "192.0.2.2", innerB: "203.0.113.2", outerA: outer4A, outerB: outer4B, spiAB: 0x3001, spiBA: 0x3002, reqid: 3, alg: cbcSHA256},
	{name: "3des-sha1-v6", innerA: "2001:db8:a::3", innerB: "2001:db8:b::3", outerA: outer6A, outerB: outer6B, spiAB: 0x4001, spiBA: 0x4002, reqid: 4, alg: tripleDESSHA1},
	{name: "chacha20poly1305-v4", innerA: "192.0.2.4", innerB: "203.0.113.4", outerA: outer4A, outerB: outer4B, spiAB: 0x5001, spiBA: 0x5002, reqid: 5, alg: chachaPoly},
	{name: "aes256gcm16-esn-v4", innerA: "192.0.2.5", innerB: "203.0.113.5", outerA: outer4A, outerB: outer4B, spiAB: 0x6001, spiBA: 0x6002, reqid: 6, alg: gcm,
		extra: "flag esn replay-window 128"},
	{name: "aes256-sha256-esn-v6", innerA: "2001:db8:a::6", innerB: "2001:db8:b::6", outerA: outer6A, outerB: outer6B, spiAB: 0x6003, spiBA: 0x6004, reqid: 9, alg: cbcSHA256,
		extra: "flag esn replay-window 64"}, // authencesn, the non-AEAD ESN path
	{name: "aes256gcm16-espinudp-v4", innerA: "192.0.2.6", innerB: "203.0.113.6", outerA: outer4A, outerB: outer4B, spiAB: 0x7001, spiBA: 0x7002, reqid: 7, alg: gcm,
		extra: "encap espinudp 4500 4500 0.0.0.0"},
	{name: "aes256gcm16-espinudp-v6", innerA: "2001:db8:a::7", innerB: "2001:db8:b::7", outerA: outer6A, outerB: outer6B, spiAB: 0x8001, spiBA: 0x8002, reqid: 8, alg: gcm,
		extra: "encap espinudp 4500 4500 ::"},
}

// espScript builds two namespaces a and b joined by veth, installs every SA
// pair of sas, pings through each, and dumps the SA counters before and
// after. Lines "PING name ok|FAIL" and sections "=== title" are parsed by the
// test.
func espScript(share string) string {
	var b strings.Builder
	b.WriteString(`set -eu
ip netns add a
ip netns add b
ip link add name va netns a type veth peer name vb netns b
for ns in a b; do ip -n $ns link set lo up; done
ip -n a addr add 198.51.100.1/24 dev va
ip -n b addr add 198.51.100.2/24 dev vb
ip -n a addr add 2001:db8:1::1/64 dev va nodad
ip -n b addr add 2001:db8:1::2/64 dev vb nodad
ip -n a link set va up
ip -n b link set vb up
ip -n a route add 203.0.113.0/24 via 198.51.100.2
ip -n b route add 192.0.2.0/24 via 198.51.100.1
ip -n a -6 route add 2001:db8:b::/48 via 2001:db8:1::2
ip -n b -6 route add 2001:db8:a::/48 via 2001:db8:1::1
`)
	fmt.Fprintf(&b, "SHARE=%s\n", shellQuote(share))
	for _, s := range sas {
		plen := "/32"
		if strings.Contains(s.innerA, ":") {
			plen = "/128"
		}
		fmt.Fprintf(&b, "\n# %s, reqid %d\n", s.name, s.reqid)
		fmt.Fprintf(&b, "ip -n a addr add %s%s dev lo\nip -n b addr add %s%s dev lo\n", s.innerA, plen, s.innerB, plen)
		for _, ns := range []string{"a", "b"} {
			fmt.Fprintf(&b, "ip -n %s xfrm state add src %s dst %s proto esp spi %#x reqid %d mode tunnel %s %s\n", ns, s.outerA, s.outerB, s.spiAB, s.reqid, s.alg('a'), s.extra)
			fmt.Fprintf(&b, "ip -n %s xfrm state add src %s dst %s proto esp spi %#x reqid %d mode tunnel %s %s\n", ns, s.outerB, s.outerA, s.spiBA, s.reqid, s.alg('b'), s.extra)
		}
		policy := func(ns, src, dst, dir, tsrc, tdst string) {
			fmt.Fprintf(&b, "ip -n %s xfrm policy add src %s dst %s dir %s tmpl src %s dst %s proto esp reqid %d mode tunnel\n", ns, src, dst, dir, tsrc, tdst, s.reqid)
		}
		policy("a", s.innerA, s.innerB, "out", s.outerA, s.outerB)
		policy("a", s.innerB, s.innerA, "in", s.outerB, s.outerA)
		policy("b", s.innerB, s.innerA, "out", s.outerB, s.outerA)
		policy("b", s.innerA, s.innerB, "in", s.outerA, s.outerB)
	}
	// ESP-in-UDP is only decapsulated where a socket with UDP_ENCAP holds
	// the port, as the IKE daemon's would.
	b.WriteString(`
for ns in a b; do
	ip netns exec $ns "$SHARE/espinudp" -ready "$SHARE/ready-$ns" > "$SHARE/espinudp-$ns.log" 2>&1 &
done
for i in $(seq 50); do [ -e "$SHARE/ready-a" ] && [ -e "$SHARE/ready-b" ] && break; sleep 0.1; done
[ -e "$SHARE/ready-a" ] && [ -e "$SHARE/ready-b" ] || { echo "espinudp did not start"; cat "$SHARE"/espinudp-*.log; exit 1; }
echo "=== before a"
ip -n a -s xfrm state
set +e
`)
	for _, s := range sas {
		fmt.Fprintf(&b, "if ip netns exec a ping -c %d -i 0.2 -W 2 -I %s %s > /tmp/ping 2>&1; then echo \"PING %s ok\"; else echo \"PING %s FAIL\"; cat /tmp/ping; fi\n",
			pings, s.innerA, s.innerB, s.name, s.name)
	}
	b.WriteString(`echo "=== after a"
ip -n a -s xfrm state
echo "=== after b"
ip -n b -s xfrm state
echo "=== xfrm_stat a"
ip netns exec a cat /proc/net/xfrm_stat
echo "=== xfrm_stat b"
ip netns exec b cat /proc/net/xfrm_stat
echo "=== crypto"
sed -n 's/^driver *: //p' /proc/crypto | sort -u
echo "=== modules"
cut -d' ' -f1 /proc/modules | sort | tr '\n' ' '
echo
echo "=== end"
`)
	return b.String()
}

// sections splits output at "=== title" lines.
func sections(out string) map[string]string {
	m := map[string]string{}
	title := ""
	for _, line := range strings.SplitAfter(out, "\n") {
		if t, ok := strings.CutPrefix(line, "=== "); ok {
			title = strings.TrimSpace(t)
			continue
		}
		m[title] += line
	}
	return m
}

// saBlocks splits `ip -s xfrm state` output into one block per SPI.
func saBlocks(dump string) map[uint32]string {
	m := map[uint32]string{}
	var spi uint32
	head := "" // the "src … dst …" line that opens each block
	for _, line := range strings.SplitAfter(dump, "\n") {
		if strings.HasPrefix(line, "src ") {
			spi, head = 0, line
			continue
		}
		if _, rest, ok := strings.Cut(line, "proto esp spi "); ok {
			// "0x00001001(4097) reqid 1(0x00000001) …" under -s.
			hex, _, _ := strings.Cut(strings.Fields(rest)[0], "(")
			v, err := strconv.ParseUint(strings.TrimPrefix(hex, "0x"), 16, 32)
			if err == nil {
				spi = uint32(v)
				m[spi] += head
			}
		}
		if spi != 0 {
			m[spi] += line
		}
	}
	return m
}

// packets returns the "lifetime current" packet count of an SA block.
func packets(block string) (int, bool) {
	_, rest, ok := strings.Cut(block, "lifetime current:")
	if !ok {
		return 0, false
	}
	var bytes, pkts int
	if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d(bytes), %d(packets)", &bytes, &pkts); err != nil {
		return 0, false
	}
	return pkts, true
}

// TestKernelESPBetweenNamespaces proves the UML kernel's XFRM carries
// tunnel-mode ESP between two namespaces for every algorithm family ipsecgw
// will interoperate with, over IPv4 and IPv6, with ESN and with ESP-in-UDP:
// the environment the kernel-interop tests build on.
func TestKernelESPBetweenNamespaces(t *testing.T) {
	RequireUML(t)
	share := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := BuildStatic(ctx, "ipsecgw/test/uml/espinudp", filepath.Join(share, "espinudp")); err != nil {
		t.Fatal(err)
	}
	res := run(t, espScript(share), Options{ShareDir: share})
	if res.ExitCode != 0 {
		t.Fatalf("script exit %d:\n%s", res.ExitCode, res.Output)
	}
	sec := sections(res.Output)
	before, afterA, afterB := saBlocks(sec["before a"]), saBlocks(sec["after a"]), saBlocks(sec["after b"])
	for _, s := range sas {
		if !strings.Contains(res.Output, "PING "+s.name+" ok") {
			t.Errorf("%s: ping through the tunnel failed", s.name)
		}
		for _, spi := range []uint32{s.spiAB, s.spiBA} {
			if n, ok := packets(before[spi]); !ok || n != 0 {
				t.Errorf("%s: SPI %#x in a before the pings: %d packets (found %v), want 0", s.name, spi, n, ok)
			}
			for ns, after := range map[string]map[uint32]string{"a": afterA, "b": afterB} {
				if n, ok := packets(after[spi]); !ok || n < pings {
					t.Errorf("%s: SPI %#x in %s after %d pings: %d packets (found %v), want ≥ %d", s.name, spi, ns, pings, n, ok, pings)
				}
			}
		}
		block := afterA[s.spiAB]
		if strings.Contains(s.extra, "esn") {
			if !strings.Contains(block, "flag esn") || !strings.Contains(block, "anti-replay esn context") {
				t.Errorf("%s: SA does not show ESN:\n%s", s.name, block)
			}
			t.Logf("%s SA a→b after the pings:\n%s", s.name, block)
		}
		if strings.Contains(s.extra, "espinudp") && !strings.Contains(block, "encap type espinudp sport 4500 dport 4500") {
			t.Errorf("%s: SA does not show ESP-in-UDP encapsulation:\n%s", s.name, block)
		}
	}
	t.Logf("xfrm_stat a:\n%s", sec["xfrm_stat a"])
	t.Logf("crypto drivers: %s", strings.Join(strings.Fields(sec["crypto"]), " "))
	t.Logf("modules loaded: %s", sec["modules"])
	if t.Failed() {
		t.Logf("output:\n%s", res.Output)
	}
}

// TestTUNAndStaticGoBinary proves what ipsecgw needs to run inside the guest:
// TUN devices can be created (in the root namespace and in a named one), and
// a static Go binary built on the host runs there. tun is left out of the
// preloaded modules to show how /dev/net/tun appears.
func TestTUNAndStaticGoBinary(t *testing.T) {
	RequireUML(t)
	share := t.TempDir()
	bin := filepath.Join(share, "espinudp")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := BuildStatic(ctx, "ipsecgw/test/uml/espinudp", bin); err != nil {
		t.Fatal(err)
	}
	if err := checkStatic(bin); err != nil {
		t.Fatal(err)
	}
	var mods []string
	for _, m := range DefaultModules {
		if m != "tun" {
			mods = append(mods, m)
		}
	}
	script := `node() { if [ -c /dev/net/tun ]; then echo present; else echo absent; fi; }
echo "tun-node-before=$(node)"
set -e
modprobe tun
echo "tun-node-after=$(node)"
ls -l /dev/net/tun
ip tuntap add mode tun name t0
ip addr add 192.0.2.1/24 dev t0
ip link set t0 up
ip -d link show t0
ip netns add x
ip -n x tuntap add mode tun name t1
ip -n x link set t1 up
ip -n x -d link show t1
"$UML_SHARE/espinudp" -port 4500 -ready "$UML_SHARE/ready" &
pid=$!
for i in $(seq 50); do [ -e "$UML_SHARE/ready" ] && break; sleep 0.1; done
[ -e "$UML_SHARE/ready" ]
ss -uln | grep -c ':4500 ' | sed 's/^/sockets-on-4500=/'
kill $pid
echo "go-binary=ran"
`
	res := run(t, script, Options{ShareDir: share, Modules: mods})
	t.Logf("output:\n%s", res.Output)
	if res.ExitCode != 0 {
		t.Fatalf("script exit %d", res.ExitCode)
	}
	for _, want := range []string{"tun-node-after=present", "crw", "10, 200",
		// Up, and without carrier until a process attaches, as ipsecgw will.
		"t0: <NO-CARRIER,POINTOPOINT,MULTICAST,NOARP,UP>", "tun type tun", "t1: <", "sockets-on-4500=2", "go-binary=ran"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// checkStatic fails for an ELF file that asks for a dynamic loader.
func checkStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (has PT_INTERP); want CGO_ENABLED=0 static", file)
		}
	}
	return nil
}

// TestTimeoutKillsEveryUMLProcess proves a script that outlives its timeout
// comes back as an error carrying its output so far, and that no UML process
// (the kernel or its per-guest-process helpers) survives the boot.
func TestTimeoutKillsEveryUMLProcess(t *testing.T) {
	RequireUML(t)
	start := time.Now()
	res, err := Run(context.Background(), "echo started; sleep 600", Options{Timeout: 8 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 8s") {
		t.Fatalf("Run of a script that sleeps past its timeout: err = %v, want \"did not finish within 8s\"", err)
	}
	if res.Output != "started\n" {
		t.Errorf("output so far %q, want \"started\\n\"", res.Output)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Run took %v to give up after an 8s timeout", d)
	}
	if leaked := orphanedUML(t); len(leaked) > 0 {
		t.Fatalf("UML processes left running after the timeout: %v", leaked)
	}
}

// orphanedUML lists processes running the UML kernel for a run directory
// that no longer exists: every boot's run directory is removed once its
// processes are gone, so a match is a leak. Boots in other test processes
// still have their directories and are not counted.
func orphanedUML(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var leaked []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range strings.Split(string(cmdline), "\x00") {
			dir, ok := strings.CutPrefix(arg, "uml_dir=")
			if !ok || !strings.Contains(dir, "ipsecgw-uml-") {
				continue
			}
			if _, err := os.Stat(dir); os.IsNotExist(err) {
				leaked = append(leaked, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
	}
	return leaked
}
