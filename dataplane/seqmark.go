package dataplane

import "sync/atomic"

// A cluster node keeps each outbound SA's sequence high-water mark in etcd
// (daemon/hasync.go): a survivor continues above the mark last written, so
// the owner must never send above it, and must write the next one well
// before it gets there, however fast the SA sends. The packet path does
// both with one atomic load and compare per packet on the common path:
//
//   - at: from this sequence number on, the SA tells the sync (a
//     non-blocking send on the engine's kick channel, once per mark) that
//     it is time to write the next mark; the sync sets it half a step
//     below the mark it wrote, so the write has half a step of packets to
//     land in;
//   - limit: the mark last confirmed written. A packet whose sequence
//     number would pass it is dropped (SequenceHeld) until the next mark
//     is written: the SA pauses rather than send a number a survivor
//     could send again (with AES-GCM, the same key and sequence number is
//     the same nonce).
//
// Without HA sync both are 0: no check beyond the load of at.
type seqMark struct {
	at     atomic.Uint64
	limit  atomic.Uint64
	kicked atomic.Bool
}

// SetSequenceKick gives the engine the channel it signals (without
// blocking) when an SA's sequence reaches its mark's kick point; nil
// stops the signals.
func (e *Engine) SetSequenceKick(ch chan struct{}) {
	if ch == nil {
		e.seqKick.Store(nil)
		return
	}
	e.seqKick.Store(&ch)
}

// SetSequenceMark says the high-water mark limit is written: the SA sends
// no sequence number above it and signals the engine's kick channel once
// its sequence reaches kickAt (below limit). Zeros turn both off.
func (sa *OutboundSA) SetSequenceMark(limit, kickAt uint64) {
	sa.mark.limit.Store(limit)
	sa.mark.kicked.Store(false)
	sa.mark.at.Store(kickAt)
}

// SequenceMark is the SA's mark: the limit and the kick point.
func (sa *OutboundSA) SequenceMark() (limit, kickAt uint64) {
	return sa.mark.limit.Load(), sa.mark.at.Load()
}

// reachMark is the rare path of an SA past its kick point: the sync is
// signalled, and the packet of sequence number seq goes only if seq is at
// or below the mark written.
func (e *Engine) reachMark(sa *OutboundSA, seq uint64) bool {
	if !sa.mark.kicked.Swap(true) {
		if ch := e.seqKick.Load(); ch != nil {
			select {
			case *ch <- struct{}{}:
			default:
			}
		}
	}
	if limit := sa.mark.limit.Load(); limit != 0 && seq > limit {
		e.Stats.SequenceHeld.Add(1)
		sa.Counters.SequenceHeld.Add(1)
		return false
	}
	return true
}
