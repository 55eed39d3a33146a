// Package ikesock is the IKE engines' side of the daemon's UDP sockets:
// the Transport that sends their messages (port 500, and port 4500 behind
// the four-octet non-ESP marker of RFC 3948), the loop that reads port
// 500, and the worker pool that hands every received message, from port
// 500 or from the data plane's port 4500, to the engine of its IKE
// version. One IKE SA's messages go to one worker, in the order they came;
// the key exchange of new IKE SAs, the costly part of IKE, uses every
// core.
package ikesock

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	"ipsecgw/netio"
)

// Transport sends IKE messages from the daemon's UDP sockets; it is the
// engines' ike.Transport.
type Transport struct {
	mu      sync.Mutex
	senders map[senderKey]netio.SegmentSender
}

type senderKey struct {
	v6   bool
	port uint16
}

// NewTransport returns a transport with no sockets yet.
func NewTransport() *Transport {
	return &Transport{senders: map[senderKey]netio.SegmentSender{}}
}

// Send sends msg from a local address and port (500 or 4500) to the peer.
func (t *Transport) Send(msg []byte, from, to netip.AddrPort) error {
	t.mu.Lock()
	s := t.senders[senderKey{v6: to.Addr().Is6(), port: from.Port()}]
	t.mu.Unlock()
	if s == nil {
		return fmt.Errorf("no socket on UDP port %d for IPv%d", from.Port(), map[bool]int{false: 4, true: 6}[to.Addr().Is6()])
	}
	if from.Port() == 4500 {
		msg = append([]byte{0, 0, 0, 0}, msg...)
	}
	return s.SendSegments(to, from.Addr(), 0, msg, len(msg))
}

// Add makes a socket of a family (4 or 6) and port the one messages from
// that port go out of (a receiver that cannot send is ignored).
func (t *Transport) Add(family int, port uint16, r netio.Receiver) {
	if s, ok := r.(netio.SegmentSender); ok {
		t.mu.Lock()
		t.senders[senderKey{v6: family == 6, port: port}] = s
		t.mu.Unlock()
	}
}

// VersionOf is the major version in an IKE header (RFC 7296 §3.1, RFC
// 2408 §3.1: octet 17, high nibble); 0 when msg is too short for one.
func VersionOf(msg []byte) int {
	const headerLen, versionOffset = 28, 17
	if len(msg) < headerLen {
		return 0
	}
	return int(msg[versionOffset] >> 4)
}

// Handler takes one received IKE message (without the non-ESP marker).
type Handler func(msg []byte, from, to netip.AddrPort)

// Pool is the IKE workers.
type Pool struct {
	log    *slog.Logger
	handle Handler
	work   []chan message
	stop   chan struct{}
	wg     sync.WaitGroup
}

// message is one received IKE message on its way to a worker.
type message struct {
	b        []byte
	from, to netip.AddrPort
}

// NewPool starts n workers (one per core is the daemon's choice), each
// handing its messages to handle.
func NewPool(n int, handle Handler, log *slog.Logger) *Pool {
	p := &Pool{log: log, handle: handle, work: make([]chan message, n), stop: make(chan struct{})}
	for i := range p.work {
		ch := make(chan message, 256)
		p.work[i] = ch
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				select {
				case <-p.stop:
					return
				case m := <-ch:
					p.handle(m.b, m.from, m.to)
				}
			}
		}()
	}
	return p
}

// Dispatch hands a message, which it keeps, to the worker chosen by the
// initiator's SPI, so the messages of one IKE SA are handled in the order
// they came. A full queue drops the message (the peer retransmits), never
// blocks the socket.
func (p *Pool) Dispatch(b []byte, from, to netip.AddrPort) {
	if len(b) < 8 || len(p.work) == 0 {
		return
	}
	w := p.work[binary.BigEndian.Uint64(b[:8])%uint64(len(p.work))]
	select {
	case w <- message{b, from, to}:
	case <-p.stop:
	default:
		p.log.Debug("IKE worker queue full; message dropped", "from", from)
	}
}

// Stop ends the workers and waits for them. The queues are never closed:
// a socket loop may still hand over a message while the daemon stops.
func (p *Pool) Stop() {
	close(p.stop)
	p.wg.Wait()
}

// Serve reads IKE messages from a port 500 socket and dispatches them
// until the socket is closed.
func (p *Pool) Serve(r netio.Receiver) {
	msgs := make([]netio.Message, 16)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 65536)
	}
	for {
		n, err := r.ReadBatch(msgs)
		if err != nil {
			return // closed on shutdown
		}
		for _, m := range msgs[:n] {
			p.Dispatch(append([]byte(nil), m.Buf[:m.N]...), m.Src, netip.AddrPortFrom(m.Dst, 500))
		}
	}
}
