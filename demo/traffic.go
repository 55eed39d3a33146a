package demo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.zx2c4.com/wireguard/tun/netstack"
)

// The hosts' traffic: ICMP echo through the tunnel, and a TCP stream whose
// rate is measured at the receiver.

// pingInterval is how long ping waits for a request's reply before it
// sends the next, as ping(8) does; pingLate is how long a request may
// wait for its reply before it counts as lost. A loaded machine (the race
// detector, CI) answers late, not never: a reply is matched to its
// request by sequence number however late it comes within pingLate.
const (
	pingInterval = time.Second
	pingLate     = 5 * time.Second
)

// echoReply is the sequence number of an echo reply and when it came.
type echoReply struct {
	seq uint16
	at  time.Time
}

// ping sends ICMP echo requests from one host to another until count
// replies came: the next request as soon as the last one's reply came,
// or after pingInterval without it. A request without a reply after
// pingLate is lost, and three losses end it. It returns the round-trip
// times in the order the replies came and how many requests were lost.
func ping(ctx context.Context, from *netstack.Net, src, dst netip.Addr, count int) (rtts []time.Duration, lost int, err error) {
	replies := make(chan echoReply, 16)
	done := make(chan struct{})
	var socks []net.Conn
	var readers sync.WaitGroup
	defer func() {
		close(done)
		for _, c := range socks {
			c.SetDeadline(time.Now()) // wakes its reader
			c.Close()
		}
		readers.Wait()
	}()
	// dial opens the socket the next requests go out on. The ones before
	// stay open and read until the end, so a late reply to a request sent
	// on one of them still arrives. A socket is read from its first
	// request on: gVisor's ping socket is bound by its first write, and a
	// read before it fails.
	var c net.Conn
	var reading bool
	dial := func() error {
		var err error
		if c, err = from.DialPingAddr(src, dst); err != nil {
			return fmt.Errorf("ping %s: %w", dst, err)
		}
		socks, reading = append(socks, c), false
		return nil
	}
	if err := dial(); err != nil {
		return nil, 0, err
	}
	sent := map[uint16]time.Time{} // requests without a reply yet
	next := time.NewTimer(0)
	defer next.Stop()
	var seq uint16
	for len(rtts) < count {
		select {
		case <-ctx.Done():
			return rtts, lost, ctx.Err()
		case r := <-replies:
			at, ok := sent[r.seq]
			if !ok {
				continue // a duplicate, or a request already counted lost
			}
			delete(sent, r.seq)
			rtts = append(rtts, r.at.Sub(at))
			if r.seq == seq {
				next.Reset(0) // the latest request is answered: on to the next
			}
		case now := <-next.C:
			for s, at := range sent {
				if now.Sub(at) >= pingLate {
					delete(sent, s)
					if lost++; lost == 3 {
						return rtts, lost, fmt.Errorf("ping %s: no reply to echo request %d in %v", dst, s, pingLate)
					}
				}
			}
			if _, waiting := sent[seq]; waiting {
				// gVisor's ping socket now and then misses replies its
				// stack received (seen under the race detector): a new
				// socket gets them.
				if err := dial(); err != nil {
					return rtts, lost, err
				}
			}
			seq++
			if _, err := c.Write(echoRequest(seq, []byte("ipsecgw demo ping"))); err != nil {
				return rtts, lost, fmt.Errorf("ping %s: %w", dst, err)
			}
			sent[seq] = time.Now()
			if !reading {
				reading = true
				readers.Add(1)
				go func(c net.Conn) {
					defer readers.Done()
					readEchoReplies(c, replies, done)
				}(c)
			}
			next.Reset(pingInterval)
		}
	}
	return rtts, lost, nil
}

// readEchoReplies passes the echo replies c reads on to replies until c
// is closed.
func readEchoReplies(c net.Conn, replies chan<- echoReply, done <-chan struct{}) {
	b := make([]byte, 1500)
	for {
		n, err := c.Read(b)
		if err != nil {
			return
		}
		// An echo reply (type 0) with its sequence number.
		if n < 8 || b[0] != 0 {
			continue
		}
		select {
		case replies <- echoReply{binary.BigEndian.Uint16(b[6:]), time.Now()}:
		case <-done:
			return
		}
	}
}

