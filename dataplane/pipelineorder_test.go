package dataplane

import (
	"encoding/binary"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// numberedTUN is a tunnel interface that hands out inner packets numbered
// 0, 1, 2, ... up to total, in reads of the sizes in sizes (round and
// round), then waits until closed. taken counts what it handed out.
type numberedTUN struct {
	name   string
	total  int // 0: without end
	sizes  []int
	taken  atomic.Int64
	reads  int
	closed chan struct{}
	once   sync.Once
	// start holds the reads until it is closed (the SA is installed).
	start chan struct{}
}

func newNumberedTUN(name string, total int, sizes ...int) *numberedTUN {
	return &numberedTUN{name: name, total: total, sizes: sizes, closed: make(chan struct{}), start: make(chan struct{})}
}

func (t *numberedTUN) Name() string   { return t.name }
func (t *numberedTUN) MTU() int       { return 1500 }
func (t *numberedTUN) BatchSize() int { return maxBatch }

func (t *numberedTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	select {
	case <-t.start:
	case <-t.closed:
		return 0, net.ErrClosed
	}
	next := int(t.taken.Load())
	if t.total > 0 && next >= t.total {
		<-t.closed
		return 0, net.ErrClosed
	}
	select {
	case <-t.closed:
		return 0, net.ErrClosed
	default:
	}
	n := min(t.sizes[t.reads%len(t.sizes)], len(bufs))
	if t.total > 0 {
		n = min(n, t.total-next)
	}
	t.reads++
	for i := range n {
		sizes[i] = copy(bufs[i][offset:], numbered(next+i))
	}
	t.taken.Add(int64(n))
	return n, nil
}

func (t *numberedTUN) Write(bufs [][]byte, offset int) (int, error) { return len(bufs), nil }

func (t *numberedTUN) Close() error {
	t.once.Do(func() { close(t.closed) })
	return nil
}

// checkWire checks the ESP packets one SA sent (outer IPv4 headers in
// front): sequence numbers 1, 2, 3, ... and the inner packets 0, 1, 2,
// ... in that order.
func checkWire(t *testing.T, spi uint32, pkts [][]byte) {
	t.Helper()
	check, err := esp.NewInbound(gcmConfig(t, spi))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		payload := append([]byte(nil), p[20:]...)
		if seq := binary.BigEndian.Uint32(payload[4:]); seq != uint32(i+1) {
			t.Fatalf("SPI %#x: packet %d carries sequence number %d", spi, i, seq)
		}
		inner, _, err := check.Open(payload)
		if err != nil {
			t.Fatalf("SPI %#x: packet %d: %v", spi, i, err)
		}
		if got := binary.BigEndian.Uint32(inner[28:]); got != uint32(i) {
			t.Fatalf("SPI %#x: packet %d on the wire is inner packet %d", spi, i, got)
		}
	}
}

// bySPI sorts recorded ESP packets (outer IPv4 headers in front) by SPI.
func bySPI(pkts [][]byte) map[uint32][][]byte {
	m := map[uint32][][]byte{}
	for _, p := range pkts {
		spi := binary.BigEndian.Uint32(p[20:])
		m[spi] = append(m[spi], p)
	}
	return m
}

