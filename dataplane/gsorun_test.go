package dataplane

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ipsecgw/esp"
	"ipsecgw/netio"
)

// segRecorder is a UDP socket for the engine: it records the datagrams of
// every run it is given, split at the segment size.
type segRecorder struct {
	*chanReceiver
	mu           sync.Mutex
	dgrams       [][]byte
	flat, gather int // runs given back to back, and gathered
}

func (s *segRecorder) SendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segSize int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flat++
	for off := 0; off < len(buf); off += segSize {
		s.dgrams = append(s.dgrams, bytes.Clone(buf[off:min(off+segSize, len(buf))]))
	}
	return nil
}

func (s *segRecorder) snapshot() (dgrams [][]byte, flat, gather int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.dgrams...), s.flat, s.gather
}

// vecRecorder also gathers (netio.SegmentVecSender).
type vecRecorder struct{ *segRecorder }

func (v vecRecorder) SendSegmentVec(dst netip.AddrPort, src netip.Addr, tos uint8, segs [][]byte, segSize int) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.gather++
	for i, s := range segs {
		if len(s) > segSize || len(s) < segSize && i < len(segs)-1 {
			panic("a malformed run")
		}
		v.dgrams = append(v.dgrams, bytes.Clone(s))
	}
	return nil
}

// runRecorder also sends several runs in one call (netio.RunSender);
// with fail, the first run of every call fails.
type runRecorder struct {
	vecRecorder
	fail        bool
	calls, runs int
	failed      int // datagrams in the runs that failed
}

func (r *runRecorder) SendRuns(runs []netio.Run) error {
	r.mu.Lock()
	r.calls++
	r.runs += len(runs)
	r.mu.Unlock()
	var first error
	for i := range runs {
		run := &runs[i]
		run.Err = nil
		if r.fail && i == 0 {
			run.Err = errors.New("refused")
			first = run.Err
			r.mu.Lock()
			r.failed += len(run.Segs)
			r.mu.Unlock()
			continue
		}
		run.Err = r.SendSegmentVec(run.Dst, run.Src, run.TOS, run.Segs, run.SegSize)
	}
	return first
}

func (r *runRecorder) counts() (calls, runs, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, r.runs, r.failed
}

