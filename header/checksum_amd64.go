//go:build !purego

package header

import "golang.org/x/sys/cpu"

// useSumBlocks: sum64 hands long runs to sumBlocks, which needs AVX2. A
// variable so that the tests can run the pure-Go path on this CPU too.
var useSumBlocks = cpu.X86.HasAVX2

// sumBlocks returns the sum of b's little-endian 32-bit words as a plain
// 64-bit integer (it cannot overflow below 2^34 octets), congruent to
// their ones' complement sum modulo 2^16-1 as sum64's accumulator is. b's
// length is a multiple of 64. AVX2: each 32-octet load is widened to four
// 64-bit lanes twice and added, four loads in flight, about twice the
// speed of the carry chain (BenchmarkChecksum).
//
//go:noescape
func sumBlocks(b []byte) uint64
