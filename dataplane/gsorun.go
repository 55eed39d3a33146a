package dataplane

import (
	"net/netip"

	"ipsecgw/netio"
)

// sendRun sends one run of UDP ESP packets (one SA, one DS byte, all
// size octets but the last). A socket that sends several runs in one
// system call (netio.RunSender) gets it queued, for sendQueuedRuns at
// the end of the flush: a 64 KB TUN read seals into two runs or more,
// since one UDP datagram carries at most 64 KB. Otherwise it leaves at
// once in one system call: gathered where the packets were sealed by a
// netio.SegmentVecSender, or copied back to back into gsoBuf first, an
// extra pass over every packet.
func (b *sendBatch) sendRun(run []gsoPacket, size int) error {
	first := run[0]
	dst := netip.AddrPortFrom(first.sa.Remote, first.sa.Encap.DstPort)
	if rs, ok := first.sender.(netio.RunSender); ok {
		b.runs.add(rs, dst, first, run, size)
		return nil
	}
	if len(run) == 1 {
		return first.sender.SendSegments(dst, first.sa.Local, first.tos, first.pkt, size)
	}
	if vs, ok := first.sender.(netio.SegmentVecSender); ok {
		b.gsoVec = b.gsoVec[:0]
		for _, p := range run {
			b.gsoVec = append(b.gsoVec, p.pkt)
		}
		err := vs.SendSegmentVec(dst, first.sa.Local, first.tos, b.gsoVec, size)
		clear(b.gsoVec) // drop the references to this batch's buffers
		return err
	}
	flat := b.gsoBuf[:0]
	for _, p := range run {
		flat = append(flat, p.pkt...)
	}
	return first.sender.SendSegments(dst, first.sa.Local, first.tos, flat, size)
}

// runQueue holds the runs of one flush for sockets that send several in
// one call (netio.RunSender), in the order they were cut, grouped by
// socket: packets of one SA always leave through one socket, so only
// their order within a group matters.
type runQueue struct {
	runs   []netio.Run
	groups []runGroup
	segs   [][]byte // the queued runs' packets, where they were sealed
}

// runGroup is runs[start:end], all for one socket.
type runGroup struct {
	to         netio.RunSender
	start, end int
}

// add queues run for rs.
func (q *runQueue) add(rs netio.RunSender, dst netip.AddrPort, first gsoPacket, run []gsoPacket, size int) {
	start := len(q.segs)
	for _, p := range run {
		q.segs = append(q.segs, p.pkt)
	}
	// The full slice expression keeps a later append from writing into
	// this run's datagrams (and a grown segs leaves them where they are).
	q.runs = append(q.runs, netio.Run{Dst: dst, Src: first.sa.Local, TOS: first.tos, Segs: q.segs[start:len(q.segs):len(q.segs)], SegSize: size})
	if n := len(q.groups); n > 0 && q.groups[n-1].to == rs {
		q.groups[n-1].end = len(q.runs)
		return
	}
	q.groups = append(q.groups, runGroup{to: rs, start: len(q.runs) - 1, end: len(q.runs)})
}

// sendQueuedRuns sends the runs sendRun queued, each socket's group in
// one call (or a few: netio bounds a call), and counts the packets of
// the runs that failed.
func (e *Engine) sendQueuedRuns(b *sendBatch) {
	q := &b.runs
	for _, g := range q.groups {
		runs := q.runs[g.start:g.end]
		if err := g.to.SendRuns(runs); err == nil {
			continue
		}
		for _, r := range runs {
			if r.Err != nil {
				e.Stats.SendErrors.Add(uint64(len(r.Segs)))
				e.log.Debug("send", "packets", len(r.Segs), "err", r.Err)
			}
		}
	}
	// Drop the references to this batch's buffers and sockets.
	clear(q.runs)
	clear(q.groups)
	clear(q.segs)
	q.runs, q.groups, q.segs = q.runs[:0], q.groups[:0], q.segs[:0]
}
