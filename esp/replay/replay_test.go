package replay

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

func mustNew(t testing.TB, cfg Config) *Window {
	t.Helper()
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// receive is what ESP does with a packet whose ICV verifies.
func receive(w *Window, seqLow uint32) (uint64, bool) {
	seq, ok := w.Check(seqLow)
	if !ok {
		return seq, false
	}
	return seq, w.Accept(seq)
}

func TestNewSizes(t *testing.T) {
	cases := []struct{ in, size, ring int }{
		{0, 64, 2}, {1, 64, 2}, {64, 64, 2}, {65, 128, 4}, {100, 128, 4},
		{1024, 1024, 32}, {4096, 4096, 128}, {MaxSize, MaxSize, 2048},
	}
	for _, c := range cases {
		w := mustNew(t, Config{Size: c.in})
		if w.Size() != c.size || len(w.ring) != c.ring {
			t.Errorf("New(%d): size %d ring %d, want %d and %d", c.in, w.Size(), len(w.ring), c.size, c.ring)
		}
	}
	for _, bad := range []int{-1, MaxSize + 1} {
		if _, err := New(Config{Size: bad}); err == nil {
			t.Errorf("New(%d) accepted", bad)
		}
	}
}

func TestWindowEdges(t *testing.T) {
	for _, size := range []int{64, 1024, 4096} {
		w := mustNew(t, Config{Size: size})
		const top = 10000
		if _, ok := receive(w, top); !ok {
			t.Fatalf("W=%d: first packet rejected", size)
		}
		left := uint32(top - size + 1) // the oldest sequence number still inside
		if _, ok := w.Check(left - 1); ok {
			t.Errorf("W=%d: one beyond the left edge passed Check", size)
		}
		if w.Accept(uint64(left - 1)) {
			t.Errorf("W=%d: one beyond the left edge accepted", size)
		}
		if _, ok := receive(w, left); !ok {
			t.Errorf("W=%d: exactly at the left edge rejected", size)
		}
		if _, ok := receive(w, left); ok {
			t.Errorf("W=%d: duplicate at the left edge accepted", size)
		}
		if _, ok := receive(w, top); ok {
			t.Errorf("W=%d: duplicate of top accepted", size)
		}
		if _, ok := receive(w, top+1); !ok {
			t.Errorf("W=%d: next packet rejected", size)
		}
		// top moved by one: the old left edge is now outside.
		if _, ok := w.Check(left); ok {
			t.Errorf("W=%d: left edge still inside after the window moved", size)
		}
	}
}

func TestLateAndDuplicate(t *testing.T) {
	w := mustNew(t, Config{})
	for _, s := range []uint32{1, 2, 5, 4, 3, 64, 10} {
		if _, ok := receive(w, s); !ok {
			t.Errorf("seq %d rejected", s)
		}
	}
	for _, s := range []uint32{1, 2, 3, 4, 5, 10, 64} {
		if _, ok := w.Check(s); ok {
			t.Errorf("duplicate %d passed Check", s)
		}
	}
	if _, ok := w.Check(0); ok {
		t.Errorf("sequence number 0 passed Check")
	}
	if w.Accept(0) {
		t.Errorf("sequence number 0 accepted")
	}
	// Check passed twice (two cores), Accept decides.
	a, okA := w.Check(20)
	b, okB := w.Check(20)
	if !okA || !okB || a != 20 || b != 20 {
		t.Fatalf("Check(20) = %d %v, %d %v", a, okA, b, okB)
	}
	if !w.Accept(a) || w.Accept(b) {
		t.Errorf("a packet checked twice must be accepted exactly once")
	}
}

// TestJumpClearsStaleBits moves the window by exactly a ring's worth of
// bits, so new sequence numbers reuse the words of old ones.
func TestJumpClearsStaleBits(t *testing.T) {
	for _, size := range []int{64, 1024, 4096} {
		w := mustNew(t, Config{Size: size})
		ringBits := uint64(len(w.ring) * 64)
		for s := uint64(1); s <= 200; s++ {
			receive(w, uint32(s))
		}
		for _, jump := range []uint64{ringBits, ringBits + 1, 7 * ringBits, 1 << 30} {
			top := w.Top()
			next := top + jump
			if _, ok := receive(w, uint32(next)); !ok {
				t.Fatalf("W=%d: jump of %d rejected", size, jump)
			}
			for back := uint64(1); back < uint64(size); back++ {
				if _, ok := w.Check(uint32(next - back)); !ok {
					t.Fatalf("W=%d: after a jump of %d, seq top-%d looks seen (stale bit)", size, jump, back)
				}
			}
		}
	}
}

// TestAgainstModel drives random traffic (in order, late, duplicated,
// jumping) through the window and a plain-map model of RFC 4303 §3.4.3.
func TestAgainstModel(t *testing.T) {
	for _, size := range []int{64, 100, 1024, 4096} {
		w := mustNew(t, Config{Size: size})
		W := uint64(w.Size())
		seen := map[uint64]bool{}
		var top uint64
		rng := rand.New(rand.NewPCG(uint64(size), 1))
		for i := 0; i < 200000; i++ {
			var s uint64
			switch r := rng.IntN(100); {
			case r < 60:
				s = top + 1 + uint64(rng.IntN(4))
			case r < 85:
				s = top - uint64(rng.IntN(int(W)+64)) // late, maybe too late
			case r < 95:
				s = top - uint64(rng.IntN(8)) // duplicates near the top
			default:
				s = top + uint64(rng.IntN(3*int(W)))
			}
			if s == 0 || s > 1<<32-1 {
				continue
			}
			wantNew := s > top || (top-s < W && !seen[s])
			_, got := receive(w, uint32(s))
			if got != wantNew {
				t.Fatalf("W=%d step %d: seq %d (top %d) accepted=%v, model says %v", size, i, s, top, got, wantNew)
			}
			if got {
				seen[s] = true
				top = max(top, s)
			}
		}
	}
}

func TestESNInference(t *testing.T) {
	w := mustNew(t, Config{ESN: true})
	const epoch = uint64(1) << 32
	// Fresh window: a low number is the first epoch, a huge one would be
	// from before the first packet.
	if seq, ok := w.Check(1); !ok || seq != 1 {
		t.Errorf("fresh Check(1) = %d, %v", seq, ok)
	}
	if _, ok := w.Check(0xffffffff); ok {
		t.Errorf("fresh window placed 0xffffffff before sequence number 1")
	}
	// Walk up to the end of epoch 0 and across it. (A direct jump from 1 to
	// 0xfffffff0 would be read as a late packet from before sequence number
	// 1, as Appendix A intends.)
	for _, s := range []uint32{1, 0x80000000, 0xfffffff0, 0xffffffff} {
		if seq, ok := receive(w, s); !ok || seq != uint64(s) {
			t.Fatalf("receive(%#x) = %#x, %v", s, seq, ok)
		}
	}
	if seq, ok := receive(w, 0); !ok || seq != epoch {
		t.Fatalf("low bits 0 after 0xffffffff = %#x, %v; want %#x", seq, ok, epoch)
	}
	if seq, ok := receive(w, 5); !ok || seq != epoch+5 {
		t.Fatalf("receive(5) = %#x, %v; want %#x", seq, ok, epoch+5)
	}
	// Window straddles the boundary: a late packet from epoch 0.
	if seq, ok := receive(w, 0xfffffffe); !ok || seq != epoch-2 {
		t.Errorf("late 0xfffffffe = %#x, %v; want %#x", seq, ok, epoch-2)
	}
	if _, ok := w.Check(0xffffffff); ok {
		t.Errorf("duplicate across the boundary passed Check")
	}
	// Window inside epoch 1: below its bottom means epoch 2 (Appendix A,
	// the ICV then decides).
	receive(w, 1000)
	if seq, ok := w.Check(950); !ok || seq != epoch+950 {
		t.Errorf("Check(950) = %#x, %v; want %#x", seq, ok, epoch+950)
	}
	if seq, ok := w.Check(10); !ok || seq != 2*epoch+10 {
		t.Errorf("Check(10) = %#x, %v; want next epoch %#x", seq, ok, 2*epoch+10)
	}
}

func TestESNEndOfSpace(t *testing.T) {
	w := mustNew(t, Config{ESN: true})
	w.top = ^uint64(0) - 10
	if seq, ok := w.Check(^uint32(0)); !ok || seq != ^uint64(0) {
		t.Errorf("last sequence number: %#x, %v", seq, ok)
	}
	if _, ok := w.Check(3); ok {
		t.Errorf("a sequence number beyond 2^64-1 passed Check")
	}
}

func TestDisabled(t *testing.T) {
	w := mustNew(t, Config{ESN: true, Disabled: true})
	if w.Enabled() {
		t.Fatal("Enabled() on a disabled window")
	}
	for i := 0; i < 3; i++ {
		if seq, ok := receive(w, 7); !ok || seq != 7 {
			t.Errorf("disabled window rejected duplicate 7 (%d, %v)", seq, ok)
		}
	}
	receive(w, 0x80000000)
	receive(w, 0xffffffff)
	if seq, ok := receive(w, 2); !ok || seq != 1<<32+2 {
		t.Errorf("ESN inference without anti-replay: %#x, %v", seq, ok)
	}
	if seq, ok := receive(w, 3); !ok || seq != 1<<32+3 {
		t.Errorf("%#x, %v", seq, ok)
	}
	if w.Top() != 1<<32+3 {
		t.Errorf("Top = %#x", w.Top())
	}
}

// TestConcurrent feeds the same packets from several goroutines, as
// parallel decryption does; each must be accepted exactly once.
func TestConcurrent(t *testing.T) {
	const n, workers = 3000, 4
	w := mustNew(t, Config{Size: 4096, ESN: true})
	var accepted [n + 1]atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			order := rand.New(rand.NewPCG(uint64(g), 2)).Perm(n)
			for _, i := range order {
				if seq, ok := receive(w, uint32(i+1)); ok {
					accepted[seq].Add(1)
				}
			}
		}(g)
	}
	wg.Wait()
	for s := 1; s <= n; s++ {
		if c := accepted[s].Load(); c != 1 {
			t.Fatalf("seq %d accepted %d times, want exactly once", s, c)
		}
	}
}

