package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/dataplane"
	"ipsecgw/test/uml"
)

// boot builds ipsecgw and the espinudp helper into a share directory, writes
// the cases' files there, runs the guest script in one UML boot and returns
// the script's output and the share directory.
func boot(t *testing.T, cs []interopCase) (output, share string) {
	t.Helper()
	bins := map[string]string{"ipsecgw/cmd/ipsecgw": "ipsecgw", "ipsecgw/test/uml/espinudp": "espinudp"}
	return bootGuest(t, bins,
		func(share string) error { return writeCases(share, cs) },
		func(share string) string { return guestScript(share, cs) })
}

// bootGuest builds bins (package → file name) into a fresh share
// directory, lets prepare write the cases' files there, and runs
// script(share) in one UML boot. A failed build, boot or guest script
// fails t; otherwise it returns the script's output and the share
// directory.
func bootGuest(t *testing.T, bins map[string]string, prepare func(share string) error, script func(share string) string) (output, share string) {
	t.Helper()
	uml.RequireUML(t)
	share = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	for pkg, bin := range bins {
		if err := uml.BuildStatic(ctx, pkg, filepath.Join(share, bin)); err != nil {
			t.Fatal(err)
		}
	}
	if err := prepare(share); err != nil {
		t.Fatal(err)
	}
	built := time.Now()
	// The timeout covers waiting for other packages' boots (they are
	// serialised machine-wide) as well as this one. The kernel cases take
	// about 2.5 min alone and took over 5 min at load average 22: the
	// bound is for a hung guest, not a slow one.
	res, err := uml.Run(ctx, script(share), uml.Options{ShareDir: share, Timeout: 9 * time.Minute})
	if err != nil {
		t.Fatalf("UML: %v", err)
	}
	t.Logf("build %v; UML %v (script started at guest uptime %v), exit %d",
		built.Sub(start).Round(time.Millisecond), res.Duration.Round(time.Millisecond), res.Boot, res.ExitCode)
	if res.ExitCode != 0 {
		t.Fatalf("guest script exit %d:\n%s", res.ExitCode, res.Output)
	}
	return res.Output, share
}

// TestKernelInterop proves ipsecgw's ESP and the Linux kernel's are the same
// protocol: for every case of cases (each ESP suite ipsecgw offers for manual
// SAs, IPv4 and IPv6 outer, raw ESP and ESP-in-UDP, with and without ESN),
// hosts behind the two gateways ping each other over IPv4 and IPv6 and
// move TCP both ways, and afterwards every packet one side sealed is one
// the other opened: packets, inner bytes and sequence numbers agree, and
// neither side counted an error. The wrong-key control shows the same
// comparison fails when the two sides do not agree.
func TestKernelInterop(t *testing.T) {
	out, share := boot(t, cases)
	g := parseOutput(out)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, ok := g.results[c.name]
			if !ok {
				t.Fatalf("no RESULT line for the case; output:\n%s", out)
			}
			t.Cleanup(func() {
				if t.Failed() {
					explain(t, g, share, c.name)
				}
			})
			t.Logf("%s s in the guest: %s", r["seconds"], strings.TrimPrefix(resultLine(r), "case="+c.name+" "))
			for _, k := range []string{"kernel", "daemon", "status"} {
				if r[k] != "ok" {
					t.Fatalf("%s=%s, want ok", k, r[k])
				}
			}
			if r["daemon-exit"] != "0" {
				t.Errorf("ipsecgw exited with status %s after SIGTERM, want 0", r["daemon-exit"])
			}
			cc, err := collect(g, c, i)
			if err != nil {
				t.Fatal(err)
			}
			if c.wrongKey {
				checkMismatch(t, r, cc)
			} else {
				checkTraffic(t, c, r, cc)
			}
		})
	}
}

// minTCPBytes is what one second of iperf3 must move each way: far more
// than any handful of stray packets, far less than UML moves (megabytes).
const minTCPBytes = 100_000

