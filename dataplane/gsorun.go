package dataplane

import (
	"net/netip"

	"ipsecgw/netio"
)

// sendRun sends one run of UDP ESP packets (one SA, one DS byte, all
// size octets but the last) in one system call. A socket that gathers
// (netio.SegmentVecSender) takes the packets where they were sealed;
// otherwise they are copied back to back into gsoBuf first, an extra
// pass over every packet.
func (b *sendBatch) sendRun(run []gsoPacket, size int) error {
	first := run[0]
	dst := netip.AddrPortFrom(first.sa.Remote, first.sa.Encap.DstPort)
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
