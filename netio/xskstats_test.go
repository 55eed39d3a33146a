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
