package esp

import (
	"strings"
	"testing"
)

// TestBodyLen: the mask rounds as the division did, for every alignment
// a suite has (4, 8, 16).
func TestBodyLen(t *testing.T) {
	for _, align := range []int{4, 8, 16} {
		for n := 0; n <= 2000; n++ {
			want := (n + trailerLen + align - 1) / align * align
			if got := bodyLen(n, align); got != want {
				t.Fatalf("bodyLen(%d, %d) = %d, want %d", n, align, got, want)
			}
		}
	}
}

// TestAlignmentPowerOfTwo: a cipher whose block size would make an
// alignment that is not a power of two is refused, not mispadded.
func TestAlignmentPowerOfTwo(t *testing.T) {
	for _, sc := range allSuites(t) {
		cfg := testConfig(sc, false)
		odd := *cfg.Encryption
		odd.BlockSize = 12
		cfg.Encryption = &odd
		if _, err := NewOutbound(cfg); err == nil || !strings.Contains(err.Error(), "power of two") {
			t.Fatalf("%s with 12-byte blocks: err = %v", sc.name, err)
		}
	}
}
