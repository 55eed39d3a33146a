// Package fragment reassembles IKEv2 messages that arrive in Encrypted
// Fragment payloads (RFC 7383 §2.6). It is pure: it holds the pieces of
// the messages being received, in bounded memory, and tells time only by
// the clock it is given. Cutting a message into fragments is ike/wire's
// (Message.AppendFragments).
//
// The IKE SA checks and decrypts each fragment first, exactly as it would
// an SK payload (wire.Message.Regions, then its cipher), trims the padding
// (wire.TrimPadding) and only then hands the piece to Add: RFC 7383 §2.6
// has integrity checked per fragment, so an attacker cannot make the
// reassembler keep anything. Add copies the piece. Once every fragment is
// in, Add returns the inner payload chain, which wire.ParsePayloads
// decodes starting with the returned first payload type.
//
// A Reassembler belongs to one IKE SA and is not safe for concurrent use:
// the IKE SA's goroutine calls it.
package fragment

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/wire"
)

// Limits bound what a Reassembler holds. A message that would pass one is
// dropped and counted; the memory held is never more than MaxMessages ×
// MaxBytes of pieces.
type Limits struct {
	// MaxFragments is the largest Total Fragments accepted.
	MaxFragments int
	// MaxBytes is the most piece bytes one message may add up to.
	MaxBytes int
	// MaxMessages is how many messages may be in reassembly at once; a
	// fragment of another message pushes the oldest out. Besides, a
	// message supersedes one going the same way (request or response)
	// under another Message ID, so at most one of each is held.
	MaxMessages int
	// Timeout is how long a message may take from its first fragment
	// received to its last.
	Timeout time.Duration
}

// DefaultLimits fit the largest IKE messages the gateway expects (an
// IKE_AUTH with a chain of RSA-4096 certificates, an ML-KEM-1024 key
// exchange) cut for 576-byte IPv4 datagrams, with room to spare; a request
// and a response may be in reassembly at the same time. The timeout
// outlasts a peer's retransmissions of one message.
var DefaultLimits = Limits{MaxFragments: 128, MaxBytes: 64 << 10, MaxMessages: 2, Timeout: 30 * time.Second}

// Why Add drops a fragment (RFC 7383 §2.6). Each is counted in Stats.
var (
	// ErrInvalid: Fragment Number 0 or above Total Fragments, Total 0, or
	// a first payload named by a fragment other than the first.
	ErrInvalid = errors.New("fragment: invalid Fragment Number or Total Fragments")
	// ErrDuplicate: a fragment already held; the first copy is kept.
	ErrDuplicate = errors.New("fragment: duplicate fragment")
	// ErrStale: Total Fragments lower than in the fragments held, from a
	// sender that has since cut the message again into more pieces; it is
	// discarded (§2.6).
	ErrStale = errors.New("fragment: Total Fragments lower than in fragments already received")
	// ErrTooMany: Total Fragments above Limits.MaxFragments.
	ErrTooMany = errors.New("fragment: too many fragments")
	// ErrTooLarge: the message would pass Limits.MaxBytes; what was held
	// of it is dropped too.
	ErrTooLarge = errors.New("fragment: message too large")
)

// Fragment is one decrypted fragment.
type Fragment struct {
	// MessageID and Response name the message the fragment belongs to
	// (the IKE header's Message ID and Response flag).
	MessageID uint32
	Response  bool
	// Number, Total and First are the SKF payload's fields: Fragment
	// Number, Total Fragments, and Next Payload (the first inner payload
	// in fragment 1, none in the others).
	Number, Total uint16
	First         wire.PayloadType
	// Piece is the decrypted content with padding removed.
	Piece []byte
}

// Message is a reassembled message's inner payload chain.
type Message struct {
	MessageID uint32
	Response  bool
	First     wire.PayloadType
	Chain     []byte
}

// Stats count what a Reassembler did. Fragments counts every Add;
// the others count messages or fragments as named.
type Stats struct {
	Fragments  uint64 // fragments given to Add
	Completed  uint64 // messages reassembled
	Invalid    uint64 // fragments dropped: ErrInvalid
	Duplicates uint64 // fragments dropped: ErrDuplicate
	Stale      uint64 // fragments dropped: ErrStale
	TooMany    uint64 // fragments dropped: ErrTooMany
	TooLarge   uint64 // messages dropped: ErrTooLarge
	// Restarted counts messages started again because a fragment came
	// with a higher Total Fragments (§2.6: the sender cut it again); the
	// fragments held are dropped.
	Restarted uint64
	Expired   uint64 // messages dropped after Limits.Timeout
	Evicted   uint64 // messages dropped to make room (Limits.MaxMessages)
	// Superseded counts messages dropped half-received because a fragment
	// of another message came the same way (request or response): an
	// IKEv2 peer with a window of one has moved on to a new Message ID.
	Superseded uint64
}

type key struct {
	id       uint32
	response bool
}

// partial is a message being reassembled.
type partial struct {
	key     key
	started time.Time
	total   uint16
	first   wire.PayloadType
	pieces  [][]byte // by Fragment Number - 1; nil until received
	have    int      // pieces received
	bytes   int      // their total length
}

// Reassembler collects the fragments of the messages one IKE SA receives.
type Reassembler struct {
	clock   clock.Clock
	limits  Limits
	pending []*partial // oldest first; at most limits.MaxMessages
	stats   Stats
}

