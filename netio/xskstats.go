package netio

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
)

// xskKernelStats are an AF_XDP socket's counters as the kernel keeps
// them (struct xdp_statistics, getsockopt SOL_XDP XDP_STATISTICS):
// totals since the socket was made, which reading does not reset.
type xskKernelStats struct {
	// Dropped (rx_dropped) counts the frames the kernel could not give
	// the socket: no frame in the fill ring, or a frame too long; before
	// Linux 5.9 also those that found the receive ring full.
	Dropped uint64
	// InvalidRx and InvalidTx (rx_invalid_descs, tx_invalid_descs) count
	// descriptors the kernel refused.
	InvalidRx, InvalidTx uint64
	// The rest is Linux 5.9 and later (zero before): RingFull
	// (rx_ring_full) counts frames dropped for a full receive ring,
	// FillEmpty (rx_fill_ring_empty_descs) the times the kernel found the
	// fill ring empty, TxEmpty (tx_ring_empty_descs) the times it found
	// nothing to send (not a drop).
	RingFull, FillEmpty, TxEmpty uint64
}

// The sizes of struct xdp_statistics: three counters before Linux 5.9,
// six since.
const (
	xdpStatisticsV1Len = 3 * 8
	xdpStatisticsLen   = 6 * 8
)

// parseXDPStatistics reads struct xdp_statistics as the kernel wrote it,
// in host byte order, b being as long as the kernel said.
func parseXDPStatistics(b []byte) (xskKernelStats, error) {
	if len(b) != xdpStatisticsV1Len && len(b) < xdpStatisticsLen {
		return xskKernelStats{}, fmt.Errorf("XDP_STATISTICS of %d octets, want %d or %d", len(b), xdpStatisticsV1Len, xdpStatisticsLen)
	}
	u := func(i int) uint64 { return binary.NativeEndian.Uint64(b[i*8:]) }
	s := xskKernelStats{Dropped: u(0), InvalidRx: u(1), InvalidTx: u(2)}
	if len(b) >= xdpStatisticsLen {
		s.RingFull, s.FillEmpty, s.TxEmpty = u(3), u(4), u(5)
	}
	return s, nil
}

// add is s plus o, counter by counter.
func (s xskKernelStats) add(o xskKernelStats) xskKernelStats {
	return xskKernelStats{Dropped: s.Dropped + o.Dropped, InvalidRx: s.InvalidRx + o.InvalidRx, InvalidTx: s.InvalidTx + o.InvalidTx,
		RingFull: s.RingFull + o.RingFull, FillEmpty: s.FillEmpty + o.FillEmpty, TxEmpty: s.TxEmpty + o.TxEmpty}
}

// xskTxCounters count one socket's transmit kicks (xsk.kick): how often
// the kernel was asked to take the transmit ring, and how often, how long
// and how vainly it had to be waited for. Only the transmitter (under
// txMu) adds; Stats reads them without the lock.
type xskTxCounters struct {
	kicks, sendtos atomic.Uint64
	waits, waitNs  atomic.Uint64
	pauses         atomic.Uint64
	gaveUp, left   atomic.Uint64
}

// xskTxStats is one reading of xskTxCounters, or their sum over sockets.
type xskTxStats struct {
	// Kicks is the transmits that had the kernel take the ring; Sendtos
	// the sendto calls they made (in copy mode one takes a bounded batch,
	// so a kick may need several).
	Kicks, Sendtos uint64
	// Waits is the kicks whose quick tries left frames in the ring (the
	// peer's queue full) and that went on to pause; WaitNs the time from
	// their first pause to their end, in nanoseconds; Pauses the pauses
	// they made.
	Waits, WaitNs, Pauses uint64
	// GaveUp is the kicks that returned with frames still in the ring,
	// kickPatience having run out (or the kernel having refused the kick
	// outright); Left the frames so left. Those frames are not lost: they
	// go out with the next kick, late.
	GaveUp, Left uint64
}

func (c *xskTxCounters) read() xskTxStats {
	return xskTxStats{Kicks: c.kicks.Load(), Sendtos: c.sendtos.Load(), Waits: c.waits.Load(), WaitNs: c.waitNs.Load(), Pauses: c.pauses.Load(),
		GaveUp: c.gaveUp.Load(), Left: c.left.Load()}
}

// add is s plus o, counter by counter.
func (s xskTxStats) add(o xskTxStats) xskTxStats {
	return xskTxStats{Kicks: s.Kicks + o.Kicks, Sendtos: s.Sendtos + o.Sendtos, Waits: s.Waits + o.Waits,
		WaitNs: s.WaitNs + o.WaitNs, Pauses: s.Pauses + o.Pauses, GaveUp: s.GaveUp + o.GaveUp, Left: s.Left + o.Left}
}
