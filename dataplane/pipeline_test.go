package dataplane

import (
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// recordSender keeps a copy of every packet sent.
type recordSender struct {
	mu   sync.Mutex
	pkts [][]byte
}

func (s *recordSender) WriteBatch(pkts [][]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range pkts {
		s.pkts = append(s.pkts, append([]byte(nil), p...))
	}
	return len(pkts), nil
}

func (s *recordSender) Close() error { return nil }

func (s *recordSender) snapshot() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.pkts...)
}

// chanReceiver hands out the batches put on its channel, one per read.
type chanReceiver struct {
	batches chan [][]byte
	done    chan struct{}
	once    sync.Once
}

func newChanReceiver() *chanReceiver {
	return &chanReceiver{batches: make(chan [][]byte, 64), done: make(chan struct{})}
}

func (r *chanReceiver) ReadBatch(msgs []netio.Message) (int, error) {
	select {
	case batch := <-r.batches:
		for i, p := range batch {
			msgs[i].N = copy(msgs[i].Buf, p)
			msgs[i].Src = netip.AddrPortFrom(outerA, 0)
			msgs[i].Dst = outerB
			msgs[i].TOS = 0
			msgs[i].SegmentSize = 0
		}
		return len(batch), nil
	case <-r.done:
		return 0, net.ErrClosed
	}
}

func (r *chanReceiver) Close() error {
	r.once.Do(func() { close(r.done) })
	return nil
}

// numbered is an inner packet carrying its index in the ICMP payload.
func numbered(i int) []byte {
	p := icmpEcho(hostA, hostB, 200, false, 0)
	binary.BigEndian.PutUint32(p[28:], uint32(i))
	return p
}

// TestPipelineKeepsOrder sends a burst through one SA, with several crypto
// workers and inline: on the wire the sequence numbers are 1, 2, 3, ...
// and the inner packets are in the order they entered; on the way in, the
// packets reach the tunnel in the order they arrived, every one decrypted
// once.
func TestPipelineKeepsOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, mode := range []PipelineMode{PipelineParallel, PipelineInline} {
		t.Run(mode.String(), func(t *testing.T) { testPipelineKeepsOrder(t, mode) })
	}
}

