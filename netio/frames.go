package netio

// FrameReceiver is a Receiver that can lend the packets where they were
// received (an AF_XDP socket's ring memory) instead of copying each into
// the caller's Buf: the caller then reads the packet once, decrypting it
// straight into its own buffer.
//
// Ownership: ReadFrames fills msgs[:n] as ReadBatch does, except that each
// payload is msgs[i].Lent (msgs[i].Buf is not written). The lent memory is
// the caller's, to read and write, until it calls ReleaseFrames, which
// hands every frame of that read back to the receiver at once; after it
// the Lent slices must not be touched. Each frame goes back exactly once:
// ReleaseFrames with nothing lent does nothing, and a read (ReadFrames or
// ReadBatch) first releases what a caller still holds, so none is lost.
// One goroutine reads and releases; Close may come from any.
type FrameReceiver interface {
	Receiver
	ReadFrames(msgs []Message) (n int, err error)
	ReleaseFrames()
}

// take puts a received payload in m: lent where it lies when the reader
// asked for that (ReadFrames), else copied into m.Buf.
func (m *Message) take(p []byte) {
	if m.lend {
		m.Lent, m.N = p, len(p)
		return
	}
	m.Lent, m.N = nil, copy(m.Buf, p)
}
