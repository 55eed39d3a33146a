package netio

import (
	"encoding/binary"
	"fmt"
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
