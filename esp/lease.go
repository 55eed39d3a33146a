package esp

// A Lease is one SA's work area held by one goroutine for a run of that
// SA's packets (Outbound.Lease, Inbound.Lease). Without one, every Seal
// or Decrypt takes a work area from the SA's free list and puts it back:
// two atomic exchanges per packet on a cache line that every core
// sealing for the SA writes. A lease touches the list once per run.
//
// A Lease belongs to the goroutine that took it until Release; it is
// only for the SA that lent it.
type Lease struct {
	s *suite
	w *work
}

func (s *suite) lease() Lease { return Lease{s: s, w: s.workSlots.get()} }

// Release gives the work area back. The Lease is empty afterwards (and
// releasing an empty one does nothing).
func (l *Lease) Release() {
	if l.w != nil {
		l.s.workSlots.put(l.w)
		l.w = nil
	}
}

// of returns the work area for SA s: the lease's own, or nil when the
// lease is not s's, so that the caller takes one from the list.
func (l *Lease) of(s *suite) *work {
	if l == nil || l.s != s {
		return nil
	}
	return l.w
}
