package clock

import (
	"sync/atomic"
	"time"
)

// Group is the pending timers of one owner (an IKE SA: DPD, lifetimes,
// retries), stopped together when the owner goes. A timer that has fired
// is dropped as the next one is added: an owner that re-arms a timer
// every few seconds for a day would otherwise hold thousands. A Group is
// not safe for concurrent use: the owner's lock guards it, and the
// functions the timers run take that lock themselves.
type Group struct {
	timers []*groupTimer
}

// groupTimer's fired is set, from the clock's goroutine, as its function
// starts.
type groupTimer struct {
	Timer
	fired atomic.Bool
}

// AfterFunc runs f after d on c, unless Stop comes first.
func (g *Group) AfterFunc(c Clock, d time.Duration, f func()) {
	live := g.timers[:0]
	for _, t := range g.timers {
		if !t.fired.Load() {
			live = append(live, t)
		}
	}
	clear(g.timers[len(live):])
	t := new(groupTimer)
	t.Timer = c.AfterFunc(d, func() {
		t.fired.Store(true)
		f()
	})
	g.timers = append(live, t)
}

// Stop cancels every timer still pending and empties the group.
func (g *Group) Stop() {
	for _, t := range g.timers {
		t.Stop()
	}
	g.timers = nil
}

// Len is the number of timers held: those pending, and those fired since
// the last AfterFunc.
func (g *Group) Len() int { return len(g.timers) }
