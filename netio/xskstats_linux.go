package netio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelStats reads the socket's XDP_STATISTICS. The kernel's counters
// are totals, so the last reading stands once the socket is closed.
func (s *xsk) kernelStats() xskKernelStats {
	s.txMu.Lock() // close takes it: fd stays this socket's meanwhile
	defer s.txMu.Unlock()
	if s.fd < 0 {
		return s.kstats
	}
	// The receiving socket counts the receive drops, the transmitting
	// one the transmit ring's.
	rx, ok := readXDPStatistics(s.fd)
	if !ok {
		return s.kstats
	}
	if s.txFd >= 0 {
		tx, ok := readXDPStatistics(s.txFd)
		if !ok {
			return s.kstats
		}
		rx = rx.add(tx)
	}
	s.kstats = rx
	return s.kstats
}

// readXDPStatistics reads one socket's XDP_STATISTICS.
func readXDPStatistics(fd int) (xskKernelStats, bool) {
	var buf [xdpStatisticsLen]byte
	n := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_XDP, unix.XDP_STATISTICS,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 || n > uint32(len(buf)) {
		return xskKernelStats{}, false
	}
	st, err := parseXDPStatistics(buf[:n])
	return st, err == nil
}
