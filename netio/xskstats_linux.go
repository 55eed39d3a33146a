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
	var buf [xdpStatisticsLen]byte
	n := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), unix.SOL_XDP, unix.XDP_STATISTICS,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e == 0 && n <= uint32(len(buf)) {
		if st, err := parseXDPStatistics(buf[:n]); err == nil {
			s.kstats = st
		}
	}
	return s.kstats
}
