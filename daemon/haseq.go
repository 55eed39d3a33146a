package daemon

import (
	"ipsecgw/dataplane"
	"ipsecgw/ike/ikev2"
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

// markWritten tells the data plane that st, with its outbound SAs' marks,
// is written.
func markWritten(inst *installer, st ikev2.State) {
	if inst == nil {
		return
	}
	for _, c := range st.Children {
		if c.OutSeq < seqStep {
			continue // not a mark sequences made
		}
		inst.mu.Lock()
		o := inst.outbound[c.OutSPI]
		inst.mu.Unlock()
		if o != nil {
			o.SetSequenceMark(c.OutSeq, kickPoint(c.OutSeq))
		}
	}
}

// holdAtMark makes a resumed outbound SA wait at the mark it was resumed
// at until this node has written its own. Only the IKEv2 records' writes
// grant marks (syncOnce calls markWritten): an SA of another engine's
// installer is not held, or nothing would ever release it.
func holdAtMark(i *installer, o *dataplane.OutboundSA, outSeq uint64) {
	if i.version == 2 && outSeq != 0 {
		o.SetSequenceMark(outSeq, outSeq)
	}
}
