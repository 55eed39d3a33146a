package netio

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A TPACKET_V2 ring (Documentation/networking/packet_mmap.rst,
// include/uapi/linux/if_packet.h) is frames of a fixed size, each a
// struct tpacket2_hdr with the Ethernet frame tp_mac octets after its
// start, handed over one by one: the kernel sets TP_STATUS_USER in a
// receive frame's tp_status as soon as the packet is in it and wakes the
// reader then, where V3 hands over whole blocks when full or when their
// retire timer fires (at best 1 ms later, rounded up to a jiffy). Hence
// V2 is what the packet rings receive with by default: no such delay,
// and under load the reader still finds many frames at each wake-up.
// The fields are in the host's byte order; the frame is shared memory
// the kernel wrote, so every offset is checked against it before use.
//
//	struct tpacket2_hdr
//	  0 tp_status  4 tp_len  8 tp_snaplen  12 tp_mac (16 bits)
//	 14 tp_net (16 bits)  16 tp_sec  20 tp_nsec  24 vlan  28 padding
//
// A transmit frame has the same header; its data starts at
// TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) = 32.
const (
	v2Status    = 0
	v2Len       = 4
	v2SnapLen   = 8
	v2Mac       = 12
	v2HeaderLen = 32 // TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
	// v2MacOffset is where the kernel puts a received frame's Ethernet
	// header: TPACKET_ALIGN(TPACKET2_HDRLEN) + 16 - ETH_HLEN (tpacket_rcv,
	// no reserve, no virtio-net header).
	v2MacOffset = 66
)

// readFrameV2 returns the Ethernet frame in receive frame f, as the
// kernel handed it over, frameBad when its header points outside f, or
// frameCut when the packet was cut to fit (tp_len past tp_snaplen).
func readFrameV2(f []byte) ([]byte, frameResult) {
	if len(f) < v2HeaderLen {
		return nil, frameBad
	}
	snap := uint64(binary.NativeEndian.Uint32(f[v2SnapLen:]))
	wire := uint64(binary.NativeEndian.Uint32(f[v2Len:]))
	mac := uint64(binary.NativeEndian.Uint16(f[v2Mac:]))
	if mac < v2HeaderLen || mac+snap > uint64(len(f)) {
		return nil, frameBad
	}
	if snap < wire {
		return nil, frameCut
	}
	return f[mac : mac+snap], frameOK
}

// v2FrameSize is the receive frame size for an interface of the given
// MTU (2048 for 1500).
func v2FrameSize(mtu int) int { return ringFrameSize(v2MacOffset, mtu, 2048) }

// frameAt returns V2 receive frame i and its status word.
func (r *packetRing) frameAt(i int) ([]byte, *uint32) {
	f := r.mem[i*r.frameSize : (i+1)*r.frameSize]
	return f, (*uint32)(unsafe.Pointer(&f[v2Status]))
}

// fillV2 is fill for V2 rings: it reads the frames the kernel has handed
// over into msgs, giving each back once copied out, or, lending, holding
// it (with the bad ones among them: the frames held are always a run
// from lentFrom) until ReleaseFrames.
func (r *packetRing) fillV2(msgs []Message) (n, bad int) {
	for n < len(msgs) {
		f, status := r.frameAt(r.frame)
		if atomic.LoadUint32(status)&unix.TP_STATUS_USER == 0 {
			return n, bad
		}
		switch frame, res := readFrameV2(f); {
		case res == frameOK && r.take(frame, &msgs[n]):
			n++
		case res == frameCut:
			r.p.truncated.Add(1)
		default:
			bad++
		}
		if r.lend {
			if r.lentN == 0 {
				r.lentFrom = r.frame
			}
			r.lentN++
		} else {
			atomic.StoreUint32(status, unix.TP_STATUS_KERNEL)
		}
		r.frame = (r.frame + 1) % r.frames
	}
	return n, bad
}
