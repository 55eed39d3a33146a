package dataplane

// Hooks for a cluster node resuming SAs another node ran (daemon/hasync):
// the outbound sequence continues above the synchronised high-water mark,
// the inbound window starts at the synchronised edge.

// ResumeAt makes seq the last sequence number sent on the SA.
func (sa *OutboundSA) ResumeAt(seq uint64) { sa.esp.ResumeAt(seq) }

// SeedReplay starts the SA's anti-replay window at top.
func (sa *InboundSA) SeedReplay(top uint64) { sa.esp.SeedReplay(top) }