// echoRequest is an ICMP echo request (RFC 792); the stack's ping socket
// sets the identifier.
func echoRequest(seq uint16, data []byte) []byte {
	b := make([]byte, 8+len(data))
	b[0] = 8 // echo request
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], data)
	binary.BigEndian.PutUint16(b[2:], icmpChecksum(b))
	return b
}

func icmpChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// transfer is what one TCP stream moved.
type transfer struct {
	bytes   int64
	elapsed time.Duration
}

func (t transfer) rate() float64 { return float64(t.bytes) * 8 / t.elapsed.Seconds() / 1e6 }

func (t transfer) String() string {
	return fmt.Sprintf("%.1f MB in %v: %.1f Mbit/s", float64(t.bytes)/1e6, t.elapsed.Round(time.Millisecond), t.rate())
}

// tcpStream sends from one host to the other's port over TCP (each
// stream its own port: a closed one lingers in TIME-WAIT): size bytes, or
// while ctx lasts when size is 0. The receiver counts what arrived.
func tcpStream(ctx context.Context, client, server *netstack.Net, to netip.AddrPort, size int64) (transfer, error) {
	ln, err := server.ListenTCPAddrPort(to)
	if err != nil {
		return transfer{}, fmt.Errorf("listen on %s: %w", to, err)
	}
	defer ln.Close()
	type result struct {
		n   int64
		err error
	}
	got := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		n, err := io.Copy(io.Discard, c)
		got <- result{n, err}
	}()

	start := time.Now()
	c, err := client.DialContextTCPAddrPort(ctx, to)
	if err != nil {
		return transfer{}, fmt.Errorf("connect to %s: %w", to, err)
	}
	stop := context.AfterFunc(ctx, func() { c.SetWriteDeadline(time.Now()) })
	defer stop()
	chunk := make([]byte, 64<<10)
	var sent int64
	for size == 0 || sent < size {
		n := int64(len(chunk))
		if size > 0 {
			n = min(n, size-sent)
		}
		w, err := c.Write(chunk[:n])
		sent += int64(w)
		if err != nil {
			if size == 0 && ctx.Err() != nil {
				break // the duration is over
			}
			c.Close()
			return transfer{}, fmt.Errorf("TCP send after %d bytes: %w", sent, err)
		}
	}
	c.Close()
	select {
	case r := <-got:
		if r.err != nil && !errors.Is(r.err, io.EOF) {
			return transfer{}, fmt.Errorf("TCP receive after %d bytes: %w", r.n, r.err)
		}
		if size > 0 && r.n != size {
			return transfer{}, fmt.Errorf("TCP: sent %d bytes, %d arrived", size, r.n)
		}
		return transfer{bytes: r.n, elapsed: time.Since(start)}, nil
	case <-time.After(10 * time.Second):
		return transfer{}, fmt.Errorf("TCP: the receiver did not see the end of the stream after %d bytes", sent)
	}
}

// watchedTransfer is a TCP stream of a fixed size that can be watched as
// it goes: how much arrived, and the longest silence at the receiver. The
// receiver confirms every block (one byte back on the connection) and the
// sender has at most one unconfirmed block out, as request-response
// protocols do: what is lost when a gateway dies is then one block, not
// a whole congestion window. (gVisor's TCP, the hosts' stack, goes on
// sending new segments for its whole first retransmission timeout, a
// second, and then recovers about one lost segment per timeout: a window
// of hundreds lost is a minute of crawling, where a kernel's TCP takes a
// few round trips. The demo shows the gateways, not the hosts' stack.)
type watchedTransfer struct {
	size     int64
	start    time.Time
	received atomic.Int64
	done     chan struct{}

	// holdAt > 0: once that many bytes arrived, the receiver holds its
	// next confirmation (held is closed) until release is closed, so
	// that whatever the caller does then falls mid-transfer however fast
	// the path is.
	holdAt        int64
	held, release chan struct{}

	mu      sync.Mutex
	last    time.Time     // the latest data at the receiver
	gap     time.Duration // the longest time without data, once data came
	err     error
	elapsed time.Duration
}