func BenchmarkCheckAccept(b *testing.B) {
	w := mustNew(b, Config{Size: 1024, ESN: true})
	b.ReportAllocs()
	var s uint32
	for b.Loop() {
		s++
		seq, _ := w.Check(s)
		w.Accept(seq)
	}
}

// TestAcceptRun: a run of Accepts under one lock answers as the same
// Accepts one by one, on windows with and without anti-replay and ESN,
// with duplicates, late and far-ahead numbers in the runs.
func TestAcceptRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 7))
	for _, cfg := range []Config{{}, {Size: 1024}, {ESN: true}, {Disabled: true}, {Size: 128, ESN: true, Disabled: true}} {
		one, run := mustNew(t, cfg), mustNew(t, cfg)
		base := uint64(1)
		for round := 0; round < 2000; round++ {
			seqs := make([]uint64, rng.IntN(40))
			for i := range seqs {
				switch rng.IntN(6) {
				case 0:
					seqs[i] = 0 // never valid
				case 1:
					if i > 0 {
						seqs[i] = seqs[rng.IntN(i)] // a duplicate in the run
						continue
					}
					fallthrough
				case 2:
					seqs[i] = base - min(base-1, uint64(rng.IntN(3000))) // late
				case 3:
					seqs[i] = base + uint64(rng.IntN(5000)) // ahead, maybe far
				default:
					seqs[i] = base + uint64(i)
				}
			}
			base += uint64(len(seqs))
			want := make([]bool, len(seqs))
			for i, s := range seqs {
				want[i] = one.Accept(s)
			}
			got := make([]bool, len(seqs)+3) // longer than needed: only the first len(seqs) count
			run.AcceptRun(seqs, got)
			for i := range seqs {
				if got[i] != want[i] {
					t.Fatalf("%+v round %d: AcceptRun(%d) = %v, Accept says %v", cfg, round, seqs[i], got[i], want[i])
				}
			}
			if one.Top() != run.Top() {
				t.Fatalf("%+v round %d: top %d after the run, %d one by one", cfg, round, run.Top(), one.Top())
			}
		}
	}
	w := mustNew(t, Config{})
	seqs, ok := []uint64{1, 2, 3}, make([]bool, 3)
	if a := testing.AllocsPerRun(100, func() { w.AcceptRun(seqs, ok) }); a != 0 {
		t.Fatalf("%v allocations per AcceptRun", a)
	}
}

