package esp

// Resuming an SA on another node of a cluster (package cluster): the node
// that took over an SA continues its sequence numbers above anything the
// node before it can have sent, and receives from the edge it synchronised.

// ResumeAt makes seq the last sequence number used, so the next packet
// carries seq+1. It never moves the counter backwards.
func (sa *Outbound) ResumeAt(seq uint64) {
	if seq > sa.lastSeq {
		seq = sa.lastSeq
	}
	for {
		cur := sa.seq.Load()
		if cur >= seq || sa.seq.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// SeedReplay starts the anti-replay window at top: every sequence number
// up to it counts as received.
func (sa *Inbound) SeedReplay(top uint64) { sa.window.Seed(top) }