// TestPipelineOrderManyReaders runs several tunnels at once through the
// parallel pipeline, in reads of mixed sizes (some the reader seals alone,
// some it hands over, some split among the workers), so that batches of
// several readers are in flight together and finish out of order: each
// SA's packets leave with their sequence numbers in order and the inner
// packets in the order they were read.
func TestPipelineOrderManyReaders(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const tunnels, total = 4, 5000
	wire := &recordSender{}
	e := New(Config{Send4: wire, Pipeline: PipelineParallel})
	defer e.Close()
	var tuns []*numberedTUN
	for k := range tunnels {
		tun := newNumberedTUN("st0."+string(rune('1'+k)), total, 64, 3, 128, 40, 1, 100, 64, 17)
		tuns = append(tuns, tun)
		if _, err := e.AddTunnel(tun, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.InstallOutbound(tun.name, OutboundParams{ESP: gcmConfig(t, 0x1000+uint32(k)), Local: outerA, Remote: outerB}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tun := range tuns {
		close(tun.start)
	}
	waitFor(t, func() bool { return len(wire.snapshot()) >= tunnels*total })
	sent := bySPI(wire.snapshot())
	for k := range tunnels {
		spi := 0x1000 + uint32(k)
		if len(sent[spi]) != total {
			t.Fatalf("SPI %#x: %d packets on the wire, want %d", spi, len(sent[spi]), total)
		}
		checkWire(t, spi, sent[spi])
	}
	if s := e.Stats.Snapshot(); s.InternalErrors != 0 || s.NoOutboundSA != 0 {
		t.Fatalf("engine counters %+v", s)
	}
}

// TestPipelineOrderManyReadersInbound is the inbound counterpart: several
// sockets, each carrying one SA's packets in batches of mixed sizes, every
// batch twice (the copies are replays): each tunnel gets its SA's inner
// packets in order, once, and every replay is counted.
func TestPipelineOrderManyReadersInbound(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const sockets, total = 4, 3000
	e := New(Config{Send4: &recordSender{}, Pipeline: PipelineParallel})
	defer e.Close()
	sizes := []int{64, 3, 40, 1, 64, 17, 50}
	var tuns []*netio.MemTUN
	var feeds []chan [][]byte
	// received[k] is how many packets tunnel k gave the test: a feeder
	// keeps within 256 of it, as a MemTUN drops what its queue of 512
	// cannot hold.
	var received [sockets]atomic.Int64
	for k := range sockets {
		name := "st0." + string(rune('1'+k))
		tun := netio.NewMemTUN(name, 1400)
		tuns = append(tuns, tun)
		if _, err := e.AddTunnel(tun, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.InstallInbound(name, InboundParams{ESP: gcmConfig(t, 0x2000+uint32(k)), Local: outerB, Remote: outerA}); err != nil {
			t.Fatal(err)
		}
		r := newChanReceiver()
		feeds = append(feeds, r.batches)
		if err := e.AddReceiver(r, 4, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Each socket's feeder seals its SA's packets and queues them in
	// batches; the tunnels are read as they fill.
	var wg sync.WaitGroup
	for k := range sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, _ := esp.NewOutbound(gcmConfig(t, 0x2000+uint32(k)))
			for i, s := 0, 0; i < total; s++ {
				var batch [][]byte
				for range min(sizes[s%len(sizes)], total-i) {
					inner := numbered(i)
					buf := make([]byte, headroom+len(inner), bufSize)
					copy(buf[headroom:], inner)
					p, err := out.Seal(buf, headroom, header.IPProtoIPv4)
					if err != nil {
						t.Error(err)
						return
					}
					batch = append(batch, p)
					i++
				}
				for int(received[k].Load()) < i-256 {
					time.Sleep(100 * time.Microsecond)
				}
				feeds[k] <- batch
				feeds[k] <- batch
			}
		}()
	}
	// The tunnels are read at once.
	for k, tun := range tuns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next := 0; next < total; next++ {
				got, err := tun.Receive(10 * time.Second)
				if err != nil {
					t.Errorf("tunnel %d: waiting for packet %d: %v", k, next, err)
					return
				}
				if n := binary.BigEndian.Uint32(got[28:]); n != uint32(next) {
					t.Errorf("tunnel %d got inner packet %d, want %d", k, n, next)
					return
				}
				received[k].Add(1)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	waitFor(t, func() bool { return e.Stats.ReplayErrors.Load() == sockets*total })
	for k, tun := range tuns {
		if _, err := tun.Receive(20 * time.Millisecond); err == nil {
			t.Fatalf("tunnel %d: a replayed packet reached it", k)
		}
	}
	if s := e.Stats.Snapshot(); s.DecryptedPackets != sockets*total || s.AuthFailures != 0 {
		t.Fatalf("engine counters %+v", s)
	}
}

// TestPipelineCloseInFlight closes the engine while a tunnel's batches
// are in flight: Close returns, every packet the reader took is on the
// wire with its sequence number in order (none lost in a batch handed
// over), and no goroutine of the engine is left.
func TestPipelineCloseInFlight(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	before := runtime.NumGoroutine()
	for round := range 20 {
		wire := &recordSender{}
		e := New(Config{Send4: wire, Pipeline: PipelineParallel})
		tun := newNumberedTUN("st0.1", 0, 64, 128, 40)
		if _, err := e.AddTunnel(tun, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.InstallOutbound("st0.1", OutboundParams{ESP: gcmConfig(t, 0x1234), Local: outerA, Remote: outerB}); err != nil {
			t.Fatal(err)
		}
		close(tun.start)
		waitFor(t, func() bool { return len(wire.snapshot()) >= 500*(round%5+1) })
		closed := make(chan error, 1)
		go func() { closed <- e.Close() }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not return")
		}
		pkts := wire.snapshot()
		if taken := int(tun.taken.Load()); len(pkts) != taken {
			t.Fatalf("round %d: the reader took %d packets, %d reached the wire", round, taken, len(pkts))
		}
		checkWire(t, 0x1234, pkts)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

// gateSender holds every WriteBatch until its gate opens, then records.
type gateSender struct {
	recordSender
	gate    chan struct{}
	waiting atomic.Int32
}

func (s *gateSender) WriteBatch(pkts [][]byte) (int, error) {
	s.waiting.Add(1)
	<-s.gate
	return s.recordSender.WriteBatch(pkts)
}

// TestPipelineSlowSender holds the sender: the reader stops reading once
// its batches are all taken (a slow sender holds its reader back, nothing
// queues without bound), and when the sender goes on every packet leaves
// in order.
func TestPipelineSlowSender(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const total = 3000
	wire := &gateSender{gate: make(chan struct{})}
	e := New(Config{Send4: wire, Pipeline: PipelineParallel})
	defer e.Close()
	tun := newNumberedTUN("st0.1", total, 64)
	if _, err := e.AddTunnel(tun, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InstallOutbound("st0.1", OutboundParams{ESP: gcmConfig(t, 0x1234), Local: outerA, Remote: outerB}); err != nil {
		t.Fatal(err)
	}
	close(tun.start)
	waitFor(t, func() bool { return wire.waiting.Load() > 0 })
	time.Sleep(50 * time.Millisecond)
	if taken := tun.taken.Load(); taken > pipelineDepth*64 {
		t.Fatalf("with the sender held, the reader took %d packets, more than its %d batches of 64", taken, pipelineDepth)
	}
	close(wire.gate)
	waitFor(t, func() bool { return len(wire.snapshot()) >= total })
	pkts := wire.snapshot()
	if len(pkts) != total {
		t.Fatalf("%d packets on the wire, want %d", len(pkts), total)
	}
	checkWire(t, 0x1234, pkts)
}
