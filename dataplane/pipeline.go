package dataplane

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// The packet paths are pipelines of three stages, after wireguard-go's
// per-peer queues:
//
//	reader (one goroutine per tunnel interface or socket): reads a batch,
//	    does everything whose order matters (SA choice, outbound sequence
//	    numbers, the inbound replay pre-check) and cuts the crypto work
//	    into chunks for the workers
//	workers (one per core, shared by every tunnel and socket): seal or
//	    open the packets of a chunk, and whatever per-packet work needs no
//	    order (outer headers; inner header checks, the move to the TUN
//	    write offset)
//	releaser (one per reader): takes the batches in the order they were
//	    read, waits until each is done, and sends it on (inbound: moves the
//	    replay window, in order, then counts and writes to the tunnels)
//
// So one tunnel's crypto runs on every core while its packets leave in
// the order they came, with their sequence numbers in that order. A
// batch too small to be worth a hand-over, with none of the reader's
// batches ahead of it, is sealed or opened and sent by the reader alone
// (workerPool.solo). Each
// reader owns pipelineDepth batches that travel reader → releaser →
// reader; nothing is allocated per packet and a slow sender holds its
// reader back instead of queueing without bound.
//
// On one or two cores the readers do it all themselves (PipelineInline):
// read, seal or open, send, one batch after the other. There the cores
// are already busy with the peer's traffic, the kernel's network work and
// the applications, and every hand-over between goroutines costs a
// wake-up: in bench/throughput on 2 cores (three rounds of each) the
// parallel pipeline spent 10-14 % more gateway CPU per gigabyte than the
// inline one, raw ESP on AF_XDP and ESP in UDP alike. What that costs is
// a second thread woken and put to sleep for the batches it shares, not
// the number of goroutines a batch passes: without the releaser, or with
// a reader that does queued chunks instead of sleeping, it cost the same
// (BenchmarkPipelineSeal1400's comment has the runs).

// pipelineDepth is the number of batches one reader has in flight: one
// being read, one being worked on, one being sent.
const pipelineDepth = 3

// depth is how many batches a reader owns: pipelineDepth, or inline one,
// since there a batch is read, sealed or opened and sent before the next
// read. Cycling through three would only spread the packets over three
// times the memory (192 buffers of 64 KiB instead of 64 for a TUN's
// batches), and the caches and TLB would hold less of it.
func (p *workerPool) depth() int {
	if p.inline {
		return 1
	}
	return pipelineDepth
}

// minChunk is the fewest packets worth handing to another core: below it
// the hand-over costs more than it saves.
const minChunk = 8

// soloBelow is the batch size below which a reader whose earlier batches
// are all sent seals or opens and sends the batch itself, as inline, and
// wakes nobody: a hand-over costs the process microseconds of CPU
// (futex, the scheduler, caches the sleeping and woken threads leave
// cold), more than the crypto of a few dozen packets, and the order
// needs no releaser when nothing is ahead. BenchmarkPipelineSeal1400 and
// BenchmarkPipelineOpen1400 parallel-16 show it.
const soloBelow = 32

// solo says whether a reader handles its batch of n packets alone, given
// how many of its batches are with the releaser (handed over and not yet
// sent; the releaser counts one down once it has sent it).
func (p *workerPool) solo(n int, inflight *atomic.Int32) bool {
	return p.inline || n < soloBelow && inflight.Load() == 0
}

// cryptoJob is a batch whose packets [lo, hi) a worker can process.
type cryptoJob interface {
	crypt(lo, hi int)
	barrier() *fence
}

// task is one chunk of a batch; a channel of these carries no allocation.
type task struct {
	job    cryptoJob
	lo, hi int
}

// fence tells the releaser when every chunk of a batch is done.
type fence struct {
	pending atomic.Int32
	ready   chan struct{} // capacity 1
}

func (f *fence) init() { f.ready = make(chan struct{}, 1) }

func (f *fence) barrier() *fence { return f }

// chunkDone is called by whoever finished a chunk; the last one opens the
// fence.
func (f *fence) chunkDone() {
	if f.pending.Add(-1) == 0 {
		f.ready <- struct{}{}
	}
}

// wait blocks until the batch is done.
func (f *fence) wait() { <-f.ready }

// PipelineMode says how the packet paths use the cores.
type PipelineMode uint8

const (
	// PipelineAuto is PipelineInline on one or two cores, PipelineParallel
	// on more; the environment variable IPSECGW_PIPELINE (inline or
	// parallel) overrides it, for measuring one against the other.
	PipelineAuto PipelineMode = iota
	// PipelineInline: each reader seals or opens its batch and sends it
	// itself; one tunnel's crypto runs on one core at a time.
	PipelineInline
	// PipelineParallel: reader, crypto workers on every core, releaser.
	PipelineParallel
)

// String names the mode as IPSECGW_PIPELINE and the log do.
func (m PipelineMode) String() string {
	switch m {
	case PipelineInline:
		return "inline"
	case PipelineParallel:
		return "parallel"
	}
	return "auto"
}

// resolve turns PipelineAuto into the mode for this process.
func (m PipelineMode) resolve() PipelineMode {
	if m != PipelineAuto {
		return m
	}
	switch os.Getenv("IPSECGW_PIPELINE") {
	case "inline":
		return PipelineInline
	case "parallel":
		return PipelineParallel
	}
	if runtime.GOMAXPROCS(0) <= 2 {
		return PipelineInline
	}
	return PipelineParallel
}

// workerPool is the engine's crypto goroutines.
type workerPool struct {
	n     int
	tasks chan task
	wg    sync.WaitGroup
	// inline: the readers seal or open and send their batches
	// themselves; there are no workers.
	inline bool
}

func newWorkerPool(mode PipelineMode) *workerPool {
	p := &workerPool{n: max(runtime.GOMAXPROCS(0), 1)}
	if mode.resolve() == PipelineInline {
		p.n, p.inline = 0, true
	}
	p.tasks = make(chan task, 1024)
	for range p.n {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for t := range p.tasks {
				t.job.crypt(t.lo, t.hi)
				t.job.barrier().chunkDone()
			}
		}()
	}
	return p
}

// run has the n packets of job processed, in chunks spread over the
// caller and the workers; the job's fence opens when all are done. A
// batch too small to share is processed on the caller's goroutine alone.
func (p *workerPool) run(job cryptoJob, n int) {
	f := job.barrier()
	chunks := min(p.n, (n+minChunk-1)/minChunk)
	if chunks <= 1 {
		if n > 0 {
			job.crypt(0, n)
		}
		f.pending.Store(1)
		f.chunkDone()
		return
	}
	size := (n + chunks - 1) / chunks
	f.pending.Store(int32((n + size - 1) / size))
	// The caller does the first chunk itself: one hand-over fewer, and a
	// reader that would only wait for its next read does useful work.
	for lo := size; lo < n; lo += size {
		p.tasks <- task{job: job, lo: lo, hi: min(lo+size, n)}
	}
	job.crypt(0, size)
	f.chunkDone()
}

// close stops the workers once every reader and releaser has ended.
func (p *workerPool) close() {
	close(p.tasks)
	p.wg.Wait()
}
