package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ipsecgw/daemon"
	"ipsecgw/test/uml"
)

// Debian 12's strongSwan (strongswan-charon, strongswan-swanctl,
// libstrongswan-standard-plugins for openssl), run inside the guest from
// the host's file system.
const (
	ssCharon    = "/usr/lib/ipsec/charon"
	ssPluginDir = "/usr/lib/ipsec/plugins"
)

// TestStrongswanKernelESP proves ipsecgw's IKEv2 and raw ESP interoperate
// with strongSwan 5.9 when strongSwan uses the kernel's ESP (kernel-netlink
// on the UML kernel's XFRM), not its userspace ESP (kernel-libipsec, which
// always puts ESP in UDP and is what the host-kernel tests must use). For
// each case of ssCases one side initiates IKEv2 with a pre-shared key
// (aes256-sha256-modp2048); both report the IKE SA up with that suite and
// a Child SA with aes256gcm16 in tunnel mode; neither side put ESP in UDP
// (ip xfrm state has no encap, swanctl shows neither a NAT port nor
// TUNNEL-in-UDP, ipsecgw logs udp=false); hosts behind the gateways ping
// each other both ways; in the quiet phase of those pings every packet one
// side sealed is one the other opened (ipsecgw's status.json against ip -s
// xfrm state: packets, inner bytes, sequence numbers), with no error
// counter moving on either side; and charon's own account of its Child SA
// (swanctl --list-sas) names ipsecgw's SPIs and totals.
func TestStrongswanKernelESP(t *testing.T) {
	uml.RequireUML(t)
	requireStrongswanBinaries(t)
	output, share := bootGuest(t, map[string]string{"ipsecgw/cmd/ipsecgw": "ipsecgw"},
		func(share string) error { return writeSsCases(share, ssCases) },
		func(share string) string { return ssGuestScript(share, ssCases) })
	g := parseOutput(output)
	for _, c := range ssCases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(share, c.name)
			r, ok := g.results[c.name]
			if !ok {
				t.Fatalf("no RESULT line for the case; guest output:\n%s", output)
			}
			t.Cleanup(func() {
				if t.Failed() {
					explainSs(t, output, dir, c.name)
				}
			})
			t.Logf("%s s in the guest: %v", r["seconds"], r)
			for _, k := range []string{"charon", "load", "daemon", "tunnel", "ping-out", "ping-in", "status"} {
				if r[k] != "ok" {
					t.Fatalf("%s=%s, want ok", k, r[k])
				}
			}
			if want := map[bool]string{true: "skip", false: "ok"}[c.ipsecgwInitiates]; r["initiate"] != want {
				t.Errorf("swanctl --initiate: %s, want %s", r["initiate"], want)
			}
			checkUnit(t, r, c.ipsecgwInitiates) // st0_script_test.go
			if r["daemon-exit"] != "0" {
				t.Errorf("ipsecgw exited with status %s after SIGTERM, want 0", r["daemon-exit"])
			}
			checkCharonBackend(t, dir)
			checkSsNegotiation(t, g, dir, c)
			checkSsCounters(t, g, c)
		})
	}
}

