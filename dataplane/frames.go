package dataplane

import (
	"ipsecgw/esp"
	"ipsecgw/netio"
)

// Receivers that lend their ring's frames (netio.FrameReceiver: the
// AF_XDP sockets) are read without the copy from the ring into the
// batch's buffers: each ESP packet is decrypted straight from its frame
// into its buffer at the tunnel write offset, so the decryption is the
// only pass over the packet on the way to the TUN. The frames go back
// right after the batch's crypto, before the tunnel writes, so the TUN's
// GRO, which coalesces into the buffers' capacity, keeps working (a
// frame's 4 KiB would hold two segments at most).
//
// Only the inline pipeline borrows: there the reader finishes a batch's
// crypto before it reads again. In the parallel one the workers may still
// be opening a batch when its reader reads the next, so it copies.

// readBatch reads a batch from r, borrowed when r lends and the pipeline
// is inline.
func (e *Engine) readBatch(r netio.Receiver, msgs []netio.Message) (int, error) {
	if fr, ok := r.(netio.FrameReceiver); ok && e.work.inline {
		return fr.ReadFrames(msgs)
	}
	return r.ReadBatch(msgs)
}

// releaseFrames gives back what readBatch borrowed from r (nothing for a
// receiver that copies).
func releaseFrames(r netio.Receiver) {
	if fr, ok := r.(netio.FrameReceiver); ok {
		fr.ReleaseFrames()
	}
}

// payload is the received packet of m, lent or in its buffer.
func payload(m *netio.Message) []byte {
	if m.Lent != nil {
		return m.Lent
	}
	return m.Buf[:m.N]
}

// decrypt opens the item's packet: in place, or, from a lent frame or
// into a spare buffer, into decryptTo(), where frameInPlace then finds it.
func (it *openItem) decrypt(lease *esp.Lease) ([]byte, byte, error) {
	if dst := it.decryptTo(); dst != nil {
		return it.sa.esp.DecryptLeasedTo(lease, it.pkt, it.seq, dst)
	}
	return it.sa.esp.DecryptLeased(lease, it.pkt, it.seq)
}

// decryptTo is where a packet apart from its out buffer is decrypted
// to: out at writeOffset; nil for a packet decrypted in place.
func (it *openItem) decryptTo() []byte {
	if it.apart {
		return it.out[writeOffset:]
	}
	return nil
}
