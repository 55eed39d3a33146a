package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// RequestLog records the IKEv2 requests a group's owner sends, each
// before it goes out, as record mid/SPIi-SPIr of the group's SA state: the
// request a survivor resends when it resumes the IKE SA (the scheme is in
// doc.go). Requests waiting at the same time are written together, one
// transaction per group (group commit), so the etcd round trips do not
// grow with the number of tunnels, and the sender never waits: the
// request goes out from the log's goroutine once written.
type RequestLog struct {
	store  *SAStore
	send   Sender
	owner  func(local netip.Addr) (srg int, token int64, ok bool)
	log    *slog.Logger
	q      chan logged
	writes atomic.Uint64
	txns   atomic.Uint64

	mu       sync.Mutex
	recorded map[string]uint32  // IKE SA → the last request ID recorded, plus one
	partial  map[string]*logged // IKE SA → the fragments of a request so far
}

// Sender sends an IKE message: the IKE engines' transport.
type Sender interface {
	Send(msg []byte, from, to netip.AddrPort) error
}

type logged struct {
	srg      int
	token    int64
	sa       string
	id       uint32
	msgs     [][]byte // the request, or its fragments (RFC 7383) in order
	total    int      // fragments expected
	from, to netip.AddrPort
}

// NewRequestLog returns a log writing to store and sending with send.
// owner tells, for a local address, the group it is a virtual IP of and
// the fencing token when this node owns the group; requests from other
// addresses go out at once. Run must run for anything to be sent.
func NewRequestLog(store *SAStore, send Sender, owner func(local netip.Addr) (int, int64, bool), log *slog.Logger) *RequestLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RequestLog{store: store, send: send, owner: owner, log: log, q: make(chan logged, 4096),
		recorded: map[string]uint32{}, partial: map[string]*logged{}}
}

// IKE header fields (RFC 7296 §3.1).
const (
	ikeHeaderLen          = 28
	ikeFlagResponse       = 0x20
	exchangeCreateChild   = 36
	exchangeInformational = 37
	payloadSKF            = 53 // Encrypted and Authenticated Fragment (RFC 7383)
)

// Send is the IKE engines' transport: a request on an established IKE SA
// (CREATE_CHILD_SA, INFORMATIONAL) from a group this node owns is queued
// to be recorded and then sent; a retransmission of a recorded request,
// a response, and anything else go out at once.
func (l *RequestLog) Send(msg []byte, from, to netip.AddrPort) error {
	if len(msg) < ikeHeaderLen || msg[19]&ikeFlagResponse != 0 ||
		(msg[18] != exchangeCreateChild && msg[18] != exchangeInformational) {
		return l.send.Send(msg, from, to)
	}
	srg, token, owned := l.owner(from.Addr())
	if !owned {
		return l.send.Send(msg, from, to)
	}
	sa := RecordName(binary.BigEndian.Uint64(msg[0:8]), binary.BigEndian.Uint64(msg[8:16]))
	id := binary.BigEndian.Uint32(msg[20:24])
	l.mu.Lock()
	again := l.recorded[sa] > id
	r := &logged{srg: srg, token: token, sa: sa, id: id, msgs: [][]byte{append([]byte(nil), msg...)}, total: 1, from: from, to: to}
	if !again && msg[16] == payloadSKF && len(msg) >= ikeHeaderLen+8 {
		// A fragment: the request is recorded whole, all its fragments,
		// so a survivor can send them again byte for byte. The engine
		// sends them one after the other.
		num, total := int(binary.BigEndian.Uint16(msg[32:34])), int(binary.BigEndian.Uint16(msg[34:36]))
		p := l.partial[sa]
		switch {
		case num == 1:
			p = r
			p.total = total
		case p != nil && p.id == id && num == len(p.msgs)+1 && total == p.total:
			p.msgs = append(p.msgs, r.msgs[0])
		default:
			p = nil // out of order: this request goes unrecorded
		}
		delete(l.partial, sa)
		if p == nil || len(p.msgs) < p.total {
			if p != nil {
				l.partial[sa] = p
			}
			l.mu.Unlock()
			if p == nil {
				return l.send.Send(msg, from, to)
			}
			return nil
		}
		r = p
	}
	l.mu.Unlock()
	if again {
		return l.send.Send(msg, from, to)
	}
	select {
	case l.q <- *r:
		return nil
	default:
		return errors.New("cluster: IKE request queue full")
	}
}

// EncodeRequest is a recorded request's value: each message (the request,
// or its fragments) as a four-octet length and its octets.
func EncodeRequest(msgs [][]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(m)))
		b = append(b, m...)
	}
	return b
}

// DecodeRequest reads what EncodeRequest wrote.
func DecodeRequest(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 || uint64(len(b)-4) < uint64(binary.BigEndian.Uint32(b)) {
			return nil, errors.New("cluster: truncated request record")
		}
		n := binary.BigEndian.Uint32(b)
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}

// RecordName is an IKE SA's name in the SA state: its SPIs.
func RecordName(spiI, spiR uint64) string { return fmt.Sprintf("%016x-%016x", spiI, spiR) }

// Forget drops what the log knows of an IKE SA that ended.
func (l *RequestLog) Forget(sa string) {
	l.mu.Lock()
	delete(l.recorded, sa)
	l.mu.Unlock()
}

// Stats returns the requests recorded and the transactions that did.
func (l *RequestLog) Stats() (writes, txns uint64) { return l.writes.Load(), l.txns.Load() }

// Run records and sends the queued requests until ctx ends. A request
// that cannot be recorded is not sent: the engine retransmits it and it is
// tried again. While etcd is unreachable the owner's IKE requests wait
// (its data plane runs on) until etcd returns or the lease runs out and
// the node stops acting for the group; a request sent unrecorded would
// leave a survivor one message ID behind, which the peer ignores. A fenced
// write drops them too: the group has moved.
func (l *RequestLog) Run(ctx context.Context) {
	for {
		var batch []logged
		select {
		case <-ctx.Done():
			return
		case r := <-l.q:
			batch = append(batch, r)
		}
	drain:
		for len(batch) < 1000 {
			select {
			case r := <-l.q:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		bySRG := map[int][]logged{}
		for _, r := range batch {
			bySRG[r.srg] = append(bySRG[r.srg], r)
		}
		for srg, rs := range bySRG {
			l.flush(ctx, srg, rs)
		}
	}
}

func (l *RequestLog) flush(ctx context.Context, srg int, rs []logged) {
	recs := map[string][]byte{}
	for _, r := range rs {
		recs["mid/"+r.sa] = EncodeRequest(r.msgs)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	err := l.store.PutAll(wctx, srg, rs[0].token, recs)
	cancel()
	switch {
	case errors.Is(err, ErrFenced):
		l.log.Debug("IKE requests dropped: the group moved", "srg", srg, "requests", len(rs))
		return
	case err != nil:
		l.log.Warn("IKE requests not recorded in etcd; held back until they are", "srg", srg, "requests", len(rs), "err", err)
		return
	default:
		l.mu.Lock()
		for _, r := range rs {
			l.recorded[r.sa] = max(l.recorded[r.sa], r.id+1)
		}
		l.mu.Unlock()
		l.writes.Add(uint64(len(recs)))
		l.txns.Add(uint64((len(recs) + maxTxnOps - 1) / maxTxnOps))
	}
	for _, r := range rs {
		for _, m := range r.msgs {
			if err := l.send.Send(m, r.from, r.to); err != nil {
				l.log.Debug("IKE send", "peer", r.to, "err", err)
			}
		}
	}
}
