//go:build !purego

package netio

import "golang.org/x/sys/cpu"

// haveSumBlocks: sumBlocks is usable (AVX2).
var haveSumBlocks = cpu.X86.HasAVX2

// sumBlocks returns the sum of b's little-endian 32-bit words as a plain
// 64-bit integer (it cannot overflow below 2^31 octets), congruent to
// their ones' complement sum modulo 2^16-1 as sumLE's accumulator is. b's
// length is a multiple of 64. AVX2: each 32-octet load is widened to four
// 64-bit lanes twice and added, four loads in flight, about twice the
// speed of the carry chain (BenchmarkSum).
//
//go:noescape
func sumBlocks(b []byte) uint64
