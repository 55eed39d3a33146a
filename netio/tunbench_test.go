package netio

import (
	"testing"
	"time"
)

// BenchmarkTUNSplit splits a 64 KB TSO super-packet (46 segments of 1388
// octets, timestamps on) into MTU-sized packets: the outbound side's cost
// per TUN read beyond the kernel's copy.
func BenchmarkTUNSplit(b *testing.B) {
	segs := flow(b, addrA4, addrB4, 47, 1388, 0)
	p, h := superPacket(b, segs)
	in := make([]byte, len(p))
	bufs, sizes := tunBufs(IdealBatchSize, 64, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	start, iters := time.Now(), 0
	for b.Loop() {
		copy(in, p) // the split writes into in's headers
		if n, err := splitPacket(in, h, bufs, sizes, 64); n != len(segs) || err != nil {
			b.Fatalf("split = %d, %v", n, err)
		}
		iters++
	}
	reportPerPacket(b, start, iters*len(segs))
}

// BenchmarkTUNCoalesce plans a batch of 64 in-order TCP segments of one
// flow (two super-packets): the inbound side's cost per TUN write beyond
// the kernel's, checksum verification included.
func BenchmarkTUNCoalesce(b *testing.B) {
	pkts := builds(b, flow(b, addrA4, addrB4, 64, 1388, 0))
	bufs := make([][]byte, len(pkts))
	for i, p := range pkts {
		bufs[i] = append(make([]byte, groOffset), p...)
	}
	g := newGROTable(true)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkts) * len(pkts[0])))
	start, iters := time.Now(), 0
	for b.Loop() {
		g.plan(bufs, groOffset)
		iters++
	}
	if len(g.groups) != 2 || g.groups[0].segs < 2 {
		b.Fatalf("%d groups", len(g.groups))
	}
	reportPerPacket(b, start, iters*len(pkts))
}