// TestLastRefused: the window remembers the last packet it refused, with
// its top then and whether the refusal came after the ICV (Accept) or
// before it (Check), so a moved replay counter can be told apart: a
// duplicate, a packet later than the window, or garbage.
func TestLastRefused(t *testing.T) {
	w := mustNew(t, Config{}) // with ESN, 30 would be the next 2^32
	if r, ok := w.LastRefused(); ok {
		t.Fatalf("a new window has refused %+v", r)
	}
	for s := uint32(1); s <= 100; s++ {
		receive(w, s)
	}
	if _, ok := w.Check(30); ok { // 70 behind a top of 100: too late
		t.Fatal("seq 30 passed Check with top 100")
	}
	if r, ok := w.LastRefused(); !ok || r != (Refusal{Seq: 30, Top: 100}) {
		t.Errorf("after a late packet: %+v %v, want seq 30 top 100 not authenticated", r, ok)
	}
	a, _ := w.Check(101)
	b, _ := w.Check(101)
	w.Accept(a)
	if w.Accept(b) {
		t.Fatal("101 accepted twice")
	}
	if r, _ := w.LastRefused(); r != (Refusal{Seq: 101, Top: 101, Authenticated: true}) {
		t.Errorf("after a duplicate accepted: %+v, want seq 101 top 101 authenticated", r)
	}
	if w.Accept(0) {
		t.Fatal("0 accepted")
	}
	if r, _ := w.LastRefused(); r != (Refusal{Seq: 0, Top: 101, Authenticated: true}) {
		t.Errorf("after sequence number 0: %+v", r)
	}
}

