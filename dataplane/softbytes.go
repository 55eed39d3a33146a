package dataplane

import (
	"sync"
	"sync/atomic"
	"time"
)

// A soft byte lifetime with time in hand. The IKE engines put an SA's
// soft lifetime in bytes at a jittered 85-97 % of its hard one (lower on
// the side that negotiated it, so the two sides seldom rekey at once),
// which at a high rate leaves too little time to rekey: at 10 Gbit/s a 1 GB
// SA's last 5 % lasts 40 ms, less than one IKE round trip under load, and
// the hard limit kills the SA before its successor is up. So the soft
// limit also keeps in hand the traffic of a few seconds at the SA's
// current rate: as many seconds as its headroom (1 - soft/hard) times
// headroomSeconds, 3 to 15 s, so the jitter and the sides' order stay. It
// never drops below half the configured soft limit: a rate that would
// spend the whole lifetime in the margin rekeys at half of it, not at
// once, every time.
//
// The rate is measured at batch granularity, from the byte count the
// batches' flushes add up (counters.go): a clock read only when the count
// has grown by a step (1/rateSteps of the hard limit) since the last, and
// the limit recomputed when at least minRateWindow has passed.

const (
	// headroomSeconds turns a soft limit's headroom into the seconds of
	// traffic kept in hand: 3 % (a responder's least) is 3 s, 15 % (an
	// initiator's most) 15 s.
	headroomSeconds = 100
	// rateSteps: the rate is sampled every hard/rateSteps bytes.
	rateSteps = 256
	// minRateWindow is the shortest time a rate is measured over, so a
	// burst of a batch or two does not count as the rate.
	minRateWindow = 10 * time.Millisecond
)

// byteRate measures an SA's rate in one direction and keeps the soft
// limit it makes (limitState.rate).
type byteRate struct {
	// next is the byte count at which to sample the rate again; below it,
	// the soft limit is one atomic load.
	next atomic.Uint64
	// limit is the soft limit now; 0: the configured one (no rate yet).
	limit atomic.Uint64

	mu    sync.Mutex // one core samples at a time; the others go on
	mark  uint64     // the byte count at the window's start
	since time.Time  // the window's start
}

// soft is the SA's soft limit, with the configured limits l and n bytes
// carried: the configured soft limit, lowered by the traffic of the
// margin at the rate measured.
func (r *byteRate) soft(l *ByteLimit, n uint64) uint64 {
	if l.Hard <= l.Soft || n < r.next.Load() {
		return r.current(l)
	}
	if !r.mu.TryLock() {
		return r.current(l) // another core's batch is sampling
	}
	defer r.mu.Unlock()
	now := l.now()
	switch {
	case r.since.IsZero():
		// The first sample starts the first window.
	case n < r.mark || now.Sub(r.since) < minRateWindow:
		return r.current(l)
	default:
		rate := float64(n-r.mark) / now.Sub(r.since).Seconds()
		r.limit.Store(softBytes(l.Soft, l.Hard, rate))
	}
	r.mark, r.since = n, now
	r.next.Store(n + max(l.Hard/rateSteps, 1))
	return r.current(l)
}

func (r *byteRate) current(l *ByteLimit) uint64 {
	if s := r.limit.Load(); s != 0 {
		return s
	}
	return l.Soft
}

// softBytes is the soft limit of an SA whose configured limits are soft
// and hard (soft < hard) and that carries rate bytes a second: soft, or
// less so that the traffic of the margin (headroom × headroomSeconds) at
// rate fits before hard, but never under soft/2.
func softBytes(soft, hard uint64, rate float64) uint64 {
	headroom := float64(hard-soft) / float64(hard)
	inHand := rate * headroom * headroomSeconds
	if inHand <= float64(hard-soft) {
		return soft
	}
	if inHand >= float64(hard-soft/2) {
		return soft / 2
	}
	return max(hard-uint64(inHand), soft/2)
}

// now is the time by the limit's clock, the system's when it has none.
func (l *ByteLimit) now() time.Time {
	if l.Clock != nil {
		return l.Clock.Now()
	}
	return time.Now()
}

// Lifesize is an SA's byte lifetime as it stands, for the show commands:
// the bytes it has carried and the limits they are held to. Soft is
// where the rekey starts now: Configured, the configured soft limit, or
// lower while the SA's rate keeps traffic in hand (softBytes). Zero
// limits are off.
type Lifesize struct {
	Carried    uint64 `json:"carried"`
	Soft       uint64 `json:"soft,omitempty"`
	Configured uint64 `json:"configured-soft,omitempty"`
	Hard       uint64 `json:"hard,omitempty"`
}

func lifesize(l *ByteLimit, st *limitState, carried uint64) Lifesize {
	s := Lifesize{Carried: carried, Configured: l.Soft, Hard: l.Hard}
	if l.Soft != 0 {
		s.Soft = l.Soft
		if l.Hard > l.Soft {
			s.Soft = st.rate.current(l)
		}
	}
	return s
}

// Lifesize is the SA's byte lifetime as it stands.
func (sa *OutboundSA) Lifesize() Lifesize {
	return lifesize(&sa.Limit, &sa.limit, sa.Counters.EncryptedBytes.Load())
}

// Lifesize is the SA's byte lifetime as it stands.
func (sa *InboundSA) Lifesize() Lifesize {
	return lifesize(&sa.Limit, &sa.limit, sa.Counters.DecryptedBytes.Load())
}