// New returns a Reassembler with the given limits; a zero field takes the
// DefaultLimits value.
func New(c clock.Clock, l Limits) *Reassembler {
	d := DefaultLimits
	if l.MaxFragments <= 0 {
		l.MaxFragments = d.MaxFragments
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxMessages <= 0 {
		l.MaxMessages = d.MaxMessages
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return &Reassembler{clock: c, limits: l}
}

// Stats returns the counters.
func (r *Reassembler) Stats() Stats { return r.stats }

// Pending is the number of messages in reassembly.
func (r *Reassembler) Pending() int { return len(r.pending) }

// Held is the number of piece bytes held.
func (r *Reassembler) Held() int {
	n := 0
	for _, p := range r.pending {
		n += p.bytes
	}
	return n
}

// Add takes one fragment. It returns the message once its last missing
// fragment is in; nil and no error while fragments are missing; and an
// error wrapping one of the Err values when the fragment is dropped.
func (r *Reassembler) Add(f Fragment) (*Message, error) {
	r.stats.Fragments++
	r.Expire()
	if err := r.check(f); err != nil {
		return nil, err
	}
	k := key{f.MessageID, f.Response}
	p := r.find(k)
	if p != nil && f.Total != p.total {
		if f.Total < p.total {
			r.stats.Stale++
			return nil, fmt.Errorf("message %d: fragment %d of %d, after fragments of %d: %w", k.id, f.Number, f.Total, p.total, ErrStale)
		}
		r.stats.Restarted++
		r.remove(p)
		p = nil
	}
	if p == nil {
		r.supersede(k)
		p = r.start(k, f.Total)
	}
	i := int(f.Number) - 1
	if p.pieces[i] != nil {
		r.stats.Duplicates++
		return nil, fmt.Errorf("message %d: fragment %d of %d: %w", k.id, f.Number, f.Total, ErrDuplicate)
	}
	if p.bytes+len(f.Piece) > r.limits.MaxBytes {
		r.stats.TooLarge++
		r.remove(p)
		return nil, fmt.Errorf("message %d: fragment %d of %d brings it past %d bytes: %w", k.id, f.Number, f.Total, r.limits.MaxBytes, ErrTooLarge)
	}
	// A non-nil empty slice marks an empty piece as received.
	p.pieces[i] = append(make([]byte, 0, len(f.Piece)), f.Piece...)
	p.have++
	p.bytes += len(f.Piece)
	if f.Number == 1 {
		p.first = f.First
	}
	if p.have < len(p.pieces) {
		return nil, nil
	}
	r.remove(p)
	r.stats.Completed++
	chain := make([]byte, 0, p.bytes)
	for _, piece := range p.pieces {
		chain = append(chain, piece...)
	}
	return &Message{MessageID: k.id, Response: k.response, First: p.first, Chain: chain}, nil
}

// check applies the rules that need no state.
func (r *Reassembler) check(f Fragment) error {
	switch {
	case f.Total == 0 || f.Number == 0 || f.Number > f.Total || (f.Number > 1 && f.First != wire.PayloadNone):
		r.stats.Invalid++
		return fmt.Errorf("message %d: fragment %d of %d (first payload %v): %w", f.MessageID, f.Number, f.Total, f.First, ErrInvalid)
	case int(f.Total) > r.limits.MaxFragments:
		r.stats.TooMany++
		return fmt.Errorf("message %d: %d fragments, at most %d accepted: %w", f.MessageID, f.Total, r.limits.MaxFragments, ErrTooMany)
	}
	return nil
}

// Expire drops the messages whose first fragment came longer ago than
// the timeout. Add calls it; an IKE SA may call it from a timer too, so
// that a half-received message does not wait for the next fragment to go.
func (r *Reassembler) Expire() {
	now := r.clock.Now()
	kept := r.pending[:0]
	for _, p := range r.pending {
		if now.Sub(p.started) >= r.limits.Timeout {
			r.stats.Expired++
			continue
		}
		kept = append(kept, p)
	}
	clear(r.pending[len(kept):])
	r.pending = kept
}

// Reset drops every message in reassembly, uncounted: for an IKE SA that
// is going away.
func (r *Reassembler) Reset() {
	clear(r.pending)
	r.pending = r.pending[:0]
}

func (r *Reassembler) find(k key) *partial {
	for _, p := range r.pending {
		if p.key == k {
			return p
		}
	}
	return nil
}

// supersede drops the messages going the same way as k under another
// Message ID.
func (r *Reassembler) supersede(k key) {
	kept := r.pending[:0]
	for _, p := range r.pending {
		if p.key.response == k.response && p.key.id != k.id {
			r.stats.Superseded++
			continue
		}
		kept = append(kept, p)
	}
	clear(r.pending[len(kept):])
	r.pending = kept
}

func (r *Reassembler) start(k key, total uint16) *partial {
	if len(r.pending) >= r.limits.MaxMessages {
		r.stats.Evicted++
		r.remove(r.pending[0])
	}
	p := &partial{key: k, started: r.clock.Now(), total: total, pieces: make([][]byte, total)}
	r.pending = append(r.pending, p)
	return p
}

func (r *Reassembler) remove(p *partial) {
	if i := slices.Index(r.pending, p); i >= 0 {
		r.pending = slices.Delete(r.pending, i, i+1)
	}
}
