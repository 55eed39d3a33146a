package netio

import (
	"encoding/binary"
	"testing"
)

// TestParseXDPStatistics: both sizes of struct xdp_statistics the kernel
// writes (three counters before Linux 5.9, six since) read back in
// order; any other length is refused.
func TestParseXDPStatistics(t *testing.T) {
	raw := func(n int) []byte {
		b := make([]byte, n*8)
		for i := range n {
			binary.NativeEndian.PutUint64(b[i*8:], uint64(i+1)*1000+uint64(i))
		}
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		want xskKernelStats
	}{
		{"Linux 5.9 and later", raw(6), xskKernelStats{Dropped: 1000, InvalidRx: 2001, InvalidTx: 3002, RingFull: 4003, FillEmpty: 5004, TxEmpty: 6005}},
		{"before Linux 5.9", raw(3), xskKernelStats{Dropped: 1000, InvalidRx: 2001, InvalidTx: 3002}},
		{"a longer struct of a later kernel", raw(8), xskKernelStats{Dropped: 1000, InvalidRx: 2001, InvalidTx: 3002, RingFull: 4003, FillEmpty: 5004, TxEmpty: 6005}},
	} {
		got, err := parseXDPStatistics(c.b)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	for _, n := range []int{0, 8, 16, 23, 25, 32, 40, 47} {
		if st, err := parseXDPStatistics(make([]byte, n)); err == nil {
			t.Errorf("%d octets: %+v, want an error", n, st)
		}
	}
	sum := xskKernelStats{1, 2, 3, 4, 5, 6}.add(xskKernelStats{10, 20, 30, 40, 50, 60})
	if sum != (xskKernelStats{11, 22, 33, 44, 55, 66}) {
		t.Errorf("add: %+v", sum)
	}
}

// FuzzParseXDPStatistics: any length is read or refused, never a panic;
// what is read is the first counters in order.
func FuzzParseXDPStatistics(f *testing.F) {
	f.Add(make([]byte, xdpStatisticsV1Len))
	f.Add(make([]byte, xdpStatisticsLen))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseXDPStatistics(b)
		if err != nil {
			return
		}
		if len(b) != xdpStatisticsV1Len && len(b) < xdpStatisticsLen {
			t.Fatalf("%d octets read: %+v", len(b), st)
		}
		if st.Dropped != binary.NativeEndian.Uint64(b) || st.InvalidTx != binary.NativeEndian.Uint64(b[16:]) {
			t.Fatalf("%x read as %+v", b, st)
		}
		if len(b) == xdpStatisticsV1Len && st.RingFull+st.FillEmpty+st.TxEmpty != 0 {
			t.Fatalf("the short struct gave counters it has not: %+v", st)
		}
	})
}
