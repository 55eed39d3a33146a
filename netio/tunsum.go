package netio

import (
	"encoding/binary"
	"math/bits"
)

// The TUN's split and coalescer sum every octet that crosses the tunnel
// interface once (the TCP and UDP checksums the offloads leave to them),
// so this sum is on the data plane's hot path. It is the Internet
// checksum of RFC 1071 taken over 64-bit little-endian words: ones'
// complement addition commutes with a byte swap of every 16-bit group
// (RFC 1071 §2 (B)), so the little-endian sum folded to 16 bits is the
// big-endian sum byte-swapped, and the loads need no byte swap of their
// own. Where sums are combined (pseudo-header, headers, payload) they are
// kept as big-endian 16-bit partial sums, as header.PartialChecksum's.

// sumLE returns the ones' complement sum of b as an unfolded 64-bit
// accumulator of little-endian words (add more with sumLE(next, acc);
// every piece but the last must have a length that is a multiple of 8
// for the words to stay aligned to the message). One carry chain of
// 64-bit additions: on amd64 and arm64 it compiles to add-with-carry
// instructions at about 8 octets a cycle, faster than splitting the words
// into independent 32-bit accumulators in Go; where the CPU has AVX2 the
// 64-octet blocks go to sumBlocks, about twice as fast again (measured in
// BenchmarkSum).
func sumLE(b []byte, acc uint64) uint64 {
	var c uint64
	if haveSumBlocks && len(b) >= sumBlocksMin {
		n := len(b) &^ 63
		acc, c = bits.Add64(acc, sumBlocks(b[:n]), 0)
		b = b[n:]
	}
	for len(b) >= 64 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:32]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[32:40]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[40:48]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[48:56]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[56:64]), c)
		b = b[64:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	if len(b) >= 4 {
		acc, c = bits.Add64(acc, uint64(binary.LittleEndian.Uint32(b)), c)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, c = bits.Add64(acc, uint64(binary.LittleEndian.Uint16(b)), c)
		b = b[2:]
	}
	if len(b) == 1 {
		// A final odd octet is padded on the right: the high octet of a
		// big-endian group, the low one of a little-endian group.
		acc, c = bits.Add64(acc, uint64(b[0]), c)
	}
	acc, c = bits.Add64(acc, c, 0)
	return acc + c
}

// sumBlocksMin is the length from which sumBlocks (where there is one)
// pays for its setup.
const sumBlocksMin = 128

// foldLE reduces a sumLE accumulator to a big-endian 16-bit partial sum.
func foldLE(acc uint64) uint16 {
	return bits.ReverseBytes16(fold16(acc))
}

// fold16 reduces a 64-bit ones' complement sum to 16 bits.
func fold16(acc uint64) uint16 {
	acc = acc>>32 + acc&0xffffffff // at most 33 bits
	acc = acc>>16 + acc&0xffff     // at most 18 bits
	acc = acc>>16 + acc&0xffff     // at most 17 bits, and then no carry
	acc = acc>>16 + acc&0xffff
	return uint16(acc)
}

// sum16 returns the big-endian partial sum of b plus initial (a partial
// sum itself).
func sum16(b []byte, initial uint16) uint16 {
	return addSum(foldLE(sumLE(b, 0)), initial)
}

// addSum adds two 16-bit partial sums in ones' complement.
func addSum(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s&0xffff + s>>16)
}

// pseudoSum returns the partial sum of the TCP/UDP pseudo-header (RFC 768,
// RFC 8200 §8.1): src and dst are the addresses as they sit in the IP
// header (4 or 16 octets each), length the transport header and payload.
func pseudoSum(proto uint8, src, dst []byte, length int) uint16 {
	acc := uint64(proto) + uint64(length)
	for len(src) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(src)) + uint64(binary.BigEndian.Uint32(dst))
		src, dst = src[4:], dst[4:]
	}
	return fold16(acc)
}
