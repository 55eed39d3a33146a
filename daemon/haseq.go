package daemon

import (
	"ipsecgw/dataplane"
)

// The ESP high-water mark and the data plane (dataplane/seqmark.go):
//   - once a record is confirmed written, each of its outbound SAs may
//     send up to the mark it carries, and signals the sync (s.kick) when
//     its sequence comes within half a step of it: the next write then
//     follows at once, whatever the packet rate, instead of at the next
//     tick of the loop;
//   - an SA that reaches its mark before the next one is confirmed holds
//     its packets (SequenceHeld) until it is: a survivor starts above the
//     mark written, so nothing may be sent above it;
//   - a Child SA resumed from another node starts held at the mark it
//     was resumed at, and goes once this node has written its own mark
//     (haResume pokes the sync at once).
// An SA not yet written has no mark: no node can resume it.

// kickPoint is where an SA of mark hw signals the sync: the first
// sequence number at which sequences moves the mark.
func kickPoint(hw uint64) uint64 { return hw - seqStep/2 + 1 }

// markWritten tells the data plane that the mark of outbound SA spi,
// mark, is written (both engines' records carry SPIs and marks: hasync.go
// and hasyncv1.go call it after each confirmed write).
func markWritten(inst *installer, spi uint32, mark uint64) {
	if inst == nil || mark < seqStep {
		return // not a mark sequences or marksV1 made
	}
	inst.mu.Lock()
	o := inst.outbound[spi]
	inst.mu.Unlock()
	if o != nil {
		o.SetSequenceMark(mark, kickPoint(mark))
	}
}

// holdAtMark makes a resumed outbound SA wait at the mark it was resumed
// at until this node has written its own. Both engines' records grant
// marks once written, and only a node running the HA sync (clustered,
// with a cluster key) resumes SAs, so whatever is held here is released
// by the sync's next write; an SA installed any other way has no mark.
func holdAtMark(o *dataplane.OutboundSA, outSeq uint64) {
	if outSeq != 0 {
		o.SetSequenceMark(outSeq, outSeq)
	}
}
