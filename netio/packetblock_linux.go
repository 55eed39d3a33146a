package netio

import "encoding/binary"

// A TPACKET_V3 receive block (Documentation/networking/packet_mmap.rst,
// include/uapi/linux/if_packet.h) as the kernel hands it over: a block
// descriptor, then num_pkts packets chained by tp_next_offset, each a
// struct tpacket3_hdr with the frame tp_mac octets after its start. The
// kernel writes the fields in the host's byte order. The block is shared
// memory the kernel wrote, so every offset is checked against the block
// before use: a bad one ends the block, counted, never a panic.
//
//	block descriptor (struct tpacket_block_desc)
//	  0 version  4 offset_to_priv  8 block_status  12 num_pkts
//	 16 offset_to_first_pkt  20 blk_len  24 seq_num  32 timestamps
//	packet header (struct tpacket3_hdr)
//	  0 tp_next_offset  4 tp_sec  8 tp_nsec  12 tp_snaplen  16 tp_len
//	 20 tp_status  24 tp_mac (16 bits)  26 tp_net (16 bits)  28 ...
const (
	blockStatusOffset = 8
	blockNumPkts      = 12
	blockFirstPkt     = 16
	blockLen          = 20
	blockSeqNum       = 24
	blockHeaderLen    = 48

	pktNextOffset = 0
	pktSnapLen    = 12
	pktLen        = 16
	pktStatus     = 20
	pktMac        = 24
	pktHeaderLen  = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
)

// blockReader walks the packets of one receive block.
type blockReader struct {
	b    []byte // the block, cut to blk_len
	left uint32 // packets not yet read
	off  int    // of the next packet's header
	lost uint32 // packets past a broken chain: never read, counted as bad
}

// frameResult is what blockReader.next found.
type frameResult uint8

const (
	frameOK  frameResult = iota
	frameBad             // malformed: counted and dropped
	// frameCut is a packet the kernel cut to fit the frame (tp_len past
	// tp_snaplen): the interface's MTU grew past what the ring was made
	// for (packetmtu_linux.go). Counted apart and dropped.
	frameCut
	blockEnd // no more packets in the block
)

// readBlock starts reading block b. It is false when the descriptor is
// malformed: the block holds nothing to read (and goes back to the
// kernel).
func readBlock(b []byte) (blockReader, bool) {
	if len(b) < blockHeaderLen {
		return blockReader{}, false
	}
	num := binary.NativeEndian.Uint32(b[blockNumPkts:])
	first := uint64(binary.NativeEndian.Uint32(b[blockFirstPkt:]))
	blen := uint64(binary.NativeEndian.Uint32(b[blockLen:]))
	if blen < blockHeaderLen || blen > uint64(len(b)) {
		return blockReader{}, false
	}
	if num > 0 && (first < blockHeaderLen || first+pktHeaderLen > blen) {
		return blockReader{}, false
	}
	return blockReader{b: b[:blen], left: num, off: int(first)}, true
}

// blockSeq is block b's sequence number: the kernel numbers the blocks
// it opens 1, 2, ... (prb_open_block).
func blockSeq(b []byte) uint64 {
	if len(b) < blockSeqNum+8 {
		return 0
	}
	return binary.NativeEndian.Uint64(b[blockSeqNum:])
}

// next returns the next packet's frame (the Ethernet frame as captured).
// A malformed header ends the block after it: the chain cannot be trusted
// past it.
func (r *blockReader) next() ([]byte, frameResult) {
	if r.left == 0 {
		return nil, blockEnd
	}
	r.left--
	off := r.off
	if off < blockHeaderLen || off+pktHeaderLen > len(r.b) {
		r.lost, r.left = r.left, 0
		return nil, frameBad
	}
	h := r.b[off:]
	next := uint64(binary.NativeEndian.Uint32(h[pktNextOffset:]))
	snap := uint64(binary.NativeEndian.Uint32(h[pktSnapLen:]))
	wire := uint64(binary.NativeEndian.Uint32(h[pktLen:]))
	mac := uint64(binary.NativeEndian.Uint16(h[pktMac:]))
	if r.left > 0 {
		if next < pktHeaderLen || uint64(off)+next+pktHeaderLen > uint64(len(r.b)) {
			// The frame below may still be good; those after it are lost.
			r.lost, r.left = r.left, 0
		} else {
			r.off = off + int(next)
		}
	}
	start := uint64(off) + mac
	if mac < pktHeaderLen || start+snap > uint64(len(r.b)) {
		return nil, frameBad
	}
	if snap < wire {
		return nil, frameCut
	}
	return r.b[start : start+snap], frameOK
}
