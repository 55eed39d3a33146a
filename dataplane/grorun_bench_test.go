package dataplane

import (
	"net/netip"
	"testing"

	"ipsecgw/netio"
)

// BenchmarkPipelineOpenGRO1400 is BenchmarkPipelineOpen1400 with the
// packets arriving as a UDP GRO socket hands them over: runs of 40
// datagrams of ESP in UDP in one message, the first opened in place,
// the others into spare buffers.
func BenchmarkPipelineOpenGRO1400(b *testing.B) {
	for _, mode := range []PipelineMode{PipelineInline, PipelineParallel} {
		b.Run(mode.String(), func(b *testing.B) { benchPipelineOpenGRO(b, mode) })
	}
}

// groRun is the number of datagrams in one message of the GRO benchmark.
const groRun = 40

func benchPipelineOpenGRO(b *testing.B, mode PipelineMode) {
	e, tun, sealedPkt := openBench(b, mode, Encapsulation{UDP: true, DstPort: 4500, SrcPort: 4500})
	r := groLoop{newLoopReceiver(sealedPkt, 64)}
	if err := e.AddReceiver(r, 4, 4500); err != nil {
		b.Fatal(err)
	}
	benchPackets(b, func(n int) {
		msgs := (n + groRun - 1) / groRun
		tun.target.Store(tun.n.Load() + int64(msgs*groRun))
		r.feed(msgs)
		<-tun.done
	})
}

// groLoop is a loopReceiver whose every message is a GRO run of groRun
// copies of its packet.
type groLoop struct{ loopReceiver }

func (r groLoop) ReadBatch(msgs []netio.Message) (int, error) {
	n, err := r.take(len(msgs))
	for i := range n {
		m := &msgs[i]
		m.N = 0
		for range groRun {
			m.N += copy(m.Buf[m.N:], r.pkt)
		}
		m.SegmentSize = len(r.pkt)
		m.Src = netip.AddrPortFrom(outerA, 4500)
		m.Dst, m.TOS, m.DstPort = outerB, 0, 0
	}
	return n, err
}
