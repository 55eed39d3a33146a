package netio

import (
	"fmt"
	"net/netip"
)

// SegmentVecSender is a SegmentSender that also takes a run's datagrams
// where they lie, one slice each, instead of back to back in one buffer:
// the kernel gathers them (one sendmsg with an iovec per datagram), so
// the caller copies nothing. Every datagram but the last is segSize
// octets; the last may be shorter; at most MaxSegments.
type SegmentVecSender interface {
	SegmentSender
	SendSegmentVec(dst netip.AddrPort, src netip.Addr, tos uint8, segs [][]byte, segSize int) error
}

// checkSegmentVec says whether segs is a run SendSegmentVec can send, and
// its length in octets.
func checkSegmentVec(segs [][]byte, segSize int) (int, error) {
	if segSize <= 0 || len(segs) == 0 || len(segs) > MaxSegments {
		return 0, fmt.Errorf("netio: SendSegmentVec: %d datagrams in segments of %d", len(segs), segSize)
	}
	total := 0
	for i, s := range segs {
		if len(s) == 0 || len(s) > segSize || len(s) < segSize && i < len(segs)-1 {
			return 0, fmt.Errorf("netio: SendSegmentVec: datagram %d of %d has %d octets, segments of %d", i, len(segs), len(s), segSize)
		}
		total += len(s)
	}
	return total, nil
}

// Run is one UDP GSO send for a RunSender: datagrams of SegSize octets
// (the last may be shorter) gathered from Segs, to Dst from Src (the
// socket's choice when not valid) with TOS as the DS/ECN byte.
// SendRuns sets Err to why this run was not sent, or nil.
type Run struct {
	Dst     netip.AddrPort
	Src     netip.Addr
	TOS     uint8
	Segs    [][]byte
	SegSize int
	Err     error
}

// RunSender is a SegmentVecSender that also sends several runs in one
// system call (sendmmsg on Linux, one message per run): a TUN read of a
// 64 KB super-packet seals into more ESP than one UDP datagram of 64 KB
// can carry, so it leaves as two runs or more.
type RunSender interface {
	SegmentVecSender
	// SendRuns sends every run, trying each even when one fails, and
	// returns the first error (each run's own in its Err).
	SendRuns(runs []Run) error
}
