package netio

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// ringFrameV2 builds a V2 receive frame of size octets as the kernel lays
// it out, handed over (TP_STATUS_USER), holding frame.
func ringFrameV2(size int, frame []byte) []byte {
	f := make([]byte, size)
	binary.NativeEndian.PutUint32(f[v2Status:], unix.TP_STATUS_USER)
	binary.NativeEndian.PutUint32(f[v2Len:], uint32(len(frame)))
	binary.NativeEndian.PutUint32(f[v2SnapLen:], uint32(len(frame)))
	binary.NativeEndian.PutUint16(f[v2Mac:], v2MacOffset)
	copy(f[v2MacOffset:], frame)
	return f
}

func TestReadFrameV2(t *testing.T) {
	good := ringFrameV2(2048, espFrame(5))
	f, res := readFrameV2(good)
	m := Message{Buf: make([]byte, 2048)}
	if res != frameOK || !parseRingFrame(f, &m) || m.N != 65 || m.Buf[0] != 5 {
		t.Fatalf("good frame: %v %+v", res, m)
	}
	for name, edit := range map[string]func(f []byte){
		"mac inside the header": func(f []byte) { binary.NativeEndian.PutUint16(f[v2Mac:], 8) },
		"snap past the frame":   func(f []byte) { binary.NativeEndian.PutUint32(f[v2SnapLen:], 4000) },
		"mac past the frame":    func(f []byte) { binary.NativeEndian.PutUint16(f[v2Mac:], 0xffff) },
	} {
		f := ringFrameV2(2048, espFrame(5))
		edit(f)
		if _, res := readFrameV2(f); res != frameBad {
			t.Errorf("%s: %v", name, res)
		}
	}
	cut := ringFrameV2(2048, espFrame(5))
	binary.NativeEndian.PutUint32(cut[v2Len:], 9000)
	if _, res := readFrameV2(cut); res != frameCut {
		t.Errorf("a packet cut to the frame: %v", res)
	}
	if _, res := readFrameV2(good[:v2HeaderLen-1]); res != frameBad {
		t.Errorf("a frame shorter than its header: %v", res)
	}
	// MTU 1500 fits 2048-octet frames; 9000 needs 16384.
	if v2FrameSize(1500) != 2048 || v2FrameSize(9000) != 16384 || v2FrameSize(1<<20) != ringBlockSize {
		t.Errorf("frame sizes %d, %d, %d", v2FrameSize(1500), v2FrameSize(9000), v2FrameSize(1<<20))
	}
}

// TestFillV2: the reader takes the frames handed over in order, around
// the end of the ring, gives each back, counts the bad ones and stops at
// the first frame still the kernel's.
func TestFillV2(t *testing.T) {
	const size, frames = 2048, 8
	r := &packetRing{p: &PacketRing{}, v2: true, frameSize: size, frames: frames, mem: make([]byte, size*frames), frame: 6}
	put := func(i int, f []byte) { copy(r.mem[i*size:], f) }
	for i, n := range []int{6, 7, 0} {
		put(n, ringFrameV2(size, espFrame(byte(i))))
	}
	cut := ringFrameV2(size, espFrame(9))
	binary.NativeEndian.PutUint32(cut[v2Len:], 9000) // cut by the kernel to the frame
	put(1, cut)
	put(2, ringFrameV2(size, espFrame(3)))
	binary.NativeEndian.PutUint32(r.mem[2*size+v2Status:], unix.TP_STATUS_KERNEL) // not yet handed over
	msgs := newMessages(16, 2048)
	n, nbad := r.fillV2(msgs)
	if n != 3 || nbad != 0 || r.p.truncated.Load() != 1 || r.frame != 2 {
		t.Fatalf("read %d, %d bad, %d truncated, now at frame %d; want 3, 0, 1, 2", n, nbad, r.p.truncated.Load(), r.frame)
	}
	for i := range n {
		if msgs[i].Buf[0] != byte(i) {
			t.Errorf("message %d is frame %d", i, msgs[i].Buf[0])
		}
	}
	for _, i := range []int{6, 7, 0, 1} {
		if s := binary.NativeEndian.Uint32(r.mem[i*size+v2Status:]); s != unix.TP_STATUS_KERNEL {
			t.Errorf("frame %d not given back: status %#x", i, s)
		}
	}
	if r.rxReady() {
		t.Error("ready at a frame still the kernel's")
	}
}

// FuzzReadFrameV2: any V2 frame the kernel (or a bug) could leave in the
// ring is read or refused, never a panic, and what is read lies in the
// frame.
func FuzzReadFrameV2(f *testing.F) {
	f.Add(ringFrameV2(256, espFrame(1)))
	f.Add(ringFrameV2(256, nil))
	v6 := ethFrame(extPacket6(f, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), []uint8{0, 60}, 50, make([]byte, 24)))
	f.Add(ringFrameV2(256, v6))
	f.Fuzz(func(t *testing.T, b []byte) {
		frame, res := readFrameV2(b)
		if res != frameOK {
			return
		}
		if len(frame) > len(b)-v2HeaderLen {
			t.Fatalf("a %d-octet frame out of a %d-octet ring frame", len(frame), len(b))
		}
		m := Message{Buf: make([]byte, 256)}
		parseRingFrame(frame, &m)
	})
}
