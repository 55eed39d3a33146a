package cluster

import (
	"slices"
	"strings"
	"testing"
	"time"

	benchike "ipsecgw/bench/ike"
)

func TestParseNodes(t *testing.T) {
	got, err := parseNodes("1, 2,3")
	if err != nil || !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("parseNodes: %v %v", got, err)
	}
	for _, bad := range []string{"", "0", "4", "1,,2", "two"} {
		if _, err := parseNodes(bad); err == nil {
			t.Errorf("parseNodes(%q) accepted", bad)
		}
	}
}

// TestTable: the ratios are each step's figures over the first step's.
func TestTable(t *testing.T) {
	step := func(nodes, up int, elapsed time.Duration, flows ...float64) stepResult {
		r := stepResult{nodes: nodes, load: benchike.LoadResult{Tunnels: 600, Up: up, Elapsed: elapsed}, nodeCPU: time.Duration(up) * 100 * time.Microsecond, etcdCPU: time.Duration(up) * 20 * time.Microsecond}
		for i, f := range flows {
			r.flows = append(r.flows, flow{srg: i + 1, bitsPerSec: f})
			r.owned = append(r.owned, 1)
			r.ikeSAs = append(r.ikeSAs, up/len(flows))
		}
		return r
	}
	rs := []stepResult{
		step(1, 600, time.Second, 1e8, 1e8),
		step(2, 600, 500*time.Millisecond, 1.5e8, 1e8),
		step(3, 300, time.Second, 0, 0),
	}
	if rs[1].traffic() != 2.5e8 {
		t.Fatalf("traffic: %v", rs[1].traffic())
	}
	var b strings.Builder
	printTable(&b, options{srgs: 2, group: "group19", inFlight: 64, duration: 8 * time.Second, saSync: true}, rs)
	out := b.String()
	for _, want := range []string{
		"2 nodes / 1: setup rate 2.00x, traffic 1.25x",
		"3 nodes / 1: setup rate 0.50x, traffic 0.00x",
		"600/600", "300/600", "100+20+0µs", "250 Mbit/s", "300/300",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if ratio(1, 0) != "-" {
		t.Errorf("ratio over nothing: %s", ratio(1, 0))
	}
}
