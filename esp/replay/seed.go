package replay

// Seed moves an empty or lagging window's edge to top, as if every
// sequence number up to it had been received: a cluster node resuming an
// SA another node received on (package cluster) starts its window at the
// edge that node last synchronised, so what was received before that edge
// is not accepted again. A window already past top is left alone.
func (w *Window) Seed(top uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if top <= w.top {
		return
	}
	w.advance(top)
	// Everything at or below the new top counts as seen: a resumed SA
	// cannot know which of them the other node had.
	for i := range w.ring {
		w.ring[i] = ^uint64(0)
	}
	// In top's own word only the bits up to top: those above it are
	// sequence numbers still to come.
	w.ring[(top/64)&w.mask] = ^uint64(0) >> (63 - top%64)
}
