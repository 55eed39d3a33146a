package netio

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// memTUNQueueLen is how many packets each direction of a MemTUN holds,
// about what a Linux TUN queues (txqueuelen 500) rounded up.
const memTUNQueueLen = 512

// MemTUN is an in-memory TUN for tests, in which the test plays the host:
// packets it Injects come out of Read, and packets the data plane Writes
// wait for Receive. Each direction is a bounded queue that drops and
// counts a packet when full, as the kernel's queues do; neither side ever
// blocks the other. Packets are copied in both directions, so no buffer is
// shared between the test and the data plane.
//
// Read and Write follow the Linux TUN's contract (see TUN): Write refuses
// an offset below TUNHeadroom and Read fails on a packet its buffer cannot
// hold. Read returns every queued packet that fits, up to len(bufs), as
// the Linux TUN does when it splits a super-packet.
type MemTUN struct {
	name string
	mtu  int

	fromHost *packetQueue // Inject → Read
	toHost   *packetQueue // Write → Receive

	injected    atomic.Uint64
	injectDrops atomic.Uint64
	written     atomic.Uint64
	writeDrops  atomic.Uint64
}

// MemTUNStats are a MemTUN's counters.
type MemTUNStats struct {
	Injected    uint64 // packets Inject queued for Read
	InjectDrops uint64 // packets Inject refused: queue full or TUN closed
	Written     uint64 // packets Write queued for Receive
	WriteDrops  uint64 // packets Write dropped: queue full
}

// NewMemTUN returns an open in-memory TUN named name with the given MTU.
func NewMemTUN(name string, mtu int) *MemTUN {
	return &MemTUN{
		name:     name,
		mtu:      mtu,
		fromHost: newPacketQueue(memTUNQueueLen),
		toHost:   newPacketQueue(memTUNQueueLen),
	}
}

// Name returns the interface name.
func (t *MemTUN) Name() string { return t.name }

// MTU returns the MTU it was made with.
func (t *MemTUN) MTU() int { return t.mtu }

// BatchSize returns IdealBatchSize, as the Linux TUN with offloads does.
func (t *MemTUN) BatchSize() int { return IdealBatchSize }

// Read waits for packets the host injected; see TUN.
func (t *MemTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	return t.fromHost.readPackets(bufs[:min(len(bufs), len(sizes))], sizes, offset)
}

// Write hands packets to the host; see TUN. A packet that finds the
// host's queue full is dropped and counted, not refused, as the kernel
// drops it after the TUN took it.
func (t *MemTUN) Write(bufs [][]byte, offset int) (int, error) {
	if offset < TUNHeadroom {
		return 0, ErrHeadroom
	}
	for i, b := range bufs {
		if offset > len(b) {
			return i, fmt.Errorf("netio: TUN write: packet %d is %d octets, shorter than the offset %d", i, len(b), offset)
		}
		switch t.toHost.push(b[offset:], netip.AddrPort{}, netip.Addr{}, 0) {
		case pushed:
			t.written.Add(1)
		case queueFull:
			t.writeDrops.Add(1)
		case queueClosed:
			return i, net.ErrClosed
		}
	}
	return len(bufs), nil
}

// Close makes Read, Write, Inject and Receive fail from now on and wakes
// any that are waiting. Queued packets are discarded.
func (t *MemTUN) Close() error {
	t.fromHost.close()
	t.toHost.close()
	return nil
}

// Inject delivers pkt into the TUN as if the host had routed it there; it
// comes out of a later Read. pkt is copied. It reports false, counting a
// drop, when the queue is full or the TUN is closed.
func (t *MemTUN) Inject(pkt []byte) bool {
	if t.fromHost.push(pkt, netip.AddrPort{}, netip.Addr{}, 0) != pushed {
		t.injectDrops.Add(1)
		return false
	}
	t.injected.Add(1)
	return true
}

// Receive waits up to timeout (forever when timeout ≤ 0) for the next
// packet the data plane wrote and returns a copy of it. It fails with ErrTimeout when none came, or
// net.ErrClosed once the TUN is closed.
func (t *MemTUN) Receive(timeout time.Duration) ([]byte, error) {
	return t.toHost.readCopy(timeout)
}

// Stats returns the counters.
func (t *MemTUN) Stats() MemTUNStats {
	return MemTUNStats{
		Injected:    t.injected.Load(),
		InjectDrops: t.injectDrops.Load(),
		Written:     t.written.Load(),
		WriteDrops:  t.writeDrops.Load(),
	}
}
