package interop

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"ipsecgw/daemon"
	"ipsecgw/test/uml"
)

// TestLibreswanInterop proves ipsecgw's IKEv2 and ESP interoperate with a
// second independent implementation, libreswan 4.x (Debian 12's pluto on
// the UML kernel's XFRM): for each case of lswCases, one side initiates
// IKEv2 with a pre-shared key (or certificates: libreswan_cert_test.go),
// both report the IKE SA up, hosts behind the gateways ping each other
// through the negotiated raw-ESP Child SA, and in the quiet phase of those
// pings every packet one side sealed is one the other opened.
func TestLibreswanInterop(t *testing.T) {
	uml.RequireUML(t)
	requireLibreswan(t)
	output, _ := bootGuest(t, map[string]string{"ipsecgw/cmd/ipsecgw": "ipsecgw"},
		func(share string) error { return writeLswCases(share, lswCases) },
		func(share string) string { return lswGuestScript(share, lswCases) })
	g := parseOutput(output)
	for _, c := range lswCases {
		t.Run(c.name, func(t *testing.T) {
			r, ok := g.results[c.name]
			if !ok {
				t.Fatalf("no RESULT line for the case; output:\n%s", output)
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("guest output of the case:\n%s", lswCaseOutput(output, c.name))
				}
			})
			t.Logf("%s s in the guest: %v", r["seconds"], r)
			if c.cert && r["daemon-setup"] != "ok" {
				t.Fatalf("daemon-setup=%s (loading gwa's certificate through the CLI), want ok", r["daemon-setup"])
			}
			for _, k := range []string{"pluto", "conn", "daemon", "tunnel", "ping-out", "ping-in", "status"} {
				if r[k] != "ok" {
					t.Fatalf("%s=%s, want ok", k, r[k])
				}
			}
			if want := map[bool]string{true: "skip", false: "ok"}[c.ipsecgwInitiates]; r["initiate"] != want {
				t.Errorf("whack --initiate: %s, want %s", r["initiate"], want)
			}
			checkUnit(t, r, c.ipsecgwInitiates) // st0_script_test.go
			if r["daemon-exit"] != "0" {
				t.Errorf("ipsecgw exited with status %s after SIGTERM, want 0; guest output:\n%s", r["daemon-exit"], lswCaseOutput(output, c.name))
			}
			checkLswCase(t, g, c)
			if c.cert {
				checkLswCert(t, g, c)
			}
			if c.ppk {
				checkLswPPK(t, g, c) // libreswan_ppk_test.go
			}
		})
	}
}

// lswPair is one phase's view of the Child SA on both sides.
type lswPair struct {
	kernelIn, kernelOut xfrmState // gwa → gwl (the kernel opens), gwl → gwa (it seals)
	gwIn, gwOut         daemon.SAStatus
	status              daemon.Status
}