// requireStrongswanBinaries skips (or, under IPSECGW_REQUIRE_ROOT=1, fails)
// when charon, swanctl or a plugin of ssPlugins is missing on the host,
// whose file system the guest runs them from. Unlike package strongswan's
// Require it needs no root: charon runs as root inside the guest.
func requireStrongswanBinaries(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(ssCharon); err != nil {
		missing = append(missing, ssCharon)
	}
	if _, err := exec.LookPath("swanctl"); err != nil {
		missing = append(missing, "swanctl")
	}
	for _, p := range strings.Fields(ssPlugins) {
		if f := filepath.Join(ssPluginDir, "libstrongswan-"+p+".so"); !fileExists(f) {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing %s (make deps installs strongswan-charon, strongswan-swanctl and libstrongswan-standard-plugins)", strings.Join(missing, ", "))
	if os.Getenv("IPSECGW_REQUIRE_ROOT") == "1" {
		t.Fatalf("STRONGSWAN KERNEL-ESP INTEROP CANNOT RUN: %s", msg)
	}
	t.Skipf("SKIPPED STRONGSWAN KERNEL-ESP INTEROP: %s", msg)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loadedPluginsRE finds charon's start-up line listing what it loaded.
var loadedPluginsRE = regexp.MustCompile(`loaded plugins: (.*)`)

// checkCharonBackend: charon loaded kernel-netlink and not kernel-libipsec,
// so the SAs in gws's XFRM are charon's and nothing else carries ESP. (A
// charon with libipsec would also leave the kernel's SAD empty, which the
// counter checks would catch; this says why.)
func checkCharonBackend(t *testing.T, dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "charon.log"))
	if err != nil {
		t.Fatalf("charon.log: %v", err)
	}
	m := loadedPluginsRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("charon.log has no \"loaded plugins\" line")
	}
	plugins := strings.Fields(string(m[1]))
	if indexOf(plugins, "kernel-netlink") < 0 || indexOf(plugins, "kernel-libipsec") >= 0 {
		t.Errorf("charon loaded %v: want kernel-netlink and not kernel-libipsec", plugins)
	}
	for _, bad := range []string{"kernel-libipsec", "ipsec0"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("charon.log mentions %s: the userspace ESP backend was involved", bad)
		}
	}
}

// childUpRE is ipsecgw's log line for an installed Child SA (slog text).
var childUpRE = regexp.MustCompile(`msg="Child SA up".* udp=(\w+)`)

// checkSsNegotiation: both sides agree the IKE SA is up on port 500 with
// the configured suite, initiated by the side the case says, and the
// Child SA carries raw ESP with aes256gcm16.
func checkSsNegotiation(t *testing.T, g guestOutput, dir string, c ssCase) {
	sas := g.sections[c.name+" sas"]
	for _, want := range []string{
		"ESTABLISHED",
		fmt.Sprintf("local  '%s' @ %s[500]", gwkOuter4, gwkOuter4),
		fmt.Sprintf("remote '%s' @ %s[500]", gwaOuter4, gwaOuter4),
		ssIKEListed,
		"INSTALLED, TUNNEL, " + ssESPListed, // "TUNNEL-in-UDP, " with UDP encapsulation
		fmt.Sprintf("local  %s", h2Net4),
		fmt.Sprintf("remote %s", h1Net4),
	} {
		if !strings.Contains(sas, want) {
			t.Errorf("swanctl --list-sas lacks %q", want)
		}
	}
	if strings.Contains(sas, "-in-UDP") || strings.Contains(sas, "[4500]") {
		t.Errorf("swanctl --list-sas shows UDP encapsulation or NAT-T port 4500; want raw ESP on 500")
	}
	// The IKE SA's line names both SPIs, the initiator's "_i" and the
	// responder's "_r", and stars charon's own: "<spi>_i* <spi>_r" when
	// gws initiated, "<spi>_i <spi>_r*" when it responded.
	gwsInitiated := regexp.MustCompile(`_i\* [0-9a-f]+_r`).MatchString(sas)
	if gwsInitiated == c.ipsecgwInitiates {
		t.Errorf("swanctl --list-sas: gws initiated %v, want %v", gwsInitiated, !c.ipsecgwInitiates)
	}

	log, err := os.ReadFile(filepath.Join(dir, "daemon.log"))
	if err != nil {
		t.Fatalf("daemon.log: %v", err)
	}
	ups := childUpRE.FindAllSubmatch(log, -1)
	if len(ups) != 1 {
		t.Errorf("ipsecgw logged %d \"Child SA up\" lines, want 1", len(ups))
	}
	for _, m := range ups {
		if string(m[1]) != "false" {
			t.Errorf("ipsecgw logged a Child SA with udp=%s, want udp=false (raw ESP)", m[1])
		}
	}

	var st daemon.Status
	if err := json.Unmarshal([]byte(g.sections[c.name+" status-after"]), &st); err != nil {
		t.Fatalf("ipsecgw status.json: %v", err)
	}
	var up int
	for _, ike := range st.IKE {
		t.Logf("ipsecgw IKE SA: %+v", ike)
		if ike.State != "UP" || ike.Remote.String() != gwkOuter4 {
			continue
		}
		up++
		if ike.Initiator != c.ipsecgwInitiates {
			t.Errorf("ipsecgw IKE SA initiator=%v, want %v", ike.Initiator, c.ipsecgwInitiates)
		}
		if ike.Children != 1 {
			t.Errorf("ipsecgw IKE SA has %d Child SAs, want 1", ike.Children)
		}
		if got := [4]string{ike.Encryption, ike.Integrity, ike.PRF, ike.Group}; got != ssIPsecgwIKE {
			t.Errorf("ipsecgw IKE SA suite %v, want %v", got, ssIPsecgwIKE)
		}
	}
	if up != 1 {
		t.Errorf("ipsecgw has %d IKE SAs UP with %s, want 1 (failures %+v)", up, gwkOuter4, st.Failures)
	}
	if n := st.Global.WrongEncapsulation; n != 0 {
		t.Errorf("ipsecgw counted %d packets with the wrong encapsulation", n)
	}
}

