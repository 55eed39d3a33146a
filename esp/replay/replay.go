// Package replay is the ESP anti-replay window of RFC 4303 §3.4.3, with
// extended sequence numbers inferred as in its Appendix A.
//
// Receiving a packet takes two steps around the integrity check:
//
//	seq, ok := w.Check(seqLow) // before the ICV: cheap rejection of replays
//	... verify the ICV over seq ...
//	ok = w.Accept(seq)         // after the ICV: record it, the window moves
//
// The window only moves for packets that authenticated, so a forged packet
// with a huge sequence number cannot push the window past real traffic.
// Check and Accept may race between cores decrypting the same SA; Accept
// re-checks under the lock, so of two copies of a packet only one is
// accepted.
//
// The bitmap is a ring of 64-bit words (the construction of RFC 6479): the
// window moves by clearing whole words instead of shifting bits, so a jump
// costs at most one pass over the ring and nothing allocates after New.
package replay

import (
	"fmt"
	"sync"
)

const (
	// DefaultSize is the Junos default anti-replay window.
	DefaultSize = 64
	// MaxSize is the largest window New accepts (8 KiB of bitmap).
	MaxSize = 65536
)

// Window is the receive state of one inbound SA. It is safe for concurrent
// use. The zero value is not usable; call New.
type Window struct {
	size     uint64 // W, a multiple of 64; fixed after New
	esn      bool   // infer the high 32 bits (RFC 4303 Appendix A)
	disabled bool   // no-anti-replay: infer and track top, reject nothing
	mask     uint64 // len(ring)-1, len(ring) a power of two

	mu sync.Mutex
	// top is T, the highest sequence number accepted so far; zero before
	// the first packet (sequence number 0 is never sent).
	top uint64
	// ring holds one bit per sequence number in [top-size+1, top], bit
	// seq%64 of word (seq/64)&mask. It has at least size/64+1 words, so the
	// word being cleared for a new top never holds a bit still inside the
	// window.
	ring []uint64
	// refused is the last packet refused, for telling a duplicate from a
	// late packet when the replay counter moves (LastRefused); refusals
	// counts them all by why (Refusals).
	refused     Refusal
	refusedSome bool
	refusals    Refusals
}

// Refusal is a packet the window refused: its sequence number (as
// inferred; what the wire carried when nothing could be inferred), the
// window's top at the time, and whether its ICV had verified (refused by
// Accept: a true duplicate, or one overtaken by the window) or not
// (refused by Check, before the ICV: maybe not from the peer at all).
type Refusal struct {
	Seq, Top      uint64
	Authenticated bool
}

// Refusals counts the packets a window refused by why, which the one
// replay counter of the statistics does not say: a copy of a packet
// already accepted (Duplicate), one W or more behind the top (Late: it
// came out of order by that much, or is an old copy), or a sequence
// number that cannot be (Invalid: zero, or beyond 2^64-1 with ESN).
// Those refused before the ICV (Check) may not come from the peer at
// all; those refused after it verified (Accept, the Authentic fields)
// do: a copy that arrived while the first was being opened, or a packet
// the window moved past meanwhile.
type Refusals struct {
	Duplicate          uint64 `json:"duplicate"`
	Late               uint64 `json:"late"`
	Invalid            uint64 `json:"invalid"`
	AuthenticDuplicate uint64 `json:"authentic-duplicate"`
	AuthenticLate      uint64 `json:"authentic-late"`
	AuthenticInvalid   uint64 `json:"authentic-invalid"`
}

// refusal is why a packet was refused, for Refusals.
type refusal uint8

const (
	refusedDuplicate refusal = iota
	refusedLate
	refusedInvalid
)

// Config describes a window.
type Config struct {
	// Size is the window in packets; 0 means DefaultSize. It is rounded up
	// to a multiple of 64.
	Size int
	// ESN makes the window infer 64-bit extended sequence numbers from the
	// low 32 bits on the wire.
	ESN bool
	// Disabled turns anti-replay off (Junos no-anti-replay): every packet
	// passes, but the window still tracks the highest sequence number so
	// that ESN inference keeps working. Size then only sets how far behind
	// the top a packet may be and still be placed in the right 2^32 epoch.
	Disabled bool
}

// New returns an empty window.
func New(cfg Config) (*Window, error) {
	size := cfg.Size
	if size == 0 {
		size = DefaultSize
	}
	if size < 0 || size > MaxSize {
		return nil, fmt.Errorf("replay: window size %d out of range, want 1..%d", cfg.Size, MaxSize)
	}
	words := (size + 63) / 64
	ringWords := 1
	for ringWords < words+1 {
		ringWords <<= 1
	}
	return &Window{
		size:     uint64(words) * 64,
		esn:      cfg.ESN,
		disabled: cfg.Disabled,
		mask:     uint64(ringWords - 1),
		ring:     make([]uint64, ringWords),
	}, nil
}

// Size is the window in packets after rounding.
func (w *Window) Size() int { return int(w.size) }

// Enabled reports whether anti-replay is on.
func (w *Window) Enabled() bool { return !w.disabled }

// ESN reports whether extended sequence numbers are inferred.
func (w *Window) ESN() bool { return w.esn }

// Top returns the highest sequence number accepted so far, 0 if none.
func (w *Window) Top() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.top
}

