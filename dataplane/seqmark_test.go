package dataplane

import (
	"testing"
	"time"
)

// An SA with a mark sends up to the mark and no further, signals the
// kick channel once when it reaches the kick point, and goes on when a
// higher mark is set.
func TestSequenceMarkHoldsAndKicks(t *testing.T) {
	p := newPair(t, pairOptions{})
	kick := make(chan struct{}, 1)
	p.a.SetSequenceKick(kick)
	p.outA.SetSequenceMark(5, 3)
	pkt := icmpEcho(hostA, hostB, 200, false, 0)
	send := func(n int, want uint64) {
		t.Helper()
		for range n {
			if !p.tunA.Inject(pkt) {
				t.Fatal("inject")
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for p.outA.Sequence() < want {
			if time.Now().After(deadline) {
				t.Fatalf("sequence %d, want %d", p.outA.Sequence(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	receive := func(n int) {
		t.Helper()
		for range n {
			if _, err := p.tunB.Receive(2 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	kicked := func() bool {
		select {
		case <-kick:
			return true
		default:
			return false
		}
	}

	send(2, 2)
	receive(2)
	if kicked() {
		t.Fatal("kicked below the kick point")
	}
	send(1, 3)
	receive(1)
	if !kicked() {
		t.Fatal("no kick at the kick point")
	}
	send(5, 8) // 4 and 5 go; 6, 7 and 8 are held
	receive(2)
	if got := p.outA.Counters.SequenceHeld.Load(); got != 3 || p.a.Stats.SequenceHeld.Load() != 3 {
		t.Fatalf("held %d (engine %d), want 3", got, p.a.Stats.SequenceHeld.Load())
	}
	if got := p.inB.Sequence(); got != 5 {
		t.Fatalf("the peer saw sequence %d, want 5: nothing above the mark goes", got)
	}
	if kicked() {
		t.Fatal("kicked twice for one mark")
	}

	// The next mark is written: the SA goes on, and kicks at its point.
	p.outA.SetSequenceMark(20, 10)
	send(1, 9)
	receive(1)
	if got := p.inB.Sequence(); got != 9 {
		t.Fatalf("the peer saw sequence %d, want 9", got)
	}
	send(1, 10)
	receive(1)
	if !kicked() {
		t.Fatal("no kick at the second mark's point")
	}

	// Off: no limit, no kick.
	p.outA.SetSequenceMark(0, 0)
	send(30, 40)
	receive(30)
	if kicked() || p.outA.Counters.SequenceHeld.Load() != 3 {
		t.Fatal("a mark of zero still holds or kicks")
	}
}

// BenchmarkEncapsulateMarked1400 is BenchmarkEncapsulate1400 with and
// without a high-water mark on the SA (far away, as between two writes):
// the mark costs one atomic load and compare per packet, no allocation.
func BenchmarkEncapsulateMarked1400(b *testing.B) {
	for _, marked := range []bool{false, true} {
		name := "none"
		if marked {
			name = "marked"
		}
		b.Run(name, func(b *testing.B) {
			p := newPair(b, pairOptions{})
			if marked {
				p.a.SetSequenceKick(make(chan struct{}, 1))
				p.outA.SetSequenceMark(1<<62, 1<<61)
			}
			tn := p.a.tunnels["st0.1"]
			pkt := icmpEcho(hostA, hostB, 1400, false, 0)
			batch := newOutBatch(p.a, 1)
			buf := batch.bufs[0]
			out := &sendBatch{}
			b.ReportAllocs()
			b.SetBytes(1400)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				copy(buf[headroom:], pkt)
				batch.items = batch.items[:0]
				tn.encapsulate(buf[:headroom+len(pkt)], batch)
				batch.crypt(0, len(batch.items))
				p.a.emit(batch.items, out)
				out.v4 = out.v4[:0]
			}
		})
	}
}

// BenchmarkReachMark is the packet path at its kick point: every packet
// past it (until the next mark is written) takes the rare path, which
// still allocates nothing and does not block.
func BenchmarkReachMark(b *testing.B) {
	p := newPair(b, pairOptions{})
	p.a.SetSequenceKick(make(chan struct{}, 1))
	p.outA.SetSequenceMark(1<<62, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !p.a.reachMark(p.outA, uint64(i)+1) {
			b.Fatal("held below the limit")
		}
	}
}
