package netio

import (
	"bytes"
	"fmt"
	"testing"
)

const groOffset = 16 // any offset of at least TUNHeadroom

// groWrites plans pkts as Write does and returns what it would write: per
// write, the packets it stands for (indexes into pkts) and the octets
// (the virtio-net header, then the packet or the super-packet).
func groWrites(t testing.TB, g *groTable, pkts [][]byte) (groups [][]int, writes [][]byte) {
	t.Helper()
	bufs := make([][]byte, len(pkts))
	for i, p := range pkts {
		bufs[i] = append(make([]byte, groOffset), p...)
	}
	g.plan(bufs, groOffset)
	seen := make([]int, len(pkts))
	for i := range bufs {
		gi := g.group[i]
		if gi == groupMember {
			continue
		}
		members := []int{i}
		seen[i]++
		w := bytes.Clone(bufs[i][groOffset-vnetHdrLen:])
		clear(w[:vnetHdrLen])
		if gi >= 0 && g.groups[gi].segs > 1 {
			grp := &g.groups[gi]
			b := bufs[i][groOffset-vnetHdrLen:]
			grp.finish(b[vnetHdrLen:]).encode(b)
			w = bytes.Clone(b)
			for m := g.next[i]; m >= 0; m = g.next[m] {
				if m <= int32(members[len(members)-1]) {
					t.Fatalf("group of packet %d: member %d after %d", i, m, members[len(members)-1])
				}
				members = append(members, int(m))
				seen[m]++
				w = append(w, bufs[m][groOffset+grp.hdrLen:]...)
			}
			if len(members) != int(grp.segs) {
				t.Fatalf("group of packet %d lists %d members, counts %d", i, len(members), grp.segs)
			}
		}
		groups = append(groups, members)
		writes = append(writes, w)
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("packet %d written %d times", i, n)
		}
	}
	return groups, writes
}

// resplit segments a write as the host would (with splitPacket, checked
// against the host's behaviour in TestSplitPacket) into its packets.
func resplit(t testing.TB, w []byte) [][]byte {
	t.Helper()
	bufs, sizes := tunBufs(IdealBatchSize, 0, 65535)
	n, err := splitPacket(bytes.Clone(w[vnetHdrLen:]), decodeVnetHdr(w), bufs, sizes, 0)
	if err != nil {
		t.Fatalf("a write does not split back: %v", err)
	}
	out := make([][]byte, n)
	for i := range n {
		out[i] = bufs[i][:sizes[i]]
	}
	return out
}

func builds(t testing.TB, segs []seg) [][]byte {
	out := make([][]byte, len(segs))
	for i, s := range segs {
		out[i] = s.build(t)
	}
	return out
}

// checkGRO plans segs and checks the groups against want (lists of
// indexes), and that every write, segmented again, gives back exactly the
// packets it stands for.
func checkGRO(t *testing.T, segs []seg, want [][]int) {
	t.Helper()
	pkts := builds(t, segs)
	groups, writes := groWrites(t, newGROTable(true), pkts)
	if fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Fatalf("groups %v; want %v", groups, want)
	}
	for k, w := range writes {
		if len(groups[k]) == 1 {
			if h := decodeVnetHdr(w); h != (vnetHdr{}) || !bytes.Equal(w[vnetHdrLen:], pkts[groups[k][0]]) {
				t.Errorf("packet %d alone: written %x with header %+v; want it unchanged, no offload", groups[k][0], prefix(w[vnetHdrLen:]), h)
			}
			continue
		}
		back := resplit(t, w)
		if len(back) != len(groups[k]) {
			t.Fatalf("group %v segments back into %d packets", groups[k], len(back))
		}
		for j, i := range groups[k] {
			if !bytes.Equal(back[j], pkts[i]) {
				t.Errorf("group %v: packet %d comes back as\n%x\nnot\n%x", groups[k], i, prefix(back[j]), prefix(pkts[i]))
			}
		}
	}
}

