package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// With -ipsecgw-b, each ipsecgw setup is measured with a second binary
// too, in the same round, right before or after the first: the A/B runs
// the project asks of a change that claims speed (old, new, new, old,
// ...), each pair seconds apart under the same neighbours, which
// separate runs of the program minutes apart on this shared machine are
// not. The second binary's rows carry the setup name with bSuffix.
const bSuffix = "@b"

// isIpsecgw reports whether a setup runs the ipsecgw binary.
func isIpsecgw(name string) bool { return strings.HasPrefix(name, "ipsecgw-") }

// variants are the setups to measure for name in a round (from 1), in
// order: name alone, or with -ipsecgw-b the two binaries, A first in
// rounds 1, 4, 5, 8, ... and B first in rounds 2, 3, 6, 7, ... so that
// a steady drift of the machine's load favours neither.
func (o options) variants(name string, round int) []string {
	if o.ipsecgwB == "" || !isIpsecgw(name) {
		return []string{name}
	}
	if r := (round - 1) % 4; r == 1 || r == 2 {
		return []string{name + bSuffix, name}
	}
	return []string{name, name + bSuffix}
}

// rowNames are the setups of the report in the order printed: each
// ipsecgw setup followed by its B twin when there is one.
func (o options) rowNames() []string {
	var names []string
	for _, n := range o.setups {
		names = append(names, o.variants(n, 1)...)
	}
	return names
}

// pair is one round's B sample over its A sample.
type pair struct {
	Setup   string  `json:"setup"`
	Flows   int     `json:"flows"`
	Round   int     `json:"round"`
	Gbps    float64 `json:"gbit_per_s_b_over_a"`
	CPUPerG float64 `json:"gateway_cpu_per_gb_b_over_a,omitempty"`
}

// pairs matches every B sample with the A sample of its setup, flows and
// round.
func pairs(samples []sample) []pair {
	type key struct {
		setup        string
		flows, round int
	}
	a := map[key]sample{}
	for _, s := range samples {
		if !strings.HasSuffix(s.Setup, bSuffix) {
			a[key{s.Setup, s.Flows, s.Round}] = s
		}
	}
	var ps []pair
	for _, s := range samples {
		name, ok := strings.CutSuffix(s.Setup, bSuffix)
		if !ok {
			continue
		}
		x, found := a[key{name, s.Flows, s.Round}]
		if !found || x.Gbps == 0 {
			continue
		}
		p := pair{Setup: name, Flows: s.Flows, Round: s.Round, Gbps: s.Gbps / x.Gbps}
		if x.CPUSecondsPerGB > 0 {
			p.CPUPerG = s.CPUSecondsPerGB / x.CPUSecondsPerGB
		}
		ps = append(ps, p)
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Setup != ps[j].Setup {
			return ps[i].Setup < ps[j].Setup
		}
		return ps[i].Flows < ps[j].Flows
	})
	return ps
}

// printPairs lists, per setup and flows, each round's B/A ratios.
func printPairs(w io.Writer, ps []pair) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s (-ipsecgw-b) over the same setup with -ipsecgw, round by round:\n", bSuffix)
	for i := 0; i < len(ps); {
		j := i
		var gb, cpu []string
		for ; j < len(ps) && ps[j].Setup == ps[i].Setup && ps[j].Flows == ps[i].Flows; j++ {
			gb = append(gb, fmt.Sprintf("%.2f", ps[j].Gbps))
			cpu = append(cpu, fmt.Sprintf("%.2f", ps[j].CPUPerG))
		}
		fmt.Fprintf(w, "  %s, %d flow(s): Gbit/s %s; gateway CPU per GB %s\n", ps[i].Setup, ps[i].Flows, strings.Join(gb, " "), strings.Join(cpu, " "))
		i = j
	}
}
