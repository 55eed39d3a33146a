package interop

import (
	"bufio"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// guestOutput is the guest script's output, split into what run_case
// printed for each case.
type guestOutput struct {
	results  map[string]map[string]string // case → RESULT key → value
	sections map[string]string            // "case section" → text
}

// parseOutput reads RESULT lines and "=== case section" dumps.
func parseOutput(out string) guestOutput {
	g := guestOutput{results: map[string]map[string]string{}, sections: map[string]string{}}
	title := ""
	for _, line := range strings.SplitAfter(out, "\n") {
		if t, ok := strings.CutPrefix(line, "=== "); ok {
			title = strings.TrimSpace(t)
			continue
		}
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			kv := map[string]string{}
			for _, f := range strings.Fields(rest) {
				if k, v, ok := strings.Cut(f, "="); ok {
					kv[k] = v
				}
			}
			g.results[kv["case"]] = kv
		}
		if title != "" {
			g.sections[title] += line
		}
	}
	return g
}

// xfrmState is one SA of `ip -s xfrm state` (iproute2 6.1).
type xfrmState struct {
	src, dst string
	spi      uint32
	flags    []string // "af-unspec", "esn", …
	encap    string   // "espinudp", or "" for raw ESP
	bytes    uint64   // lifetime current: inner bytes sealed or opened
	packets  uint64
	// seq is the highest sequence number received, oseq the last one
	// sent; with ESN both are 64-bit (seq-hi/oseq-hi on top).
	seq, oseq uint64
	replay    uint64 // stats: packets dropped as replayed
	failed    uint64 // stats: integrity check failures
}

// parseXfrmStates reads every SA of a dump. It is strict about the lines
// it needs: a layout it does not know is an error, not a zero.
func parseXfrmStates(dump string) ([]xfrmState, error) {
	var states []xfrmState
	var cur *xfrmState
	var have map[string]bool
	finish := func() error {
		if cur == nil {
			return nil
		}
		for _, k := range []string{"spi", "current", "replay", "stats"} {
			if !have[k] {
				return fmt.Errorf("SA %s → %s: no %s line in\n%s", cur.src, cur.dst, k, dump)
			}
		}
		states = append(states, *cur)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(dump))
	prev := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		var err error
		switch {
		case len(f) == 4 && f[0] == "src" && f[2] == "dst":
			if err := finish(); err != nil {
				return nil, err
			}
			cur, have = &xfrmState{src: f[1], dst: f[3]}, map[string]bool{}
		case cur == nil:
			continue
		case len(f) >= 4 && f[0] == "proto" && f[2] == "spi":
			// "proto esp spi 0x00002000(8192) reqid 1(0x00000001) mode tunnel"
			hex, _, _ := strings.Cut(f[3], "(")
			var v uint64
			v, err = strconv.ParseUint(strings.TrimPrefix(hex, "0x"), 16, 32)
			cur.spi, have["spi"] = uint32(v), true
		case prev == "stats:":
			// "replay-window 0 replay 0 failed 0", before the state line it resembles
			_, err = fmt.Sscanf(line, "replay-window %d replay %d failed %d", new(uint64), &cur.replay, &cur.failed)
			have["stats"] = true
		case len(f) >= 1 && f[0] == "replay-window":
			// "replay-window 0 seq 0x00000000 flag af-unspec esn (0x10100000)"
			if i := indexOf(f, "flag"); i >= 0 {
				for _, fl := range f[i+1:] {
					if !strings.HasPrefix(fl, "(") {
						cur.flags = append(cur.flags, fl)
					}
				}
			}
		case len(f) >= 3 && f[0] == "encap" && f[1] == "type":
			cur.encap = f[2]
		case prev == "lifetime current:":
			// "30868799(bytes), 24081(packets)"
			_, err = fmt.Sscanf(line, "%d(bytes), %d(packets)", &cur.bytes, &cur.packets)
			have["current"] = true
		case strings.HasPrefix(line, "anti-replay context:"):
			// "anti-replay context: seq 0x5, oseq 0x0, bitmap 0x0000001f"
			_, err = fmt.Sscanf(line, "anti-replay context: seq %v, oseq %v,", &cur.seq, &cur.oseq)
			have["replay"] = true
		case prev == "anti-replay esn context:":
			// "seq-hi 0x0, seq 0x2eba, oseq-hi 0x0, oseq 0x0"
			var seqHi, seq, oseqHi, oseq uint64
			_, err = fmt.Sscanf(line, "seq-hi %v, seq %v, oseq-hi %v, oseq %v", &seqHi, &seq, &oseqHi, &oseq)
			cur.seq, cur.oseq, have["replay"] = seqHi<<32|seq, oseqHi<<32|oseq, true
		}
		if err != nil {
			return nil, fmt.Errorf("SA %s → %s: line %q: %w", cur.src, cur.dst, line, err)
		}
		prev = line
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return states, nil
}