// Check is the pre-check done before the ICV. It returns the full sequence
// number the packet is taken to carry (for the ICV and for Accept) and
// whether it may be new: false if it is older than the window, was already
// accepted, is zero, or would lie beyond 2^64-1.
func (w *Window) Check(seqLow uint32) (seq uint64, ok bool) {
	w.mu.Lock()
	seq, ok = w.infer(seqLow)
	switch {
	case !ok:
		w.refuse(uint64(seqLow), refusedInvalid, false)
	case !w.disabled && !w.isNew(seq):
		ok = false
		w.refuse(seq, w.whyOld(seq), false)
	}
	w.mu.Unlock()
	return seq, ok
}

// Accept records seq after its ICV verified and moves the window. It
// returns false if seq is no longer new: another core accepted the same
// packet, or the window moved past it, since Check.
func (w *Window) Accept(seq uint64) bool {
	w.mu.Lock()
	ok := w.accept(seq)
	w.mu.Unlock()
	return ok
}

// AcceptRun is Accept for several sequence numbers in a row, with the
// lock taken once: ok[i] is what Accept(seqs[i]) would return, called
// in this order (no other goroutine's Accept comes between them). ok
// must be at least as long as seqs.
func (w *Window) AcceptRun(seqs []uint64, ok []bool) {
	ok = ok[:len(seqs)]
	w.mu.Lock()
	for i, seq := range seqs {
		ok[i] = w.accept(seq)
	}
	w.mu.Unlock()
}

// LastRefused returns the last packet Check or Accept refused; false if
// none was.
func (w *Window) LastRefused() (Refusal, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refused, w.refusedSome
}

// Refusals returns how many packets the window refused, by why.
func (w *Window) Refusals() Refusals {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refusals
}

// refuse records a refusal; the caller holds w.mu.
func (w *Window) refuse(seq uint64, why refusal, authenticated bool) {
	w.refused = Refusal{Seq: seq, Top: w.top, Authenticated: authenticated}
	w.refusedSome = true
	r := &w.refusals
	switch {
	case why == refusedDuplicate && !authenticated:
		r.Duplicate++
	case why == refusedDuplicate:
		r.AuthenticDuplicate++
	case why == refusedLate && !authenticated:
		r.Late++
	case why == refusedLate:
		r.AuthenticLate++
	case !authenticated:
		r.Invalid++
	default:
		r.AuthenticInvalid++
	}
}

// whyOld tells why seq, which isNew refused, is not new: inside the
// window, it was accepted already; below it, it is late. The caller holds
// w.mu.
func (w *Window) whyOld(seq uint64) refusal {
	if seq <= w.top && w.top-seq >= w.size {
		return refusedLate
	}
	return refusedDuplicate
}

// accept is Accept with w.mu held (nothing in it can panic, so the
// callers unlock without a defer, which costs on every packet).
func (w *Window) accept(seq uint64) bool {
	if seq == 0 {
		w.refuse(0, refusedInvalid, true)
		return false
	}
	if seq > w.top {
		w.advance(seq)
	}
	if w.disabled {
		return true
	}
	if !w.isNew(seq) {
		w.refuse(seq, w.whyOld(seq), true)
		return false
	}
	w.ring[(seq/64)&w.mask] |= 1 << (seq % 64)
	return true
}

// infer reconstructs the sequence number from its low 32 bits (RFC 4303
// Appendix A2.2). Without ESN the wire carries all of it. The caller holds
// w.mu.
func (w *Window) infer(seqLow uint32) (uint64, bool) {
	if !w.esn {
		return uint64(seqLow), seqLow != 0
	}
	th, tl := uint32(w.top>>32), uint32(w.top)
	bottom := tl - uint32(w.size) + 1 // Tl - W + 1, modulo 2^32
	var high uint32
	if tl >= uint32(w.size)-1 {
		// The window lies within one 2^32 epoch: below its bottom means the
		// packet is from the next epoch.
		high = th
		if seqLow < bottom {
			if th == ^uint32(0) {
				return 0, false // beyond 2^64-1
			}
			high = th + 1
		}
	} else {
		// The window straddles an epoch boundary: at or above its bottom
		// means the packet is from the previous epoch.
		high = th
		if seqLow >= bottom {
			if th == 0 {
				return 0, false // before the first packet ever sent
			}
			high = th - 1
		}
	}
	seq := uint64(high)<<32 | uint64(seqLow)
	return seq, seq != 0
}

// isNew reports whether seq is ahead of the window, or inside it and not
// yet seen. The caller holds w.mu.
func (w *Window) isNew(seq uint64) bool {
	if seq > w.top {
		return true
	}
	if w.top-seq >= w.size {
		return false
	}
	return w.ring[(seq/64)&w.mask]&(1<<(seq%64)) == 0
}

// advance makes seq the new top, clearing the words between the old top's
// word and the new one. The caller holds w.mu and guarantees seq > w.top.
func (w *Window) advance(seq uint64) {
	from, to := w.top/64, seq/64
	n := to - from
	if n > uint64(len(w.ring)) {
		n = uint64(len(w.ring))
	}
	for i := uint64(1); i <= n; i++ {
		w.ring[(from+i)&w.mask] = 0
	}
	w.top = seq
}