// ssIPsecgwIKE is ssIKE as ipsecgw's status names it: encryption,
// integrity, PRF, group.
var ssIPsecgwIKE = [4]string{"aes256-cbc", "hmac-sha256-128", "hmac-sha256", "DH-group-14"}

// swanctlChildRE reads one direction of a Child SA from swanctl
// --list-sas: "in  c83b21ca,    924 bytes,    11 packets, ...".
var swanctlChildRE = regexp.MustCompile(`(?m)^\s+(in|out) +([0-9a-f]{8}), +(\d+) bytes, +(\d+) packets`)

// checkSwanctlCounters: what charon reports for its Child SA (read from
// the kernel after the quiet phase, with nothing crossing since) is what
// ipsecgw reports for the opposite direction: the same SPI, the same
// packets and inner bytes.
func checkSwanctlCounters(t *testing.T, sas string, after ssPair) {
	want := map[string]daemon.SAStatus{"in": after.gwOut, "out": after.gwIn}
	seen := map[string]bool{}
	for _, m := range swanctlChildRE.FindAllStringSubmatch(sas, -1) {
		dir, spi := m[1], m[2]
		bytes, _ := strconv.ParseUint(m[3], 10, 64)
		packets, _ := strconv.ParseUint(m[4], 10, 64)
		seen[dir] = true
		gw := want[dir]
		gwSPI, _ := strconv.ParseUint(gw.SPI, 0, 32)
		gwPackets, gwBytes := gw.Counters.EncryptedPackets, gw.Counters.EncryptedBytes
		if dir == "out" {
			gwPackets, gwBytes = gw.Counters.DecryptedPackets, gw.Counters.DecryptedBytes
		}
		if spi != fmt.Sprintf("%08x", gwSPI) || packets != gwPackets || bytes != gwBytes {
			t.Errorf("swanctl: %s SPI %s, %d packets, %d bytes; ipsecgw's %s SA: SPI %s, %d packets, %d bytes",
				dir, spi, packets, bytes, gw.Direction, gw.SPI, gwPackets, gwBytes)
		}
	}
	if !seen["in"] || !seen["out"] {
		t.Errorf("swanctl --list-sas shows no in and out counters for the Child SA")
	}
}

// ssPair is one snapshot's view of the Child SA on both sides.
type ssPair struct {
	kernelIn, kernelOut xfrmState // gwa → gws (the kernel opens), gws → gwa (it seals)
	gwIn, gwOut         daemon.SAStatus
	status              daemon.Status
	xfrmStat            map[string]uint64
}

