package netio

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// packetQueue is the bounded FIFO inside every in-memory fake: packets are
// copied in by the producer and copied out by the consumer, so neither
// side's buffers are ever shared. A full queue refuses a packet (the caller
// counts the drop) instead of blocking, as a kernel queue would; Close
// wakes every waiting reader.
//
// A popped packet's storage goes on a stack of spares that the next push
// takes from, so once the queue has held as many packets of the largest
// size in use as it ever holds at once, pushing and popping allocate
// nothing, and a queue that is drained as fast as it fills keeps reusing
// the same few, cache-warm buffers.
type packetQueue struct {
	mu     sync.Mutex
	slots  []queued // a ring of len(slots) entries, oldest at head
	head   int
	count  int
	spare  [][]byte // storage of popped packets, most recent last
	closed bool

	// ready holds a token whenever a reader may find work: a push into an
	// empty queue or a pop that leaves packets behind posts one. A stale
	// token only costs a waiter one more look under mu.
	ready chan struct{}
	// done is closed by close, so every waiter wakes at once.
	done chan struct{}
}

// queued is one packet and what a receiver reports about it.
type queued struct {
	b   []byte
	src netip.AddrPort
	dst netip.Addr
	tos uint8
}

func newPacketQueue(capacity int) *packetQueue {
	return &packetQueue{
		slots: make([]queued, capacity),
		spare: make([][]byte, 0, capacity),
		ready: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

// pushResult says what became of a pushed packet.
type pushResult uint8

const (
	pushed      pushResult = iota
	queueFull              // refused: every slot holds a packet
	queueClosed            // refused: close was called
)

// push copies pkt in with its metadata, unless the queue is full or
// closed, when it keeps nothing.
func (q *packetQueue) push(pkt []byte, src netip.AddrPort, dst netip.Addr, tos uint8) pushResult {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return queueClosed
	case q.count == len(q.slots):
		return queueFull
	}
	var b []byte
	if k := len(q.spare); k > 0 {
		b, q.spare = q.spare[k-1], q.spare[:k-1]
	}
	s := &q.slots[(q.head+q.count)%len(q.slots)]
	s.b = append(b, pkt...)
	s.src, s.dst, s.tos = src, dst, tos
	q.count++
	if q.count == 1 {
		q.signal()
	}
	return pushed
}

// signal posts the ready token unless one is already waiting. mu is held.
func (q *packetQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// close refuses further pushes and wakes every reader; packets still
// queued are discarded.
func (q *packetQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		q.count = 0
		close(q.done)
	}
}

// len returns the number of packets waiting.
func (q *packetQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count
}

// lockNonEmpty waits until the queue holds a packet or is closed, or until
// timeout passes (never, when timeout is zero or less), and returns with
// mu held when it holds a packet. The error is net.ErrClosed or
// ErrTimeout, and then mu is not held.
func (q *packetQueue) lockNonEmpty(timeout time.Duration) error {
	var expired <-chan time.Time
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return net.ErrClosed
		}
		if q.count > 0 {
			return nil
		}
		q.mu.Unlock()
		if timeout > 0 && expired == nil {
			t := time.NewTimer(timeout)
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-q.ready:
		case <-q.done:
		case <-expired:
			return ErrTimeout
		}
	}
}

// front returns the oldest packet. mu is held and count > 0.
func (q *packetQueue) front() *queued { return &q.slots[q.head] }

// popFront discards the oldest packet, whose storage stays with its slot,
// and passes the ready token on if packets remain for another reader.
// mu is held and count > 0.
func (q *packetQueue) popFront() {
	s := &q.slots[q.head]
	q.spare = append(q.spare, s.b[:0])
	s.b = nil
	q.head = (q.head + 1) % len(q.slots)
	q.count--
	if q.count > 0 {
		q.signal()
	}
}

// readMessages blocks until at least one packet is queued and moves up to
// len(msgs) of them into msgs, truncating a packet longer than its Buf as
// recvmmsg does.
func (q *packetQueue) readMessages(msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if err := q.lockNonEmpty(0); err != nil {
		return 0, err
	}
	defer q.mu.Unlock()
	n := 0
	for ; n < len(msgs) && q.count > 0; n++ {
		s, m := q.front(), &msgs[n]
		m.N = copy(m.Buf, s.b)
		m.Src, m.Dst, m.TOS = s.src, s.dst, s.tos
		q.popFront()
	}
	return n, nil
}

// readPackets blocks until at least one packet is queued and moves up to
// len(bufs) of them to bufs[i][offset:], as a TUN Read does. A packet that
// does not fit its buffer is left for the next call, which fails on it
// (and drops it) if it is the first: the Linux TUN too reports an error
// for a read its buffer cannot hold.
func (q *packetQueue) readPackets(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	if err := q.lockNonEmpty(0); err != nil {
		return 0, err
	}
	defer q.mu.Unlock()
	n := 0
	for ; n < len(bufs) && q.count > 0; n++ {
		s := q.front()
		if offset < 0 || offset > len(bufs[n]) || len(s.b) > len(bufs[n])-offset {
			if n > 0 {
				break
			}
			err := tooSmall(len(s.b), len(bufs[n]), offset)
			q.popFront()
			return 0, err
		}
		sizes[n] = copy(bufs[n][offset:], s.b)
		q.popFront()
	}
	return n, nil
}

// readCopy waits up to timeout (forever when timeout ≤ 0) for one packet
// and returns a copy of it.
func (q *packetQueue) readCopy(timeout time.Duration) ([]byte, error) {
	if err := q.lockNonEmpty(timeout); err != nil {
		return nil, err
	}
	defer q.mu.Unlock()
	p := append([]byte(nil), q.front().b...)
	q.popFront()
	return p, nil
}