// checkTraffic: all traffic passed, and both sides' counters agree.
func checkTraffic(t *testing.T, c interopCase, r map[string]string, cc caseCounters) {
	for _, k := range []string{"ping4-out", "ping4-in", "ping6-out", "ping6-in"} {
		if r[k] != "ok" {
			t.Errorf("%s=%s: want every echo answered", k, r[k])
		}
	}
	for _, k := range []string{"tcp-out", "tcp-in"} {
		if n, err := strconv.ParseUint(r[k], 10, 64); err != nil || n < minTCPBytes {
			t.Errorf("%s=%s bytes over TCP to %s, want at least %d", k, r[k], r["tcp"], minTCPBytes)
		}
	}
	// ipsecgw → kernel, then kernel → ipsecgw.
	sealed, opened := cc.gwOut, cc.kernelIn
	if sealed.Counters.EncryptedPackets == 0 || sealed.Counters.EncryptedPackets != opened.packets {
		t.Errorf("ipsecgw → kernel: ipsecgw sealed %d packets, the kernel opened %d", sealed.Counters.EncryptedPackets, opened.packets)
	}
	if sealed.Counters.EncryptedBytes != opened.bytes {
		t.Errorf("ipsecgw → kernel: ipsecgw sealed %d inner bytes, the kernel opened %d", sealed.Counters.EncryptedBytes, opened.bytes)
	}
	if sealed.Sequence != opened.seq || sealed.Sequence != sealed.Counters.EncryptedPackets {
		t.Errorf("ipsecgw → kernel: ipsecgw sent up to sequence %d in %d packets, the kernel received up to %d",
			sealed.Sequence, sealed.Counters.EncryptedPackets, opened.seq)
	}
	if k, gw := cc.kernelOut, cc.gwIn; k.packets == 0 || k.packets != gw.Counters.DecryptedPackets || k.bytes != gw.Counters.DecryptedBytes || k.oseq != gw.Sequence {
		t.Errorf("kernel → ipsecgw: the kernel sealed %d packets (%d inner bytes, up to sequence %d), ipsecgw opened %d (%d bytes, up to %d)",
			k.packets, k.bytes, k.oseq, gw.Counters.DecryptedPackets, gw.Counters.DecryptedBytes, gw.Sequence)
	}
	for _, s := range []xfrmState{cc.kernelIn, cc.kernelOut} {
		if s.replay != 0 || s.failed != 0 {
			t.Errorf("kernel SA %s → %s: %d replayed, %d failed integrity checks, want none", s.src, s.dst, s.replay, s.failed)
		}
		if s.hasFlag("esn") != c.esn || (s.encap == "espinudp") != c.udp {
			t.Errorf("kernel SA %s → %s: flags %v, encapsulation %q; the case wants ESN %v, UDP %v", s.src, s.dst, s.flags, s.encap, c.esn, c.udp)
		}
	}
	// Every ESP packet gwk opened came in a UDP datagram its encap socket
	// took, or none did.
	if c.udp && cc.udpIn < cc.kernelIn.packets || !c.udp && cc.udpIn != 0 {
		t.Errorf("gwk received %d UDP datagrams for %d ESP packets; UDP encapsulation %v", cc.udpIn, cc.kernelIn.packets, c.udp)
	}
	if len(cc.kernelErrors) != 0 {
		t.Errorf("kernel XFRM error counters moved on gwk: %v", cc.kernelErrors)
	}
	if bad := errorCounters(cc.global); len(bad) != 0 {
		t.Errorf("ipsecgw error counters moved: %v", bad)
	}
}

// checkMismatch: with keys that differ, nothing passes and each side counts
// every packet of the other's as an integrity failure.
func checkMismatch(t *testing.T, r map[string]string, cc caseCounters) {
	for _, k := range []string{"ping4-out", "ping4-in"} {
		if r[k] != "fail" {
			t.Errorf("%s=%s through SAs whose keys differ, want fail", k, r[k])
		}
	}
	sent := cc.gwOut.Counters.EncryptedPackets
	if sent == 0 || cc.kernelIn.packets != 0 || cc.kernelIn.failed != sent || cc.kernelErrors["XfrmInStateProtoError"] != sent {
		t.Errorf("ipsecgw → kernel: ipsecgw sealed %d packets; the kernel opened %d, failed %d integrity checks, XfrmInStateProtoError moved %d; want 0 opened and every one failed",
			sent, cc.kernelIn.packets, cc.kernelIn.failed, cc.kernelErrors["XfrmInStateProtoError"])
	}
	in := cc.gwIn.Counters
	if cc.kernelOut.packets == 0 || in.DecryptedPackets != 0 || in.AuthFailures != cc.kernelOut.packets {
		t.Errorf("kernel → ipsecgw: the kernel sealed %d packets; ipsecgw opened %d, counted %d authentication failures; want 0 opened and every one failed",
			cc.kernelOut.packets, in.DecryptedPackets, in.AuthFailures)
	}
}

// caseCounters are both sides' view of one case's SA pair.
type caseCounters struct {
	kernelIn, kernelOut xfrmState         // gwa → gwk (the kernel opens), gwk → gwa (it seals)
	gwIn, gwOut         daemon.SAStatus   // ipsecgw's inbound and outbound SA
	global              dataplane.Stats   // ipsecgw's whole engine
	kernelErrors        map[string]uint64 // xfrm_stat counters that moved on gwk
	udpIn               uint64            // UDP datagrams gwk's sockets took
}