func testPipelineKeepsOrder(t *testing.T, mode PipelineMode) {
	const total = 2000
	wire := &recordSender{}
	a := New(Config{Send4: wire, Pipeline: mode})
	defer a.Close()
	if a.Pipeline() != mode {
		t.Fatalf("engine runs %v, asked for %v", a.Pipeline(), mode)
	}
	if mode == PipelineParallel && a.work.n < 2 {
		t.Fatalf("%d workers; the test needs several", a.work.n)
	}
	tunA := netio.NewMemTUN("st0.1", 1400)
	if _, err := a.AddTunnel(tunA, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.InstallOutbound("st0.1", OutboundParams{ESP: gcmConfig(t, 0x1234), Local: outerA, Remote: outerB}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < total; {
		// The TUN's queue holds 512; inject in bursts the loop can take.
		for j := 0; j < 256 && i < total; j++ {
			if !tunA.Inject(numbered(i)) {
				t.Fatalf("inject %d refused", i)
			}
			i++
		}
		waitFor(t, func() bool { return len(wire.snapshot()) >= i })
	}
	pkts := wire.snapshot()
	if len(pkts) != total {
		t.Fatalf("%d packets on the wire, want %d", len(pkts), total)
	}
	check, err := esp.NewInbound(gcmConfig(t, 0x1234))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		payload := append([]byte(nil), p[20:]...)
		if seq := binary.BigEndian.Uint32(payload[4:]); seq != uint32(i+1) {
			t.Fatalf("packet %d carries sequence number %d", i, seq)
		}
		inner, _, err := check.Open(payload)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if got := binary.BigEndian.Uint32(inner[28:]); got != uint32(i) {
			t.Fatalf("packet %d on the wire is inner packet %d", i, got)
		}
	}

	b := New(Config{Send4: &recordSender{}, Pipeline: mode})
	defer b.Close()
	tunB := netio.NewMemTUN("st0.1", 1400)
	if _, err := b.AddTunnel(tunB, nil); err != nil {
		t.Fatal(err)
	}
	in, err := b.InstallInbound("st0.1", InboundParams{ESP: gcmConfig(t, 0x1234), Local: outerB, Remote: outerA})
	if err != nil {
		t.Fatal(err)
	}
	r := newChanReceiver()
	if err := b.AddReceiver(r, 4, 0); err != nil {
		t.Fatal(err)
	}
	next := 0
	for i := 0; i < total; i += 100 {
		var batch [][]byte
		for _, p := range pkts[i:min(i+100, total)] {
			batch = append(batch, p[20:])
		}
		// Every batch twice: the copies are replays, refused in order.
		r.batches <- batch
		r.batches <- batch
		for next < min(i+100, total) {
			got, err := tunB.Receive(5 * time.Second)
			if err != nil {
				t.Fatalf("waiting for packet %d: %v %+v", next, err, b.Stats.Snapshot())
			}
			if n := binary.BigEndian.Uint32(got[28:]); n != uint32(next) {
				t.Fatalf("tunnel got inner packet %d, want %d", n, next)
			}
			next++
		}
	}
	waitFor(t, func() bool { return b.Stats.ReplayErrors.Load() == total })
	if s := in.Counters.Snapshot(); s.DecryptedPackets != total || s.ReplayErrors != total || s.AuthFailures != 0 {
		t.Fatalf("inbound counters %+v", s)
	}
	if _, err := tunB.Receive(50 * time.Millisecond); err == nil {
		t.Fatal("a replayed packet reached the tunnel")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// loopTUN is a tunnel interface for benchmarks: Read returns batches of
// one packet, as many as were asked for with feed; Write discards.
type loopTUN struct {
	pkt    []byte
	batch  int
	left   atomic.Int64
	wake   chan struct{}
	closed chan struct{}
	once   sync.Once
}

func newLoopTUN(pkt []byte, batch int) *loopTUN {
	return &loopTUN{pkt: pkt, batch: batch, wake: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (t *loopTUN) feed(n int) {
	t.left.Add(int64(n))
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *loopTUN) Name() string   { return "st0.1" }
func (t *loopTUN) MTU() int       { return 1500 }
func (t *loopTUN) BatchSize() int { return t.batch }

func (t *loopTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	n, err := t.take(len(bufs))
	for i := range n {
		// The kernel TUN copies each packet into the buffer; so does
		// this one.
		sizes[i] = copy(bufs[i][offset:], t.pkt)
	}
	return n, err
}

// take waits until packets were fed and takes up to max of them, one
// batch at most.
func (t *loopTUN) take(max int) (int, error) {
	for {
		if left := t.left.Load(); left > 0 {
			n := int(min(left, int64(max), int64(t.batch)))
			if t.left.CompareAndSwap(left, left-int64(n)) {
				return n, nil
			}
			continue
		}
		select {
		case <-t.wake:
		case <-t.closed:
			return 0, net.ErrClosed
		}
	}
}

func (t *loopTUN) Write(bufs [][]byte, offset int) (int, error) { return len(bufs), nil }

func (t *loopTUN) Close() error {
	t.once.Do(func() { close(t.closed) })
	return nil
}

// countSender counts packets and says when a target is reached.
type countSender struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func (s *countSender) WriteBatch(pkts [][]byte) (int, error) {
	if s.n.Add(int64(len(pkts))) >= s.target.Load() {
		select {
		case s.done <- struct{}{}:
		default:
		}
	}
	return len(pkts), nil
}

func (s *countSender) Close() error { return nil }

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPackets measures run, which pushes n 1400-octet packets through
// a path and returns when they are out: a warm-up of 4096 (buffers
// touched, workers running), then b.N timed, reported as bytes, allocations
// and cpu-ns/pkt, the process's CPU time per packet, which a busy machine
// disturbs less than ns/op.
func benchPackets(b *testing.B, run func(n int)) {
	run(4096)
	b.ReportAllocs()
	b.SetBytes(1400)
	b.ResetTimer()
	cpu0 := cpuTime()
	run(b.N)
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/pkt")
}

// BenchmarkPipelineSeal1400 runs 1400-byte packets through the whole
// outbound pipeline of one tunnel and one SA (TUN read copy, SA choice,
// sequence numbers, sealing on every core, outer headers, release in
// order; or all of it on the reader, inline) into a sender that discards
// them. ns/op is wall time per packet with all cores; cpu-ns/pkt is the CPU time the process spent per
// packet, to set against BenchmarkBareSeal1400's ns/op (one core, the
// AEAD alone).
func BenchmarkPipelineSeal1400(b *testing.B) {
	for _, mode := range []PipelineMode{PipelineInline, PipelineParallel} {
		b.Run(mode.String(), func(b *testing.B) { benchPipelineSeal(b, mode, 64) })
	}
	for _, mode := range []PipelineMode{PipelineInline, PipelineParallel} {
		b.Run(mode.String()+"-128", func(b *testing.B) { benchPipelineSeal(b, mode, 128) })
	}
	// Light traffic: reads of 16.
	b.Run("parallel-16", func(b *testing.B) { benchPipelineSeal(b, PipelineParallel, 16) })
}

// The -128 sub-benchmarks read batches of 128 packets, as many as the
// gateway's devices hand over at once (netio.IdealBatchSize: the TUN with
// offloads, recvmmsg), where the others read 64. The parallel pipeline
// pays its hand-overs between goroutines per batch, not per packet: on
// the 2-core test machine, loaded by others, 7-10 µs of CPU a batch
// (parallel minus inline: 105-120 cpu-ns/pkt at 64, 55-80 at 128), in
// futex calls, the scheduler, and caches that the sleeping and woken
// threads leave cold. Measured the same way, a parallel pipeline whose
// reader seals every packet itself and hands only the release over costs
// as much as the one that shares the sealing: the hand-over, not the
// sharing, is the price. Issue 16's goal stays set on the 64-packet runs.
//
// Fewer wake-ups per batch did not lower it (2026-12-07, a shell loop of
// someone else's holding one core). With no releaser goroutine (whoever
// finished a batch's last chunk sent on the batches done, in order),
// parallel stayed within the runs' spread: seal 1.71 against 1.80 ×
// BareSeal1400, open 1.80 against 1.76 × (medians of 5 alternating
// rounds; 8 more rounds agreed). Adding a reader that does queued chunks
// instead of sleeping for a free batch, and one worker fewer, brought the
// goroutines woken per batch to under half a one (counted: worker 0.3,
// reader 0.1-0.2), and still nothing showed. That pipeline with the
// reader sealing every packet itself, so no other goroutine ran, cost
// what inline costs (292-341 against 297-327 cpu-ns/pkt, two runs each).
// What costs is a second thread taking part: perf's sched_switch stacks
// show the runtime waking it (wakep, futex) for a goroutine made ready
// while a P is idle, and its search stealing the goroutine (runqgrab's
// 3 µs sleep); workers and reader polling for 20 µs before they sleep
// cut the context switches from about 14,000 to 3,400 per 2 million
// packets but spent more CPU polling (516-522 against 380-431
// cpu-ns/pkt).

func benchPipelineSeal(b *testing.B, mode PipelineMode, batch int) {
	pkt := icmpEcho(hostA, hostB, 1400, false, 0)
	tun := newLoopTUN(pkt, batch)
	wire := &countSender{done: make(chan struct{}, 1)}
	e := New(Config{Send4: wire, Pipeline: mode})
	defer e.Close()
	if _, err := e.AddTunnel(tun, nil); err != nil {
		b.Fatal(err)
	}
	cfg := gcmConfig(b, 0x1234)
	cfg.ESN = true
	if _, err := e.InstallOutbound("st0.1", OutboundParams{ESP: cfg, Local: outerA, Remote: outerB}); err != nil {
		b.Fatal(err)
	}
	benchPackets(b, func(n int) {
		wire.target.Store(wire.n.Load() + int64(n))
		tun.feed(n)
		<-wire.done
	})
}

// BenchmarkPipelineOpen1400 is the inbound counterpart: a socket that
// returns batches of a sealed 1400-byte packet (anti-replay off, so one
// packet serves), copied into the batch's buffers as recvmmsg would,
// opened (inline, or on every core) and written to a TUN that counts.
// Like the seal benchmark, no goroutine but the pipeline's runs per
// packet: the feeder and the wait cost nothing per packet.
// inline-lent reads as from an AF_XDP ring: the socket lends the packet
// (netio.FrameReceiver) and it is decrypted out of it, no copy.
func BenchmarkPipelineOpen1400(b *testing.B) {
	for _, mode := range []PipelineMode{PipelineInline, PipelineParallel} {
		b.Run(mode.String(), func(b *testing.B) { benchPipelineOpen(b, mode, false, 64) })
	}
	b.Run("inline-lent", func(b *testing.B) { benchPipelineOpen(b, PipelineInline, true, 64) })
	for _, mode := range []PipelineMode{PipelineInline, PipelineParallel} {
		b.Run(mode.String()+"-128", func(b *testing.B) { benchPipelineOpen(b, mode, false, 128) })
	}
	b.Run("parallel-16", func(b *testing.B) { benchPipelineOpen(b, PipelineParallel, false, 16) })
}

// openBench is an engine in mode with tunnel st0.1 on a TUN that counts
// and an inbound SA (anti-replay off, encapsulated as encap), and one
// 1400-octet packet sealed for that SA: the open benchmarks' start.
func openBench(b *testing.B, mode PipelineMode, encap Encapsulation) (e *Engine, tun *countTUN, sealed []byte) {
	e = New(Config{Send4: &countSender{done: make(chan struct{}, 1)}, Pipeline: mode})
	b.Cleanup(func() { e.Close() })
	tun = &countTUN{loopTUN: newLoopTUN(nil, 64), done: make(chan struct{}, 1)}
	if _, err := e.AddTunnel(tun, nil); err != nil {
		b.Fatal(err)
	}
	cfg := gcmConfig(b, 0x1234)
	cfg.NoAntiReplay = true
	if _, err := e.InstallInbound("st0.1", InboundParams{ESP: cfg, Local: outerB, Remote: outerA, Encap: encap}); err != nil {
		b.Fatal(err)
	}
	out, _ := esp.NewOutbound(gcmConfig(b, 0x1234))
	inner := icmpEcho(hostA, hostB, 1400, false, 0)
	sbuf := make([]byte, headroom+len(inner), bufSize)
	copy(sbuf[headroom:], inner)
	sealed, _ = out.Seal(sbuf, headroom, header.IPProtoIPv4)
	return e, tun, sealed
}

func benchPipelineOpen(b *testing.B, mode PipelineMode, lend bool, batch int) {
	e, tun, sealedPkt := openBench(b, mode, Encapsulation{})
	r := newLoopReceiver(sealedPkt, batch)
	var sock netio.Receiver = r
	if lend {
		sock = lendingLoop{r}
	}
	if err := e.AddReceiver(sock, 4, 0); err != nil {
		b.Fatal(err)
	}
	benchPackets(b, func(n int) {
		tun.target.Store(tun.n.Load() + int64(n))
		r.feed(n)
		<-tun.done
	})
}

// loopReceiver is an outer socket for benchmarks: ReadBatch returns
// batches of one ESP packet from outerA to outerB, as many as were asked
// for with feed.
type loopReceiver struct{ *loopTUN }

func newLoopReceiver(pkt []byte, batch int) loopReceiver {
	return loopReceiver{newLoopTUN(pkt, batch)}
}

func (r loopReceiver) ReadBatch(msgs []netio.Message) (int, error) {
	n, err := r.take(len(msgs))
	for i := range n {
		m := &msgs[i]
		m.N = copy(m.Buf, r.pkt)
		m.Src = netip.AddrPortFrom(outerA, 0)
		m.Dst = outerB
		m.TOS, m.SegmentSize, m.DstPort = 0, 0, 0
	}
	return n, err
}

// lendingLoop is a loopReceiver that lends its packet instead of copying
// it (the pipeline only reads a lent packet, so one serves every message).
type lendingLoop struct{ loopReceiver }

func (r lendingLoop) ReadFrames(msgs []netio.Message) (int, error) {
	n, err := r.take(len(msgs))
	for i := range n {
		m := &msgs[i]
		m.Lent, m.N = r.pkt, len(r.pkt)
		m.Src = netip.AddrPortFrom(outerA, 0)
		m.Dst = outerB
		m.TOS, m.SegmentSize, m.DstPort = 0, 0, 0
	}
	return n, err
}

func (r lendingLoop) ReleaseFrames() {}

// countTUN is a loopTUN whose Write counts packets and says when a target
// is reached.
type countTUN struct {
	*loopTUN
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func (t *countTUN) Write(bufs [][]byte, offset int) (int, error) {
	if t.n.Add(int64(len(bufs))) >= t.target.Load() {
		select {
		case t.done <- struct{}{}:
		default:
		}
	}
	return len(bufs), nil
}

// BenchmarkBareSealParallel1400 is BenchmarkBareSeal1400 on every core at
// once: the like-for-like ceiling for BenchmarkPipelineSeal1400's
// cpu-ns/pkt (cores that share a physical core, or a busy machine, slow
// each other's AES).
func BenchmarkBareSealParallel1400(b *testing.B) {
	cfg := gcmConfig(b, 0x1234)
	aead, err := esp.NewAEAD(cfg.Encryption, cfg.EncryptionKey[:32])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(1400)
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		nonce := make([]byte, 12)
		aad := make([]byte, 8)
		buf := make([]byte, 1400+16)
		for i := uint64(0); pb.Next(); i++ {
			binary.BigEndian.PutUint64(nonce[4:], i)
			aead.Seal(buf[:0], nonce, buf[:1400], aad)
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/pkt")
}

// BenchmarkBareOpenParallel1400 is BenchmarkBareOpen1400 on every core at
// once: the like-for-like ceiling for BenchmarkPipelineOpen1400/parallel,
// as BenchmarkBareSealParallel1400 is for the seal. Issue 16's goal is
// set against BenchmarkBareOpen1400 (one core); where the cores slow each
// other's AES (the test machine's two run it 10-15 % slower together
// than one alone) the two differ, and this one says by how much.
func BenchmarkBareOpenParallel1400(b *testing.B) {
	cfg := gcmConfig(b, 0x1234)
	aead, err := esp.NewAEAD(cfg.Encryption, cfg.EncryptionKey[:32])
	if err != nil {
		b.Fatal(err)
	}
	sealed := aead.Seal(nil, make([]byte, 12), make([]byte, 1400), make([]byte, 8))
	b.ReportAllocs()
	b.SetBytes(1400)
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		nonce := make([]byte, 12)
		aad := make([]byte, 8)
		buf := make([]byte, len(sealed))
		for pb.Next() {
			if _, err := aead.Open(buf[:0], nonce, sealed, aad); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/pkt")
}
