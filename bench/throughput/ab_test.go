package main

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestIpsecgwBOrder(t *testing.T) {
	o, err := parseFlags([]string{"-ipsecgw-b", "/old/ipsecgw", "-setups", "ipsecgw-udp,wireguard-go"})
	if err != nil || o.ipsecgwB != "/old/ipsecgw" {
		t.Fatalf("-ipsecgw-b: %v, %q", err, o.ipsecgwB)
	}
	// A B, B A, B A, A B, then again.
	firsts := ""
	for round := 1; round <= 8; round++ {
		v := o.variants("ipsecgw-udp", round)
		if len(v) != 2 || v[0] == v[1] || !slices.Contains(v, "ipsecgw-udp") || !slices.Contains(v, "ipsecgw-udp@b") {
			t.Fatalf("round %d: %v", round, v)
		}
		if v[0] == "ipsecgw-udp" {
			firsts += "A"
		} else {
			firsts += "B"
		}
	}
	if firsts != "ABBAABBA" {
		t.Errorf("first of each round: %s, want ABBAABBA", firsts)
	}
	if v := o.variants("wireguard-go", 2); !slices.Equal(v, []string{"wireguard-go"}) {
		t.Errorf("wireguard-go measured as %v", v)
	}
	if got, want := o.rowNames(), []string{"ipsecgw-udp", "ipsecgw-udp@b", "wireguard-go"}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	o.ipsecgwB = ""
	if v := o.variants("ipsecgw-udp", 2); !slices.Equal(v, []string{"ipsecgw-udp"}) {
		t.Errorf("without -ipsecgw-b: %v", v)
	}
	s := newSetup("ipsecgw-xdp@b", t.TempDir(), binaries{ipsecgw: "/new", ipsecgwB: "/old"}).(*ipsecgw)
	if s.name() != "ipsecgw-xdp@b" || s.binary != "/old" || s.dataPlane != "xdp" {
		t.Errorf("B setup: name %q binary %q data plane %q", s.name(), s.binary, s.dataPlane)
	}
}

func TestPairs(t *testing.T) {
	samples := []sample{
		{Setup: "ipsecgw-udp", Flows: 1, Round: 1, Gbps: 2, CPUSecondsPerGB: 4},
		{Setup: "ipsecgw-udp@b", Flows: 1, Round: 1, Gbps: 3, CPUSecondsPerGB: 3},
		{Setup: "ipsecgw-xdp@b", Flows: 1, Round: 1, Gbps: 1, CPUSecondsPerGB: 5},
		{Setup: "ipsecgw-xdp", Flows: 1, Round: 1, Gbps: 2, CPUSecondsPerGB: 4},
		{Setup: "wireguard-go", Flows: 1, Round: 1, Gbps: 2, CPUSecondsPerGB: 4},
		{Setup: "ipsecgw-udp@b", Flows: 1, Round: 2, Gbps: 1, CPUSecondsPerGB: 2},
		{Setup: "ipsecgw-udp", Flows: 1, Round: 2, Gbps: 4, CPUSecondsPerGB: 2},
		{Setup: "ipsecgw-udp@b", Flows: 4, Round: 2, Gbps: 1}, // no A sample with 4 flows
	}
	ps := pairs(samples)
	want := []pair{
		{Setup: "ipsecgw-udp", Flows: 1, Round: 1, Gbps: 1.5, CPUPerG: 0.75},
		{Setup: "ipsecgw-udp", Flows: 1, Round: 2, Gbps: 0.25, CPUPerG: 1},
		{Setup: "ipsecgw-xdp", Flows: 1, Round: 1, Gbps: 0.5, CPUPerG: 1.25},
	}
	if len(ps) != len(want) {
		t.Fatalf("pairs %+v, want %+v", ps, want)
	}
	for i := range want {
		p, w := ps[i], want[i]
		if p.Setup != w.Setup || p.Flows != w.Flows || p.Round != w.Round || math.Abs(p.Gbps-w.Gbps) > 1e-9 || math.Abs(p.CPUPerG-w.CPUPerG) > 1e-9 {
			t.Errorf("pair %d: %+v, want %+v", i, p, w)
		}
	}
	var b bytes.Buffer
	printPairs(&b, ps)
	if out := b.String(); !strings.Contains(out, "ipsecgw-udp, 1 flow(s): Gbit/s 1.50 0.25; gateway CPU per GB 0.75 1.00") {
		t.Errorf("printed:\n%s", out)
	}
}
