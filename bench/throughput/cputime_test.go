package main

import (
	"math"
	"testing"
)

func TestMachineIdle(t *testing.T) {
	before, err := parseMachineCPU("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n")
	if err != nil {
		t.Fatal(err)
	}
	// 400 ticks later: 100 user, 100 system, 190 idle, 10 iowait; guest
	// time (the ninth field) is part of user already and must not count
	// twice.
	after, err := parseMachineCPU("cpu  200 0 150 990 60 0 0 0 500 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := after.idlePercentSince(before); math.Abs(got-50) > 1e-9 {
		t.Errorf("idle = %v%%, want 50%%", got)
	}
	if got := before.idlePercentSince(after); got != 0 {
		t.Errorf("idle with the counters going backwards = %v, want 0", got)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5"} {
		if _, err := parseMachineCPU(bad); err == nil {
			t.Errorf("parseMachineCPU(%q) accepted it", bad)
		}
	}
}

func TestCongestionFlag(t *testing.T) {
	o, err := parseFlags([]string{"-congestion", "cubic"})
	if err != nil || o.congestion != "cubic" {
		t.Fatalf("-congestion cubic: %v, %q", err, o.congestion)
	}
	for _, bad := range []string{"cu bic", "cubic;reboot", "CUBIC", "averyveryverylongname"} {
		if _, err := parseFlags([]string{"-congestion", bad}); err == nil {
			t.Errorf("-congestion %q accepted", bad)
		}
	}
}