// TestUDPRuns: a TUN batch sealed for ESP in UDP leaves as runs, through
// a socket that gathers the packets where they were sealed, one that
// takes them back to back and one that sends several runs in one call,
// the same datagrams in sequence order. A run that fails to send counts
// its packets as send errors, and the other runs of its call still go.
func TestUDPRuns(t *testing.T) {
	for _, mode := range []string{"flat", "gather", "runs", "runs-failing"} {
		rec := &segRecorder{chanReceiver: newChanReceiver()}
		var sock netio.Receiver = rec
		var runs *runRecorder
		switch mode {
		case "gather":
			sock = vecRecorder{rec}
		case "runs", "runs-failing":
			runs = &runRecorder{vecRecorder: vecRecorder{rec}, fail: mode == "runs-failing"}
			sock = runs
		}
		e := New(Config{Send4: &recordSender{}, Pipeline: PipelineInline})
		tun := newLoopTUN(icmpEcho(hostA, hostB, 1000, false, 0), 64)
		if _, err := e.AddTunnel(tun, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.AddReceiver(sock, 4, 4500); err != nil {
			t.Fatal(err)
		}
		udp := Encapsulation{UDP: true, SrcPort: 4500, DstPort: 4500}
		if _, err := e.InstallOutbound("st0.1", OutboundParams{ESP: gcmConfig(t, 0x1234), Local: outerA, Remote: outerB, Encap: udp}); err != nil {
			t.Fatal(err)
		}
		const total = 100 // two batches of up to 64
		tun.feed(total)
		deadline := time.Now().Add(10 * time.Second)
		var dgrams [][]byte
		var flat, gathered, failed int
		for time.Now().Before(deadline) {
			dgrams, flat, gathered = rec.snapshot()
			if runs != nil {
				_, _, failed = runs.counts()
			}
			if len(dgrams)+failed >= total && e.Stats.SendErrors.Load() == uint64(failed) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		e.Close()
		if len(dgrams)+failed != total {
			t.Fatalf("%s: %d datagrams and %d failed, want %d", mode, len(dgrams), failed, total)
		}
		switch mode {
		case "flat":
			if gathered != 0 || flat == 0 {
				t.Fatalf("%s: %d runs back to back, %d gathered", mode, flat, gathered)
			}
		case "gather":
			if gathered == 0 || flat != 0 {
				t.Fatalf("%s: %d runs back to back, %d gathered", mode, flat, gathered)
			}
		default:
			// 1000-octet packets make runs of at most 56 (maxRunBytes),
			// so a batch of 64 is two runs in one call.
			calls, n, _ := runs.counts()
			if flat != 0 || calls == 0 || n <= calls {
				t.Fatalf("%s: %d calls with %d runs in all, %d runs sent alone back to back", mode, calls, n, flat)
			}
		}
		if got := e.Stats.SendErrors.Load(); got != uint64(failed) || (mode == "runs-failing") != (failed > 0) {
			t.Fatalf("%s: %d send errors counted, %d datagrams refused", mode, got, failed)
		}
		in, err := esp.NewInbound(gcmConfig(t, 0x1234))
		if err != nil {
			t.Fatal(err)
		}
		last := uint32(0)
		for i, d := range dgrams {
			seq := binary.BigEndian.Uint32(d[4:])
			if failed == 0 && seq != uint32(i+1) || seq <= last {
				t.Fatalf("%s: datagram %d has sequence number %d after %d", mode, i, seq, last)
			}
			last = seq
			if _, _, err := in.Open(d); err != nil {
				t.Fatalf("%s: datagram %d: %v", mode, i, err)
			}
		}
	}
}

// udpRunsGateway is an inline gateway whose tunnel (64 copies of a
// 1400-octet packet a read) has an outbound SA for ESP in UDP from port
// 4500 (with ESN if esn), sending through sock's runs; the engine closes
// when tb ends.
func udpRunsGateway(tb testing.TB, esn bool) (*loopTUN, *runCounter) {
	tb.Helper()
	sock := &runCounter{chanReceiver: newChanReceiver(), done: make(chan struct{}, 1)}
	e := New(Config{Send4: &recordSender{}, Pipeline: PipelineInline})
	tb.Cleanup(func() { e.Close() })
	tun := newLoopTUN(icmpEcho(hostA, hostB, 1400, false, 0), 64)
	if _, err := e.AddTunnel(tun, nil); err != nil {
		tb.Fatal(err)
	}
	if err := e.AddReceiver(sock, 4, 4500); err != nil {
		tb.Fatal(err)
	}
	cfg := gcmConfig(tb, 0x1234)
	cfg.ESN = esn
	udp := Encapsulation{UDP: true, SrcPort: 4500, DstPort: 4500}
	if _, err := e.InstallOutbound("st0.1", OutboundParams{ESP: cfg, Local: outerA, Remote: outerB, Encap: udp}); err != nil {
		tb.Fatal(err)
	}
	return tun, sock
}

// runCounter is a UDP socket that sends runs in one call and only counts
// their datagrams, signalling done once target is reached.
type runCounter struct {
	*chanReceiver
	n, target atomic.Int64
	done      chan struct{}
}

func (c *runCounter) SendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segSize int) error {
	panic("runCounter: a run sent alone")
}

func (c *runCounter) SendSegmentVec(dst netip.AddrPort, src netip.Addr, tos uint8, segs [][]byte, segSize int) error {
	panic("runCounter: a run sent alone")
}

func (c *runCounter) SendRuns(runs []netio.Run) error {
	for _, r := range runs {
		if c.n.Add(int64(len(r.Segs))) >= c.target.Load() {
			select {
			case c.done <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

// TestUDPRunsSteadyStateAllocs: once warm, sealing TUN batches for ESP
// in UDP and queueing their runs for one call allocates nothing (fewer
// than one allocation in a batch of 64 packets, on average, whatever
// else the process does meanwhile).
func TestUDPRunsSteadyStateAllocs(t *testing.T) {
	tun, sock := udpRunsGateway(t, false)
	// One timer for every wait: time.After would allocate in the batch.
	timeout := time.NewTimer(time.Hour)
	defer timeout.Stop()
	batch := func() {
		sock.target.Store(sock.n.Load() + 64)
		timeout.Reset(10 * time.Second)
		tun.feed(64)
		select {
		case <-sock.done:
		case <-timeout.C:
			t.Fatalf("a batch of 64 not sent in 10 s (%d of %d)", sock.n.Load(), sock.target.Load())
		}
	}
	for range 20 {
		batch() // warm: buffers and queues at their size
	}
	if allocs := testing.AllocsPerRun(100, batch); allocs != 0 {
		t.Errorf("%v allocations per batch of 64, want 0", allocs)
	}
}