// TestRefusals: every refusal is counted once, by why (a copy of a packet
// accepted, one W or more behind the top, an impossible number) and by
// whether it came before the ICV (Check) or after it (Accept); a packet
// exactly W behind is late, W-1 behind and seen a duplicate.
func TestRefusals(t *testing.T) {
	w := mustNew(t, Config{})
	for s := uint32(1); s <= 100; s++ {
		receive(w, s)
	}
	if r := w.Refusals(); r != (Refusals{}) {
		t.Fatalf("nothing refused yet, counted %+v", r)
	}
	check := func(seqLow uint32) {
		t.Helper()
		if _, ok := w.Check(seqLow); ok {
			t.Fatalf("Check(%d) passed with top %d", seqLow, w.Top())
		}
	}
	check(36) // 64 behind 100
	check(20)
	check(37) // 63 behind, seen
	check(100)
	check(0)
	// Two copies of 101 pass Check before either is accepted: the second
	// is an authentic duplicate. 102 passes Check, then 166 is accepted
	// first (a run opened out of order): 102 is authentically late.
	a, _ := w.Check(101)
	b, _ := w.Check(101)
	late, _ := w.Check(102)
	ok := make([]bool, 4)
	w.AcceptRun([]uint64{a, b, 166, late}, ok)
	if !ok[0] || ok[1] || !ok[2] || ok[3] {
		t.Fatalf("AcceptRun(101, 101, 166, 102) = %v, want true false true false", ok)
	}
	if w.Accept(0) {
		t.Fatal("0 accepted")
	}
	want := Refusals{Duplicate: 2, Late: 2, Invalid: 1, AuthenticDuplicate: 1, AuthenticLate: 1, AuthenticInvalid: 1}
	if r := w.Refusals(); r != want {
		t.Errorf("refusals %+v, want %+v", r, want)
	}

	// With ESN, a number that would lie beyond 2^64-1 is invalid.
	e := mustNew(t, Config{ESN: true})
	e.Accept(^uint64(0) - 10)
	if _, ok := e.Check(5); ok {
		t.Fatal("Check(5) passed at the top of the sequence space")
	}
	if r := e.Refusals(); r != (Refusals{Invalid: 1}) {
		t.Errorf("ESN past 2^64-1: refusals %+v, want one invalid", r)
	}

	// Anti-replay off refuses nothing but zero.
	d := mustNew(t, Config{Disabled: true})
	for _, s := range []uint32{5, 5, 1, 0} {
		receive(d, s)
	}
	if r := d.Refusals(); r != (Refusals{Invalid: 1}) {
		t.Errorf("anti-replay off: refusals %+v, want only the zero", r)
	}
}