// collectSs reads one snapshot ("before" or "after") and pairs the SAs by
// SPI: ipsecgw's outbound SPI is gws's inbound one and back.
func collectSs(g guestOutput, c ssCase, phase string) (ssPair, error) {
	var p ssPair
	sec := func(s string) string { return g.sections[c.name+" "+s+"-"+phase] }
	if err := json.Unmarshal([]byte(sec("status")), &p.status); err != nil {
		return p, fmt.Errorf("%s: ipsecgw status.json: %w\n%s", phase, err, sec("status"))
	}
	for _, sa := range p.status.SAs {
		if sa.Local != gwaOuter4 || sa.Remote != gwkOuter4 {
			return p, fmt.Errorf("%s: ipsecgw SA %s %s ↔ %s, want %s ↔ %s", phase, sa.Direction, sa.Local, sa.Remote, gwaOuter4, gwkOuter4)
		}
		switch sa.Direction {
		case "inbound":
			p.gwIn = sa
		case "outbound":
			p.gwOut = sa
		}
	}
	if len(p.status.SAs) != 2 || p.gwIn.Direction == "" || p.gwOut.Direction == "" {
		return p, fmt.Errorf("%s: ipsecgw reports SAs %+v, want one inbound and one outbound", phase, p.status.SAs)
	}
	states, err := parseXfrmStates(sec("xfrm-state"))
	if err != nil {
		return p, fmt.Errorf("%s: %w", phase, err)
	}
	if len(states) != 2 {
		return p, fmt.Errorf("%s: gws has %d SAs, want 2", phase, len(states))
	}
	spi := func(sa daemon.SAStatus) uint32 {
		v, _ := strconv.ParseUint(sa.SPI, 0, 32)
		return uint32(v)
	}
	for _, s := range states {
		switch {
		case s.src == gwaOuter4 && s.dst == gwkOuter4 && s.spi == spi(p.gwOut):
			p.kernelIn = s
		case s.src == gwkOuter4 && s.dst == gwaOuter4 && s.spi == spi(p.gwIn):
			p.kernelOut = s
		default:
			return p, fmt.Errorf("%s: gws SA %s → %s SPI %#x matches neither ipsecgw's outbound SPI %s nor its inbound %s",
				phase, s.src, s.dst, s.spi, p.gwOut.SPI, p.gwIn.SPI)
		}
	}
	if p.kernelIn.src == "" || p.kernelOut.src == "" {
		return p, fmt.Errorf("%s: gws lacks an SA for one direction", phase)
	}
	if p.xfrmStat, err = parseXfrmStat(sec("xfrm_stat")); err != nil {
		return p, fmt.Errorf("%s: gws: %w", phase, err)
	}
	return p, nil
}