// collect reads a case's dumps and checks they describe exactly the SA pair
// the case configured.
func collect(g guestOutput, c interopCase, i int) (caseCounters, error) {
	var cc caseCounters
	sec := func(s string) string { return g.sections[c.name+" "+s] }
	gwa, gwk := c.outer()
	states, err := parseXfrmStates(sec("xfrm-state"))
	if err != nil {
		return cc, err
	}
	if len(states) != 2 {
		return cc, fmt.Errorf("gwk has %d SAs, want 2:\n%s", len(states), sec("xfrm-state"))
	}
	for _, s := range states {
		switch {
		case s.spi != c.spi(i):
			return cc, fmt.Errorf("gwk SA %s → %s has SPI %#x, want %#x", s.src, s.dst, s.spi, c.spi(i))
		case s.src == gwa && s.dst == gwk:
			cc.kernelIn = s
		case s.src == gwk && s.dst == gwa:
			cc.kernelOut = s
		default:
			return cc, fmt.Errorf("gwk SA %s → %s: want %s ↔ %s", s.src, s.dst, gwa, gwk)
		}
	}
	if cc.kernelIn.src == "" || cc.kernelOut.src == "" {
		return cc, fmt.Errorf("gwk lacks an SA for one direction:\n%s", sec("xfrm-state"))
	}

	var st daemon.Status
	if err := json.Unmarshal([]byte(sec("status")), &st); err != nil {
		return cc, fmt.Errorf("ipsecgw status.json: %w\n%s", err, sec("status"))
	}
	cc.global = st.Global
	if len(st.SAs) != 2 {
		return cc, fmt.Errorf("ipsecgw reports %d SAs, want 2: %+v", len(st.SAs), st.SAs)
	}
	for _, sa := range st.SAs {
		spi, err := strconv.ParseUint(sa.SPI, 0, 32)
		if err != nil || uint32(spi) != c.spi(i) || sa.Local != gwa || sa.Remote != gwk {
			return cc, fmt.Errorf("ipsecgw SA %s SPI %s %s ↔ %s: want SPI %#x %s ↔ %s", sa.Direction, sa.SPI, sa.Local, sa.Remote, c.spi(i), gwa, gwk)
		}
		switch sa.Direction {
		case "inbound":
			cc.gwIn = sa
		case "outbound":
			cc.gwOut = sa
		}
	}
	if cc.gwIn.Direction == "" || cc.gwOut.Direction == "" {
		return cc, fmt.Errorf("ipsecgw lacks an SA for one direction: %+v", st.SAs)
	}

	before, err := parseXfrmStat(sec("xfrm_stat-before"))
	if err != nil {
		return cc, err
	}
	after, err := parseXfrmStat(sec("xfrm_stat-after"))
	if err != nil {
		return cc, err
	}
	cc.kernelErrors = map[string]uint64{}
	for k, v := range after {
		if v != before[k] {
			cc.kernelErrors[k] = v - before[k]
		}
	}
	cc.udpIn, err = strconv.ParseUint(g.results[c.name]["udp-in"], 10, 64)
	if err != nil {
		return cc, fmt.Errorf("udp-in: %w", err)
	}
	return cc, nil
}

// errorCounters returns the engine counters that count a dropped or failed
// packet and are not zero.
func errorCounters(s dataplane.Stats) map[string]uint64 {
	m := map[string]uint64{}
	for name, v := range map[string]uint64{
		"esp-authentication-failures": s.AuthFailures, "replay-errors": s.ReplayErrors,
		"esp-decryption-failures": s.DecryptFailures, "bad-headers": s.BadHeaders, "bad-trailers": s.BadTrailers,
		"no-sa": s.NoSA, "no-outbound-sa": s.NoOutboundSA, "selector-mismatch": s.SelectorMismatch,
		"wrong-encapsulation": s.WrongEncapsulation, "sequence-exhausted": s.SequenceExhausted,
		"too-big": s.TooBig, "ecn-drops": s.ECNDrops, "send-errors": s.SendErrors,
		"tunnel-write-errors": s.TunnelWriteErrors, "internal-errors": s.InternalErrors,
	} {
		if v != 0 {
			m[name] = v
		}
	}
	return m
}

// resultLine prints a RESULT line's fields in a fixed order.
func resultLine(r map[string]string) string {
	var parts []string
	for _, k := range []string{"case", "ping4-out", "ping4-in", "ping6-out", "ping6-in", "tcp", "tcp-out", "tcp-in", "udp-in"} {
		if v, ok := r[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// explain logs what a failed case left behind: the kernel's SAs, ipsecgw's
// status, gwk's ip(8) errors and the end of the daemon's log.
func explain(t *testing.T, g guestOutput, share, name string) {
	t.Logf("ip -s xfrm state on gwk:\n%s", g.sections[name+" xfrm-state"])
	t.Logf("ipsecgw status.json:\n%s", g.sections[name+" status"])
	for _, f := range []string{"kernel.log", "daemon.log"} {
		b, err := os.ReadFile(filepath.Join(share, name, f))
		if err != nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		if len(b) > 16<<10 {
			b = append([]byte("[… earlier lines dropped …]\n"), b[len(b)-16<<10:]...)
		}
		t.Logf("%s:\n%s", f, b)
	}
}