func seq(lo, hi int) []int {
	var s []int
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func TestGROCoalescesAFlow(t *testing.T) {
	checkGRO(t, flow(t, addrA4, addrB4, 8, 1388, 0), [][]int{seq(0, 8)})
	checkGRO(t, flow(t, addrA6, addrB6, 8, 1368, 0), [][]int{seq(0, 8)})
	// A short last segment joins and ends the group.
	checkGRO(t, flow(t, addrA4, addrB4, 3, 1388, 17), [][]int{seq(0, 3)})
}

func TestGROInterleavedFlows(t *testing.T) {
	a := flow(t, addrA4, addrB4, 4, 1000, 0)
	b := flow(t, addrA6, addrB6, 4, 1000, 0)
	c := flow(t, addrA4, addrB4, 4, 1000, 0)
	for i := range c {
		c[i].sport = 40001 // another flow between the same hosts
	}
	var segs []seg
	for i := range 4 {
		segs = append(segs, a[i], b[i], c[i])
	}
	checkGRO(t, segs, [][]int{{0, 3, 6, 9}, {1, 4, 7, 10}, {2, 5, 8, 11}})
}

// A segment the host's GRO would not merge closes its flow's group: no
// later segment may pass it.
func TestGROStopsAt(t *testing.T) {
	mod := func(f func(s []seg)) []seg {
		s := flow(t, addrA4, addrB4, 6, 1000, 0)
		s[5].flags = tcpACK
		f(s)
		return s
	}
	cases := map[string]struct {
		segs []seg
		want [][]int
	}{
		"sequence gap": {mod(func(s []seg) {
			for i := 3; i < 6; i++ {
				s[i].seq += 1
			}
		}), [][]int{{0, 1, 2}, {3, 4, 5}}},
		"retransmission": {mod(func(s []seg) { s[3] = s[1] }), [][]int{{0, 1, 2}, {3}, {4, 5}}},
		"bad checksum":   {mod(func(s []seg) { s[2].badSum = true }), [][]int{{0, 1}, {2}, {3, 4, 5}}},
		"bad head":       {mod(func(s []seg) { s[0].badSum = true }), [][]int{{0}, {1, 2, 3, 4, 5}}},
		"bad checksum alone, not heading": {mod(func(s []seg) { s[2].badSum, s[3].badSum = true, true }),
			[][]int{{0, 1}, {2}, {3}, {4, 5}}},
		"PSH ends": {mod(func(s []seg) { s[2].flags |= tcpPSH }), [][]int{{0, 1, 2}, {3, 4, 5}}},
		"PSH head": {mod(func(s []seg) { s[0].flags |= tcpPSH }), [][]int{{0}, {1, 2, 3, 4, 5}}},
		"FIN":      {mod(func(s []seg) { s[2].flags |= tcpFIN }), [][]int{{0, 1}, {2}, {3, 4, 5}}},
		"SYN":      {mod(func(s []seg) { s[2].flags |= tcpSYN }), [][]int{{0, 1}, {2}, {3, 4, 5}}},
		"RST":      {mod(func(s []seg) { s[2].flags |= tcpRST }), [][]int{{0, 1}, {2}, {3, 4, 5}}},
		"URG":      {mod(func(s []seg) { s[2].flags |= 0x20 }), [][]int{{0, 1}, {2}, {3, 4, 5}}},
		"ECE":      {mod(func(s []seg) { s[2].flags |= 0x40 }), [][]int{{0, 1}, {2}, {3, 4, 5}}},
		"CWR":      {mod(func(s []seg) { s[2].flags |= tcpCWR }), [][]int{{0, 1}, {2}, {3, 4, 5}}},
		// A header field changed from segment 3 on, as when an ACK or the
		// path changes: the new value starts a group of its own.
		"other ack":      {mod(from3(func(s *seg) { s.ack++ })), [][]int{{0, 1, 2}, {3, 4, 5}}},
		"other options":  {mod(from3(func(s *seg) { s.opts = []byte{1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 2} })), [][]int{{0, 1, 2}, {3, 4, 5}}},
		"no options":     {mod(from3(func(s *seg) { s.opts = nil })), [][]int{{0, 1, 2}, {3, 4, 5}}},
		"other TOS (CE)": {mod(from3(func(s *seg) { s.tos = 3 })), [][]int{{0, 1, 2}, {3, 4, 5}}},
		"other TTL":      {mod(from3(func(s *seg) { s.ttl = 9 })), [][]int{{0, 1, 2}, {3, 4, 5}}},
		"changed once":   {mod(func(s []seg) { s[3].ttl = 9 }), [][]int{{0, 1, 2}, {3}, {4, 5}}},
		// A short segment ends its group; a longer one cannot join.
		"short middle": {mod(renumber(func(s []seg) { s[2].payload = s[2].payload[:500] })), [][]int{{0, 1, 2}, {3, 4, 5}}},
		"longer":       {mod(renumber(func(s []seg) { s[2].payload = pattern(1001, 1) })), [][]int{{0, 1}, {2, 3}, {4, 5}}},
		"no payload":   {mod(renumber(func(s []seg) { s[2].payload = nil })), [][]int{{0, 1}, {2}, {3, 4, 5}}},
		// Another protocol between the same hosts is no part of the flow
		// (here the TCP flow then has a gap where it was).
		"UDP": {mod(func(s []seg) { s[2].udp = true }), [][]int{{0, 1}, {2}, {3, 4, 5}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { checkGRO(t, c.segs, c.want) })
	}
}

// from3 applies f to every segment from the fourth on.
func from3(f func(*seg)) func([]seg) {
	return func(s []seg) {
		for i := 3; i < len(s); i++ {
			f(&s[i])
		}
	}
}

// renumber applies f and then numbers the segments' sequence afresh from
// their payload lengths.
func renumber(f func([]seg)) func([]seg) {
	return func(s []seg) {
		f(s)
		for i := 1; i < len(s); i++ {
			s[i].seq = s[i-1].seq + uint32(len(s[i-1].payload))
		}
	}
}

// UDP datagrams of a flow coalesce as USO super-packets, when the table
// takes UDP: every one as long as the first, a shorter one last.
func TestGROCoalescesUDP(t *testing.T) {
	udp := func(s []seg) []seg {
		for i := range s {
			s[i].udp = true
		}
		return s
	}
	checkGRO(t, udp(flow(t, addrA4, addrB4, 6, 1200, 0)), [][]int{seq(0, 6)})
	checkGRO(t, udp(flow(t, addrA6, addrB6, 4, 1200, 99)), [][]int{seq(0, 4)})
	s := udp(flow(t, addrA4, addrB4, 6, 1200, 0))
	s[2].payload = s[2].payload[:100]
	s[4].badSum = true
	checkGRO(t, s, [][]int{{0, 1, 2}, {3}, {4}, {5}})
	s = udp(flow(t, addrA4, addrB4, 100, 100, 0))
	groups, _ := groWrites(t, newGROTable(true), builds(t, s))
	if len(groups) != 2 || len(groups[0]) != groMaxUDPSegments {
		t.Errorf("100 datagrams in groups of %v; want %d and the rest", groups, groMaxUDPSegments)
	}
	// Without USO, or without a checksum, each goes alone.
	pkts := builds(t, udp(flow(t, addrA4, addrB4, 3, 1200, 0)))
	if groups, _ := groWrites(t, newGROTable(false), pkts); len(groups) != 3 {
		t.Errorf("UDP without USO in groups %v; want each alone", groups)
	}
	for _, p := range pkts {
		p[26], p[27] = 0, 0
	}
	if groups, _ := groWrites(t, newGROTable(true), pkts); len(groups) != 3 {
		t.Errorf("UDP without checksums in groups %v; want each alone", groups)
	}
}

// Packets the coalescer leaves alone: IPv4 with options or fragmented,
// IPv6 with an extension header, truncated or not IP at all.
func TestGROLeavesAlone(t *testing.T) {
	segs := flow(t, addrA4, addrB4, 3, 1000, 0)
	pkts := builds(t, segs)
	opts := append(append(append([]byte{}, pkts[1][:20]...), 1, 1, 1, 1), pkts[1][20:]...)
	opts[0], opts[3] = 0x46, opts[3]+4 // IHL 6 (NOP options), total length + 4
	frag := bytes.Clone(pkts[1])
	frag[6] |= 0x20 // MF
	for name, p := range map[string][]byte{"IPv4 options": opts, "fragment": frag, "truncated": pkts[1][:30], "not IP": {0x50, 1, 2}} {
		in := [][]byte{pkts[0], p, pkts[2]}
		groups, _ := groWrites(t, newGROTable(true), in)
		if fmt.Sprint(groups) != fmt.Sprint([][]int{{0}, {1}, {2}}) {
			t.Errorf("%s: groups %v; want each alone", name, groups)
		}
	}
}

// A group stops at the 65535 octets an IP packet can have.
func TestGROBoundsLength(t *testing.T) {
	segs := flow(t, addrA4, addrB4, 60, 1400, 0)
	pkts := builds(t, segs)
	groups, writes := groWrites(t, newGROTable(true), pkts)
	total := 0
	for k, w := range writes {
		if len(w)-vnetHdrLen > groMaxLength {
			t.Errorf("write %d: %d octets", k, len(w)-vnetHdrLen)
		}
		total += len(groups[k])
	}
	if len(groups) != 2 || total != 60 {
		t.Errorf("60 segments of 1400 in %d groups %v; want 2", len(groups), groups)
	}
}

// The table is reused without allocating.
func TestGROAllocs(t *testing.T) {
	pkts := builds(t, flow(t, addrA4, addrB4, 32, 1388, 0))
	bufs := make([][]byte, len(pkts))
	for i, p := range pkts {
		bufs[i] = append(make([]byte, groOffset), p...)
	}
	g := newGROTable(true)
	g.plan(bufs, groOffset)
	if a := testing.AllocsPerRun(50, func() { g.plan(bufs, groOffset) }); a != 0 {
		t.Errorf("plan allocates %.1f times per batch", a)
	}
}

// FuzzGRO: any batch is planned without a panic, every packet written
// once, in flow order, and every group segments back into exactly its
// packets with their checksums valid.
func FuzzGRO(f *testing.F) {
	seed := func(segs []seg) {
		var b []byte
		for _, p := range builds(f, segs) {
			b = append(b, byte(len(p)>>8), byte(len(p)))
			b = append(b, p...)
		}
		f.Add(b)
	}
	seed(flow(f, addrA4, addrB4, 4, 100, 0))
	seed(flow(f, addrA6, addrB6, 3, 64, 7))
	s := flow(f, addrA4, addrB4, 4, 50, 0)
	s[2].badSum = true
	seed(s)
	f.Fuzz(func(t *testing.T, b []byte) {
		var pkts [][]byte
		for len(b) >= 2 && len(pkts) < IdealBatchSize {
			n := min(int(b[0])<<8|int(b[1]), len(b)-2)
			pkts = append(pkts, b[2:2+n])
			b = b[2+n:]
		}
		orig := make([][]byte, len(pkts))
		for i, p := range pkts {
			orig[i] = bytes.Clone(p)
		}
		groups, writes := groWrites(t, newGROTable(true), pkts)
		for k, w := range writes {
			if len(groups[k]) == 1 {
				if !bytes.Equal(w[vnetHdrLen:], orig[groups[k][0]]) {
					t.Fatalf("packet %d alone but changed", groups[k][0])
				}
				continue
			}
			back := resplit(t, w)
			if len(back) != len(groups[k]) {
				t.Fatalf("group %v segments back into %d packets", groups[k], len(back))
			}
			for j, i := range groups[k] {
				// Only the IPv4 identification may differ (the host's
				// segmentation counts it up from the first).
				got, want := bytes.Clone(back[j]), bytes.Clone(orig[i])
				if got[0]>>4 == 4 && len(got) >= 12 && len(want) >= 12 {
					got[4], got[5], got[10], got[11] = 0, 0, 0, 0
					want[4], want[5], want[10], want[11] = 0, 0, 0, 0
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("group %v: packet %d comes back as\n%x\nnot\n%x", groups[k], i, back[j], orig[i])
				}
			}
		}
	})
}

// TestGROTableReused: a table plans one Write after another, and what it
// remembers of the last flow looked up belongs to the one Write: a
// flow's group open at the end of one batch is not joined by the same
// flow's next segment in the next batch (that one heads a group of its
// own), and a flow closed and opened again within a batch is found anew.
func TestGROTableReused(t *testing.T) {
	g := newGROTable(true)
	a := flow(t, addrA4, addrB4, 12, 1000, 0)
	b := flow(t, addrA6, addrB6, 4, 1000, 0)
	a[5].flags |= tcpPSH // closes a's first group: 6 opens a new one
	first := builds(t, []seg{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]})
	groups, _ := groWrites(t, g, first)
	if want := "[[0 1 2 3 4 5] [6 7]]"; fmt.Sprint(groups) != want {
		t.Fatalf("first Write: groups %v; want %s", groups, want)
	}
	// The same flow's next segments first, then another flow's, then
	// the first flow's again.
	second := builds(t, []seg{a[8], a[9], b[0], b[1], a[10], b[2], a[11], b[3]})
	groups, writes := groWrites(t, g, second)
	if want := "[[0 1 4 6] [2 3 5 7]]"; fmt.Sprint(groups) != want {
		t.Fatalf("second Write: groups %v; want %s", groups, want)
	}
	for k, w := range writes {
		back := resplit(t, w)
		for j, i := range groups[k] {
			if !bytes.Equal(back[j], second[i]) {
				t.Errorf("second Write, group %v: packet %d does not come back as it was", groups[k], i)
			}
		}
	}
}