// checkSsCounters: the kernel's SAs are raw ESP with the negotiated AEAD,
// and in the quiet phase what one side sealed the other opened.
func checkSsCounters(t *testing.T, g guestOutput, c ssCase) {
	before, err := collectSs(g, c, "before")
	if err != nil {
		t.Fatal(err)
	}
	after, err := collectSs(g, c, "after")
	if err != nil {
		t.Fatal(err)
	}
	if after.gwOut.SPI != before.gwOut.SPI || after.gwIn.SPI != before.gwIn.SPI {
		t.Fatalf("the SAs changed during the quiet phase: SPIs %s/%s, then %s/%s", before.gwOut.SPI, before.gwIn.SPI, after.gwOut.SPI, after.gwIn.SPI)
	}
	checkSwanctlCounters(t, g.sections[c.name+" sas"], after)
	dump := g.sections[c.name+" xfrm-state-after"]
	if strings.Count(dump, "aead "+ssKernelAEAD) != 2 || strings.Count(dump, ssKernelKeyICV) != 2 {
		t.Errorf("gws's states do not both use %s with a 256-bit key and 128-bit ICV %q", ssKernelAEAD, ssKernelKeyICV)
	}
	if strings.Count(dump, "mode tunnel") != 2 {
		t.Errorf("gws's states are not both tunnel mode")
	}
	for _, s := range []xfrmState{after.kernelIn, after.kernelOut} {
		if s.encap != "" {
			t.Errorf("gws SA %s → %s is encapsulated (%s); want raw ESP", s.src, s.dst, s.encap)
		}
		if s.replay != 0 || s.failed != 0 {
			t.Errorf("gws SA %s → %s: %d replayed, %d failed integrity checks, want none", s.src, s.dst, s.replay, s.failed)
		}
	}

	gwSealed := after.gwOut.Counters.EncryptedPackets - before.gwOut.Counters.EncryptedPackets
	gwSealedBytes := after.gwOut.Counters.EncryptedBytes - before.gwOut.Counters.EncryptedBytes
	kOpened := after.kernelIn.packets - before.kernelIn.packets
	kOpenedBytes := after.kernelIn.bytes - before.kernelIn.bytes
	t.Logf("ipsecgw → strongSwan: ipsecgw sealed %d packets (%d inner bytes), the kernel opened %d (%d); totals %d and %d",
		gwSealed, gwSealedBytes, kOpened, kOpenedBytes, after.gwOut.Counters.EncryptedPackets, after.kernelIn.packets)
	if gwSealed < pingPackets || gwSealed != kOpened || gwSealedBytes != kOpenedBytes {
		t.Errorf("ipsecgw → strongSwan in the quiet phase: ipsecgw sealed %d packets (%d inner bytes), the kernel opened %d (%d); want equal and at least %d",
			gwSealed, gwSealedBytes, kOpened, kOpenedBytes, pingPackets)
	}
	if after.gwOut.Sequence != after.kernelIn.seq {
		t.Errorf("ipsecgw → strongSwan: ipsecgw sent up to sequence %d, the kernel received up to %d", after.gwOut.Sequence, after.kernelIn.seq)
	}

	kSealed := after.kernelOut.packets - before.kernelOut.packets
	kSealedBytes := after.kernelOut.bytes - before.kernelOut.bytes
	gwOpened := after.gwIn.Counters.DecryptedPackets - before.gwIn.Counters.DecryptedPackets
	gwOpenedBytes := after.gwIn.Counters.DecryptedBytes - before.gwIn.Counters.DecryptedBytes
	t.Logf("strongSwan → ipsecgw: the kernel sealed %d packets (%d inner bytes), ipsecgw opened %d (%d); totals %d and %d",
		kSealed, kSealedBytes, gwOpened, gwOpenedBytes, after.kernelOut.packets, after.gwIn.Counters.DecryptedPackets)
	if kSealed < pingPackets || kSealed != gwOpened || kSealedBytes != gwOpenedBytes {
		t.Errorf("strongSwan → ipsecgw in the quiet phase: the kernel sealed %d packets (%d inner bytes), ipsecgw opened %d (%d); want equal and at least %d",
			kSealed, kSealedBytes, gwOpened, gwOpenedBytes, pingPackets)
	}
	if after.kernelOut.oseq != after.gwIn.Sequence {
		t.Errorf("strongSwan → ipsecgw: the kernel sent up to sequence %d, ipsecgw received up to %d", after.kernelOut.oseq, after.gwIn.Sequence)
	}

	// Error counters in the quiet phase, on both sides. Before it, packets
	// sent while the SAs were being installed may have been dropped.
	was, now := errorCounters(before.status.Global), errorCounters(after.status.Global)
	if len(was) != 0 {
		t.Logf("ipsecgw error counters before the quiet phase (tunnel set-up): %v", was)
	}
	for name, v := range now {
		if v != was[name] {
			t.Errorf("ipsecgw error counter %s moved from %d to %d in the quiet phase", name, was[name], v)
		}
	}
	for name, v := range after.xfrmStat {
		if v != before.xfrmStat[name] {
			t.Errorf("gws's XFRM error counter %s moved from %d to %d in the quiet phase", name, before.xfrmStat[name], v)
		}
	}
}

// explainSs logs what a failed case left behind: its part of the guest's
// output (RESULT, ip -s xfrm state, status.json, swanctl --list-sas, XFRM
// policies), then charon's log and ipsecgw's.
func explainSs(t *testing.T, output, dir, name string) {
	t.Logf("guest output of the case:\n%s", lswCaseOutput(output, name))
	for _, f := range []string{"stats.txt", "load-all.txt", "initiate.txt", "charon.out", "charon.log", "daemon.log"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			if !os.IsNotExist(err) {
				t.Logf("%s: %v", f, err)
			}
			continue
		}
		if len(b) > 24<<10 {
			b = append([]byte("[… earlier lines dropped …]\n"), b[len(b)-24<<10:]...)
		}
		t.Logf("%s:\n%s", f, b)
	}
}