// collectLsw reads one phase's dumps ("before" or "after") and pairs the
// SAs by SPI: ipsecgw's outbound SPI is the kernel's inbound one and back.
func collectLsw(g guestOutput, c lswCase, phase string) (lswPair, error) {
	var p lswPair
	sec := func(s string) string { return g.sections[c.name+" "+s+"-"+phase] }
	if err := json.Unmarshal([]byte(sec("status")), &p.status); err != nil {
		return p, fmt.Errorf("%s: ipsecgw status.json: %w\n%s", phase, err, sec("status"))
	}
	if len(p.status.SAs) != 2 {
		return p, fmt.Errorf("%s: ipsecgw reports %d SAs, want 2: %+v", phase, len(p.status.SAs), p.status.SAs)
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
	if p.gwIn.Direction == "" || p.gwOut.Direction == "" {
		return p, fmt.Errorf("%s: ipsecgw lacks an SA for one direction: %+v", phase, p.status.SAs)
	}
	states, err := parseXfrmStates(sec("xfrm-state"))
	if err != nil {
		return p, fmt.Errorf("%s: %w", phase, err)
	}
	if len(states) != 2 {
		return p, fmt.Errorf("%s: gwl has %d SAs, want 2:\n%s", phase, len(states), sec("xfrm-state"))
	}
	spiOf := func(sa daemon.SAStatus) uint32 {
		v, _ := strconv.ParseUint(sa.SPI, 0, 32)
		return uint32(v)
	}
	for _, s := range states {
		switch {
		case s.src == gwaOuter4 && s.dst == gwkOuter4 && s.spi == spiOf(p.gwOut):
			p.kernelIn = s
		case s.src == gwkOuter4 && s.dst == gwaOuter4 && s.spi == spiOf(p.gwIn):
			p.kernelOut = s
		default:
			return p, fmt.Errorf("%s: gwl SA %s → %s SPI %#x matches neither ipsecgw's outbound SPI %s nor its inbound %s",
				phase, s.src, s.dst, s.spi, p.gwOut.SPI, p.gwIn.SPI)
		}
	}
	if p.kernelIn.src == "" || p.kernelOut.src == "" {
		return p, fmt.Errorf("%s: gwl lacks an SA for one direction:\n%s", phase, sec("xfrm-state"))
	}
	return p, nil
}

// pingPackets is what the quiet phase must carry each way at least: five
// echo requests one way and five replies to the other side's requests.
const pingPackets = 10

func checkLswCase(t *testing.T, g guestOutput, c lswCase) {
	before, err := collectLsw(g, c, "before")
	if err != nil {
		t.Fatal(err)
	}
	after, err := collectLsw(g, c, "after")
	if err != nil {
		t.Fatal(err)
	}
	if after.gwOut.SPI != before.gwOut.SPI || after.gwIn.SPI != before.gwIn.SPI {
		t.Fatalf("the SAs changed during the quiet phase: SPIs %s/%s, then %s/%s", before.gwOut.SPI, before.gwIn.SPI, after.gwOut.SPI, after.gwIn.SPI)
	}

	// IKE SA up on both sides, initiated by the side the case says.
	var up int
	for _, ike := range after.status.IKE {
		t.Logf("ipsecgw IKE SA: %+v", ike)
		if ike.State == "UP" && ike.Remote.String() == gwkOuter4 {
			up++
			if ike.Initiator != c.ipsecgwInitiates {
				t.Errorf("ipsecgw IKE SA initiator=%v, want %v", ike.Initiator, c.ipsecgwInitiates)
			}
		}
	}
	if up != 1 {
		t.Errorf("ipsecgw has %d IKE SAs UP with %s, want 1: %+v (failures %+v)", up, gwkOuter4, after.status.IKE, after.status.Failures)
	}
	states, traffic := g.sections[c.name+" lsw-states"], g.sections[c.name+" lsw-traffic"]
	if !strings.Contains(states, "ESTABLISHED_IKE_SA") || !strings.Contains(states, "ESTABLISHED_CHILD_SA") {
		t.Errorf("pluto shows no established IKE and Child SA:\n%s", states)
	}
	if !strings.Contains(traffic, `"lsw"`) || !strings.Contains(traffic, "type=ESP") {
		t.Errorf("pluto reports no ESP traffic for the connection:\n%s", traffic)
	}

	// The negotiated suite reached the kernel, as raw ESP.
	dump := g.sections[c.name+" xfrm-state-after"]
	if strings.Count(dump, c.kernelAlg) != 2 {
		t.Errorf("gwl's states do not both use %s:\n%s", c.kernelAlg, dump)
	}
	for _, s := range []xfrmState{after.kernelIn, after.kernelOut} {
		if s.encap != "" {
			t.Errorf("gwl SA %s → %s is encapsulated (%s); want raw ESP", s.src, s.dst, s.encap)
		}
		if s.replay != 0 || s.failed != 0 {
			t.Errorf("gwl SA %s → %s: %d replayed, %d failed integrity checks, want none", s.src, s.dst, s.replay, s.failed)
		}
	}

	// Counters in the quiet phase: what one side sealed, the other opened.
	gwSealed := after.gwOut.Counters.EncryptedPackets - before.gwOut.Counters.EncryptedPackets
	gwSealedBytes := after.gwOut.Counters.EncryptedBytes - before.gwOut.Counters.EncryptedBytes
	kOpened := after.kernelIn.packets - before.kernelIn.packets
	kOpenedBytes := after.kernelIn.bytes - before.kernelIn.bytes
	t.Logf("ipsecgw → libreswan: ipsecgw sealed %d packets (%d inner bytes), the kernel opened %d (%d); totals %d and %d",
		gwSealed, gwSealedBytes, kOpened, kOpenedBytes, after.gwOut.Counters.EncryptedPackets, after.kernelIn.packets)
	if gwSealed < pingPackets || gwSealed != kOpened || gwSealedBytes != kOpenedBytes {
		t.Errorf("ipsecgw → libreswan in the quiet phase: ipsecgw sealed %d packets (%d inner bytes), the kernel opened %d (%d); want equal and at least %d",
			gwSealed, gwSealedBytes, kOpened, kOpenedBytes, pingPackets)
	}
	if after.gwOut.Sequence != after.kernelIn.seq {
		t.Errorf("ipsecgw → libreswan: ipsecgw sent up to sequence %d, the kernel received up to %d", after.gwOut.Sequence, after.kernelIn.seq)
	}
	kSealed := after.kernelOut.packets - before.kernelOut.packets
	kSealedBytes := after.kernelOut.bytes - before.kernelOut.bytes
	gwOpened := after.gwIn.Counters.DecryptedPackets - before.gwIn.Counters.DecryptedPackets
	gwOpenedBytes := after.gwIn.Counters.DecryptedBytes - before.gwIn.Counters.DecryptedBytes
	t.Logf("libreswan → ipsecgw: the kernel sealed %d packets (%d inner bytes), ipsecgw opened %d (%d); totals %d and %d",
		kSealed, kSealedBytes, gwOpened, gwOpenedBytes, after.kernelOut.packets, after.gwIn.Counters.DecryptedPackets)
	if kSealed < pingPackets || kSealed != gwOpened || kSealedBytes != gwOpenedBytes {
		t.Errorf("libreswan → ipsecgw in the quiet phase: the kernel sealed %d packets (%d inner bytes), ipsecgw opened %d (%d); want equal and at least %d",
			kSealed, kSealedBytes, gwOpened, gwOpenedBytes, pingPackets)
	}
	if after.kernelOut.oseq != after.gwIn.Sequence {
		t.Errorf("libreswan → ipsecgw: the kernel sent up to sequence %d, ipsecgw received up to %d", after.kernelOut.oseq, after.gwIn.Sequence)
	}
	// Before the quiet phase, packets sent while the SAs were still being
	// installed may have been dropped (no-outbound-sa); in it, none may be.
	was, now := errorCounters(before.status.Global), errorCounters(after.status.Global)
	if len(was) != 0 {
		t.Logf("ipsecgw error counters before the quiet phase (tunnel set-up): %v", was)
	}
	for name, v := range now {
		if v != was[name] {
			t.Errorf("ipsecgw error counter %s moved from %d to %d in the quiet phase", name, was[name], v)
		}
	}
}

// lswCaseOutput is the part of the guest's output that belongs to a case.
func lswCaseOutput(out, name string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(out, "\n") {
		if t, ok := strings.CutPrefix(line, "=== "); ok {
			in = strings.HasPrefix(t, name+" ")
		}
		if strings.HasPrefix(line, "RESULT case="+name+" ") {
			in = true
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}
