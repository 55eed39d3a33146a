package header

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// The Internet checksum (RFC 1071) is the ones' complement of the ones'
// complement sum of a message taken as 16-bit big-endian words. This file
// keeps the sum separate from the final complement so that a checksum can
// be built from parts (pseudo-header, header, payload) without copying
// them together.
//
// Ones' complement addition is arithmetic modulo 2^16-1, and 2^16-1 divides
// 2^64-1, so summing 64-bit words with end-around carry and folding the
// result down to 16 bits gives the same value as summing 16-bit words
// (RFC 1071 §2 (C)). Where in a word a 16-bit group sits does not
// matter, only that it starts at an even offset of the whole message.
//
// The sum is taken over little-endian words: ones' complement addition
// commutes with swapping the two octets of every 16-bit group (RFC 1071
// §2 (B)), so the little-endian sum, folded and byte-swapped once, is the
// big-endian sum, and the loads on little-endian CPUs need no byte swap of
// their own. The data plane sums every octet that crosses the TUN (the TCP
// and UDP checksums of segment split and coalescing) with it, so this is
// a hot path: on amd64 with AVX2 the long runs go to sumBlocks in
// assembly.

// PartialChecksum returns initial plus the ones' complement sum of b,
// not complemented. A final odd byte is padded on the right with zero.
//
// To sum a message in pieces, pass each piece's result as the next
// piece's initial value; every piece but the last must have even length,
// or the later pieces would be summed one byte out of phase.
func PartialChecksum(b []byte, initial uint16) uint16 {
	return bits.ReverseBytes16(fold(sum64(b, uint64(bits.ReverseBytes16(initial)))))
}

// CombineChecksums adds two partial checksums in ones' complement.
func CombineChecksums(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s&0xffff + s>>16)
}

// AdjustChecksum returns the checksum of a message after one of its
// 16-bit words changed from old to new, without summing the message
// again: HC' = ~(~HC + ~m + m') (RFC 1624 §3, equation 3, which unlike
// equation 2 of RFC 1141 never yields 0xFFFF for a nonzero sum).
func AdjustChecksum(checksum, old, new uint16) uint16 {
	s := uint32(^checksum) + uint32(^old) + uint32(new)
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return ^uint16(s)
}

// PseudoHeaderChecksum returns the partial checksum of the pseudo-header
// that UDP, TCP and ICMPv6 checksums cover: source and destination
// address, protocol and upper-layer length, in the IPv4 layout of RFC 768
// when the addresses are IPv4 and the IPv6 layout of RFC 8200 §8.1
// otherwise. Both layouts sum to the same value for the same numbers, so
// only the address width differs. length counts the upper-layer header
// and its payload.
func PseudoHeaderChecksum(protocol uint8, src, dst netip.Addr, length uint32) uint16 {
	return fold(addAddr(addAddr(pseudoHeaderBase(protocol, length), src), dst))
}

// pseudoHeaderBase is the pseudo-header's sum without the addresses.
func pseudoHeaderBase(protocol uint8, length uint32) uint64 {
	return uint64(protocol) + uint64(length>>16) + uint64(length&0xffff)
}

// addAddr adds the 16-bit words of a to acc. acc stays far below 2^64:
// at most nine words of 2^32 each are ever added before a fold.
func addAddr(acc uint64, a netip.Addr) uint64 {
	if a.Is4() {
		b := a.As4()
		return acc + uint64(binary.BigEndian.Uint32(b[:]))
	}
	// AppendBinary writes the address with 8-octet stores that the
	// loads below take straight from the store buffer, where a copy of
	// As16's array stalled them: 11 ns against 24 for IPv6
	// (BenchmarkPseudoHeaderChecksum/Addr). It appends a zone too, no
	// part of the address on the wire: b[:16] leaves it out.
	var buf [16]byte
	b, _ := a.AppendBinary(buf[:0])
	if len(b) < 16 {
		return acc // the zero Addr: no address, nothing to add
	}
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	// Split each half so the sum cannot overflow 64 bits.
	return acc + hi>>32 + hi&0xffffffff + lo>>32 + lo&0xffffffff
}

// PseudoHeaderChecksumOctets is PseudoHeaderChecksum for addresses as
// they lie in an IP header: addrs is the source and the destination back
// to back, octets 12-19 of an IPv4 header or 8-39 of an IPv6 one. Summed
// where they lie they need no netip.Addr on the way, which the TUN's
// segment split and coalescing, summing every segment's, save.
func PseudoHeaderChecksumOctets(protocol uint8, addrs []byte, length uint32) uint16 {
	acc := pseudoHeaderBase(protocol, length)
	for len(addrs) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(addrs))
		addrs = addrs[4:]
	}
	return fold(acc)
}

// sum64 adds b to acc as little-endian 64-bit words with end-around
// carry (acc is a little-endian sum too). One carry chain of 64-bit
// additions compiles to add-with-carry instructions at about 8 octets a
// cycle, faster than splitting the words into independent 32-bit
// accumulators in Go; unrolled by 128 octets rather than 64 it spends
// less on keeping the carry across iterations (about 15% on 1408 octets,
// BenchmarkChecksum/generic). Where the CPU has AVX2 the 64-octet blocks
// of a long b go to sumBlocks, two to four times as fast again.
func sum64(b []byte, acc uint64) uint64 {
	var c uint64
	if useSumBlocks && len(b) >= sumBlocksMin {
		// sumBlocks' plain 64-bit total cannot overflow below 2^34
		// octets; a slice that long is summed in pieces all the same.
		for len(b) >= 64 {
			n := min(len(b), sumBlocksMax) &^ 63
			acc, c = bits.Add64(acc, sumBlocks(b[:n]), c)
			b = b[n:]
		}
	}
	for len(b) >= 128 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:32]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[32:40]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[40:48]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[48:56]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[56:64]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[64:72]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[72:80]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[80:88]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[88:96]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[96:104]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[104:112]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[112:120]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[120:128]), c)
		b = b[128:]
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
	// End-around carry; adding it back can carry once more at most.
	acc, c = bits.Add64(acc, c, 0)
	return acc + c
}

const (
	// sumBlocksMin is the length from which sumBlocks (where there is
	// one) pays for its setup.
	sumBlocksMin = 128
	// sumBlocksMax bounds one sumBlocks call well below the 2^34 octets
	// at which its total could overflow.
	sumBlocksMax = 1 << 30
)

// fold reduces a 64-bit ones' complement sum to 16 bits, in a fixed
// number of steps rather than a loop with a data-dependent branch. It
// yields 0 only for 0, so PartialChecksum's choice between the two zeros
// does not depend on the byte order or the word size of the sum.
func fold(acc uint64) uint16 {
	acc = acc>>32 + acc&0xffffffff // at most 33 bits
	acc = acc>>16 + acc&0xffff     // at most 18 bits
	acc = acc>>16 + acc&0xffff     // at most 17 bits, and then no carry
	acc = acc>>16 + acc&0xffff
	return uint16(acc)
}