func indexOf(fields []string, s string) int {
	for i, f := range fields {
		if f == s {
			return i
		}
	}
	return -1
}

func (s xfrmState) hasFlag(flag string) bool { return indexOf(s.flags, flag) >= 0 }

// parseXfrmStat reads /proc/net/xfrm_stat: "XfrmInError  0" lines.
func parseXfrmStat(text string) (map[string]uint64, error) {
	m := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("xfrm_stat line %q: want NAME VALUE", line)
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("xfrm_stat line %q: %w", line, err)
		}
		m[f[0]] = v
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("xfrm_stat is empty")
	}
	return m, nil
}

// dumpSample is `ip -s xfrm state` from gwk in one of these tests (keys
// shortened), with one state in the legacy replay layout added.
const dumpSample = `src 192.0.2.2 dst 192.0.2.1
	proto esp spi 0x00002000(8192) reqid 1(0x00000001) mode tunnel
	replay-window 0 seq 0x00000000 flag af-unspec esn (0x10100000)
	aead rfc4106(gcm(aes)) 0x010e1b28 (160 bits) 128
	encap type espinudp sport 4500 dport 4500 addr 0.0.0.0
	anti-replay esn context:
	 seq-hi 0x0, seq 0x0, oseq-hi 0x1, oseq 0x5e11
	 replay_window 64, bitmap-length 2
	 00000000 00000000 
	lifetime config:
	  limit: soft (INF)(bytes), hard (INF)(bytes)
	  limit: soft (INF)(packets), hard (INF)(packets)
	  expire add: soft 0(sec), hard 0(sec)
	  expire use: soft 0(sec), hard 0(sec)
	lifetime current:
	  30868799(bytes), 24081(packets)
	  add 2026-11-22 16:10:12 use 2026-11-22 16:10:14
	stats:
	  replay-window 0 replay 0 failed 0
src 192.0.2.1 dst 192.0.2.2
	proto esp spi 0x00002000(8192) reqid 1(0x00000001) mode tunnel
	replay-window 32 seq 0x00000000 flag af-unspec (0x00100000)
	aead rfc4106(gcm(aes)) 0x010e1b28 (160 bits) 128
	anti-replay context: seq 0x2eba, oseq 0x0, bitmap 0xffffffff
	lifetime config:
	  limit: soft (INF)(bytes), hard (INF)(bytes)
	lifetime current:
	  15831454(bytes), 11962(packets)
	  add 2026-11-22 16:10:12 use 2026-11-22 16:10:13
	stats:
	  replay-window 0 replay 2 failed 6
`

// TestParseXfrmStates checks the dump parser on both replay layouts, and
// that a dump cut before a state's counters is refused (a parser that
// returned zeros would let a counter comparison pass on nothing).
func TestParseXfrmStates(t *testing.T) {
	got, err := parseXfrmStates(dumpSample)
	if err != nil {
		t.Fatal(err)
	}
	want := []xfrmState{
		{src: "192.0.2.2", dst: "192.0.2.1", spi: 0x2000, flags: []string{"af-unspec", "esn"}, encap: "espinudp",
			bytes: 30868799, packets: 24081, seq: 0, oseq: 1<<32 | 0x5e11},
		{src: "192.0.2.1", dst: "192.0.2.2", spi: 0x2000, flags: []string{"af-unspec"},
			bytes: 15831454, packets: 11962, seq: 0x2eba, replay: 2, failed: 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	cut := dumpSample[:strings.Index(dumpSample, "stats:")]
	if s, err := parseXfrmStates(cut); err == nil {
		t.Errorf("a dump cut before the first state's stats parsed: %+v", s)
	}
}
