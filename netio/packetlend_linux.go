package netio

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The packet rings lend their frames as the AF_XDP sockets do
// (FrameReceiver): the data plane's inline reader decrypts each ESP
// packet straight out of the ring into its own buffer, so the ring's
// frame is read once instead of copied out and then decrypted. A V2
// frame, or a V3 block read to its end, then goes back to the kernel at
// ReleaseFrames instead of at once; the kernel meanwhile fills the
// frames after it (a batch holds at most a few hundred of the ring's
// thousands). A frame the reader refused goes back with the others.

// ReadFrames is ReadBatch with the ESP packets left in the ring's frames:
// each message's Lent is its packet in the ring.
func (r *packetRing) ReadFrames(msgs []Message) (int, error) {
	return r.read(msgs, true)
}

// ReleaseFrames gives the frames (V2) or blocks (V3) ReadFrames lent back
// to the kernel, each once.
func (r *packetRing) ReleaseFrames() {
	if r.mem == nil {
		r.lentN, r.lentBlocks = 0, r.lentBlocks[:0]
		return
	}
	for ; r.lentN > 0; r.lentN-- {
		_, status := r.frameAt(r.lentFrom)
		atomic.StoreUint32(status, unix.TP_STATUS_KERNEL)
		r.lentFrom = (r.lentFrom + 1) % r.frames
	}
	for _, b := range r.lentBlocks {
		_, status := r.blockAt(b)
		atomic.StoreUint32(status, unix.TP_STATUS_KERNEL)
	}
	r.lentBlocks = r.lentBlocks[:0]
}

// take puts a frame's ESP packet in m, lent when the read lends.
func (r *packetRing) take(frame []byte, m *Message) bool {
	m.lend = r.lend
	ok := parseRingFrame(frame, m)
	m.lend = false
	return ok
}