// transferBlock is the most a watchedTransfer has unconfirmed.
const transferBlock = 16 << 10

// startTransfer sends size bytes from client to server's to, in the
// background, until done or ctx ends; the receiver holds its
// confirmation at holdAt bytes (0: never) until x.Release.
func startTransfer(ctx context.Context, client, server *netstack.Net, to netip.AddrPort, size, holdAt int64) (*watchedTransfer, error) {
	ln, err := server.ListenTCPAddrPort(to)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", to, err)
	}
	x := &watchedTransfer{size: size, start: time.Now(), done: make(chan struct{}),
		holdAt: holdAt, held: make(chan struct{}), release: make(chan struct{})}
	recvDone := make(chan error, 1)
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			recvDone <- err
			return
		}
		defer c.Close()
		stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
		defer stop()
		recvDone <- x.receive(c)
	}()
	go func() {
		err := x.send(ctx, client, to)
		var rerr error
		select {
		case rerr = <-recvDone:
		case <-ctx.Done():
			ln.Close()
			rerr = ctx.Err()
		}
		err = errors.Join(err, rerr)
		if got := x.received.Load(); err == nil && got != x.size {
			err = fmt.Errorf("sent %d bytes, %d arrived", x.size, got)
		}
		x.mu.Lock()
		x.err, x.elapsed = err, time.Since(x.start)
		x.mu.Unlock()
		close(x.done)
	}()
	return x, nil
}

// receive reads the stream to its end, confirming each block.
func (x *watchedTransfer) receive(c net.Conn) error {
	buf := make([]byte, 64<<10)
	var got int64
	for {
		n, err := c.Read(buf)
		if n > 0 {
			x.data(n)
			before := got / transferBlock
			got += int64(n)
			if blocks := got/transferBlock - before; blocks > 0 {
				if x.holdAt > 0 && got >= x.holdAt && got-int64(n) < x.holdAt {
					close(x.held)
					<-x.release
				}
				if _, err := c.Write(make([]byte, blocks)); err != nil {
					return fmt.Errorf("TCP confirm after %d bytes: %w", got, err)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("TCP receive after %d bytes: %w", got, err)
		}
	}
}

// send writes the stream a block at a time, each after the one before
// was confirmed.
func (x *watchedTransfer) send(ctx context.Context, client *netstack.Net, to netip.AddrPort) error {
	c, err := client.DialContextTCPAddrPort(ctx, to)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", to, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	block := make([]byte, transferBlock)
	confirm := make([]byte, 1)
	for sent := int64(0); sent < x.size; {
		n := min(int64(len(block)), x.size-sent)
		w, err := c.Write(block[:n])
		sent += int64(w)
		if err != nil {
			return fmt.Errorf("TCP send after %d bytes: %w", sent, err)
		}
		if n == transferBlock {
			if _, err := io.ReadFull(c, confirm); err != nil {
				return fmt.Errorf("TCP send: no confirmation after %d bytes: %w", sent, err)
			}
		}
	}
	return nil
}

// Held reports whether the receiver holds its confirmation at holdAt.
func (x *watchedTransfer) Held() bool {
	select {
	case <-x.held:
		return true
	default:
		return false
	}
}

// Release lets a held receiver confirm again; once only.
func (x *watchedTransfer) Release() { close(x.release) }

// data records n bytes arriving now.
func (x *watchedTransfer) data(n int) {
	now := time.Now()
	x.mu.Lock()
	if !x.last.IsZero() {
		x.gap = max(x.gap, now.Sub(x.last))
	}
	x.last = now
	x.mu.Unlock()
	x.received.Add(int64(n))
}

func (x *watchedTransfer) finished() bool {
	select {
	case <-x.done:
		return true
	default:
		return false
	}
}

// wait waits for the end of the transfer and says whether it completed.
func (x *watchedTransfer) wait() error {
	<-x.done
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

func (x *watchedTransfer) longestGap() time.Duration {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.gap
}

// transfer is what the completed stream moved.
func (x *watchedTransfer) transfer() transfer {
	x.mu.Lock()
	defer x.mu.Unlock()
	return transfer{bytes: x.received.Load(), elapsed: x.elapsed}
}
