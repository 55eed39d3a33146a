package ike

import (
	"net/netip"
	"testing"
)

// TestCauseLabels: the metric's label of each cause (a dead peer counts
// as unreachable; what is no negotiation failure is other).
func TestCauseLabels(t *testing.T) {
	for c, want := range map[Cause]string{
		CauseNone: "", CauseUnreachable: LabelUnreachable, CausePeerDead: LabelUnreachable,
		CauseAuthentication: LabelAuthentication, CauseNoProposal: LabelNoProposal, CauseSelectors: LabelTSUnacceptable,
		CausePeerDeleted: LabelOther, CauseTimeout: LabelOther, CauseLocal: LabelOther, CauseOther: LabelOther,
	} {
		if got := c.Label(); got != want {
			t.Errorf("cause %d: label %q, want %q", c, got, want)
		}
	}
	f := Failf(CauseNoProposal, "no proposal chosen: %d", 3).Received(14)
	if !f.Failed() || f.Error() != "no proposal chosen: 3" || f.Notify != 14 || !f.NotifyReceived {
		t.Fatalf("%+v", f)
	}
	if (Failure{}).Failed() {
		t.Fatal("the zero failure failed")
	}
}

// TestFailover: only a silent peer moves the next initiation to the next
// address, and only on the side that negotiates again; the list wraps.
func TestFailover(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	p := &Peer{Remote: a, Backups: []netip.Addr{b}}
	if p.FailoverAfter(Failf(CauseAuthentication, "x"), true) || p.Current() != a {
		t.Fatal("failed over after an authentication failure")
	}
	if p.FailoverAfter(Failf(CauseUnreachable, "x"), false) || p.Current() != a {
		t.Fatal("a responder that does not keep the tunnel up failed over")
	}
	if !p.FailoverAfter(Failf(CauseUnreachable, "x"), true) || p.Current() != b {
		t.Fatal("no failover to the backup")
	}
	p.Reinitiate = true
	if !p.FailoverAfter(Failf(CausePeerDead, "x"), false) || p.Current() != a {
		t.Fatal("no failover back to the primary")
	}
	if (&Peer{Remote: a}).FailoverAfter(Failf(CauseUnreachable, "x"), true) {
		t.Fatal("failed over with no backup")
	}
}

func TestFailureLog(t *testing.T) {
	var l FailureLog
	for i := range 100 {
		l.Add(SAInfo{Children: i})
	}
	got := l.List()
	if len(got) != 64 || got[0].Children != 36 || got[63].Children != 99 {
		t.Fatalf("%d kept, first %d, last %d", len(got), got[0].Children, got[63].Children)
	}
}

type counter struct{ in, out uint64 }

func (c *counter) AllocateSPI() (uint32, error)        { return 1, nil }
func (c *counter) InstallChild(string, *ChildSA) error { return nil }
func (c *counter) RemoveChild(string, *ChildSA)        {}
func (c *counter) ChildTraffic(*ChildSA) (uint64, uint64) {
	return c.in, c.out
}

// TestDPDTraffic: the modes, with the Child SAs' counts and without.
func TestDPDTraffic(t *testing.T) {
	children := []*ChildSA{{}}
	for _, tc := range []struct {
		mode          DPDMode
		in, out       uint64 // packets since the last decision
		quiet, counts bool
		want          bool
	}{
		{DPDOptimized, 0, 0, true, true, false},
		{DPDOptimized, 0, 5, true, true, true},
		{DPDOptimized, 5, 5, true, true, false},
		{DPDDefault, 0, 0, true, true, false}, // optimized
		{DPDProbeIdle, 0, 0, true, true, true},
		{DPDProbeIdle, 5, 0, true, true, false},
		{DPDAlwaysSend, 5, 5, false, true, true},
		{DPDOptimized, 0, 0, true, false, true}, // no counts: a quiet peer
		{DPDOptimized, 0, 0, false, false, false},
	} {
		var inst Installer = &counter{in: tc.in, out: tc.out}
		if !tc.counts {
			inst = nil
		}
		var tr DPDTraffic
		if got := tr.Due(tc.mode, tc.quiet, inst, children); got != tc.want {
			t.Errorf("%+v: due %v", tc, got)
		}
	}
}
