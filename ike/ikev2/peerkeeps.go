package ikev2

import "time"

// A redundant SA the peer is to delete and may not. Two tie-break rules
// leave the deletion to the side that created the redundant SA: dedupe's
// for the IKE SAs of a simultaneous initiation (admin.go, dupike.go) and
// RFC 7296 §2.8.1's for the Child SAs of a simultaneous creation
// (childdup.go, childdupkept.go). A peer that does not apply the rule
// keeps its redundant SA, and both stay for good; so when it is the
// peer's to delete we wait, and delete it ourselves if it is still there.
// Either side may delete any SA, and deleting the same one the peer
// deletes at the same moment is harmless (§1.4.1: DELETEs that cross).

// unlessPeerDeletes runs del after wait if kept still reports the
// redundant SA there. While an exchange is out on sa (its DELETE could
// be the peer's answer we are waiting on, or a rekey about to move
// things) it looks again a second later, up to five times. The timers are
// sa's: its close stops them.
func (sa *ikeSA) unlessPeerDeletes(wait time.Duration, kept func() bool, del func()) {
	e := sa.e
	var check func(tries int)
	check = func(tries int) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if !kept() {
			return
		}
		if sa.pending != nil || sa.ikeRekey != nil {
			if tries < 5 { // an exchange is out: a moment later
				sa.after(time.Second, func() { check(tries + 1) })
			}
			return
		}
		del()
	}
	sa.after(wait, func() { check(0) })
}
