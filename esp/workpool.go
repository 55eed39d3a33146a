package esp

import (
	"runtime"
	"sync/atomic"
)

// workPool is a small lock-free free list of work areas, one per SA.
//
// Why not sync.Pool: a work area holds an HMAC keyed for this SA, so the
// pool must be per SA, and a sync.Pool costs a padded slot per CPU once
// used and is emptied at every garbage collection. With 100,000 tunnels
// that is too much memory and a rebuild of every HMAC state after each GC.
// Here an SA costs one pointer per slot, and a work area, once made, lives
// as long as the SA.
//
// Invariant: a work area is owned by exactly one goroutine between get and
// put; slots hold only idle ones. When more goroutines than slots use the
// SA at once, the extra areas are made on demand and dropped on put.
type workPool struct {
	slots   []atomic.Pointer[work]
	newWork func() *work
}

// maxSlots bounds the free list on large machines; beyond it a busy SA
// allocates, which costs speed, never correctness.
const maxSlots = 64

func (p *workPool) init(newWork func() *work) {
	p.newWork = newWork
	p.slots = make([]atomic.Pointer[work], min(max(runtime.GOMAXPROCS(0), 1), maxSlots))
}

func (p *workPool) get() *work {
	for i := range p.slots {
		// Load first so that idle scans do not write shared cache lines.
		if p.slots[i].Load() != nil {
			if w := p.slots[i].Swap(nil); w != nil {
				return w
			}
		}
	}
	return p.newWork()
}

func (p *workPool) put(w *work) {
	for i := range p.slots {
		if p.slots[i].Load() == nil && p.slots[i].CompareAndSwap(nil, w) {
			return
		}
	}
}
