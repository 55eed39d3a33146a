package netio

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
)

// ringBlock builds a receive block as the kernel lays it out: each frame
// behind a packet header, the headers chained by tp_next_offset.
func ringBlock(frames ...[]byte) []byte {
	b := make([]byte, blockHeaderLen)
	binary.NativeEndian.PutUint32(b[blockNumPkts:], uint32(len(frames)))
	binary.NativeEndian.PutUint32(b[blockFirstPkt:], blockHeaderLen)
	for i, f := range frames {
		h := make([]byte, pktHeaderLen+2) // the kernel puts the frame 2 octets in, to align the IP header
		binary.NativeEndian.PutUint32(h[pktSnapLen:], uint32(len(f)))
		binary.NativeEndian.PutUint32(h[pktLen:], uint32(len(f)))
		binary.NativeEndian.PutUint16(h[pktMac:], pktHeaderLen+2)
		rec := append(h, f...)
		for len(rec)%16 != 0 {
			rec = append(rec, 0)
		}
		if i < len(frames)-1 {
			binary.NativeEndian.PutUint32(rec[pktNextOffset:], uint32(len(rec)))
		}
		b = append(b, rec...)
	}
	binary.NativeEndian.PutUint32(b[blockLen:], uint32(len(b)))
	return b
}

func espFrame(i byte) []byte {
	eth := make([]byte, ethHeaderLen)
	eth[12], eth[13] = ethTypeIPv4Hi, ethTypeIPv4Lo
	return append(eth, xdpESPPacket(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), 0, i, 60+int(i))...)
}

// readAll reads a block the way packetRing.fill does and counts.
func readAll(b []byte) (good, bad int) {
	r, ok := readBlock(b)
	if !ok {
		return 0, 1
	}
	m := Message{Buf: make([]byte, 2048)}
	for {
		f, res := r.next()
		switch res {
		case frameOK:
			if parseESPFrame(f, &m) {
				good++
			} else {
				bad++
			}
		case frameBad, frameCut:
			bad++
		case blockEnd:
			return good, bad + int(r.lost)
		}
	}
}

func TestReadBlock(t *testing.T) {
	good := ringBlock(espFrame(1), espFrame(2), espFrame(3))
	if g, b := readAll(good); g != 3 || b != 0 {
		t.Fatalf("good block: %d good, %d bad", g, b)
	}
	r, _ := readBlock(good)
	f, _ := r.next()
	m := Message{Buf: make([]byte, 2048)}
	if !parseESPFrame(f, &m) || m.N != 61 || m.Buf[0] != 1 {
		t.Fatalf("first frame: %+v", m)
	}
	if g, b := readAll(ringBlock()); g != 0 || b != 0 {
		t.Fatalf("empty block: %d good, %d bad", g, b)
	}
	second := blockHeaderLen + int(binary.NativeEndian.Uint32(good[blockHeaderLen+pktNextOffset:]))
	for name, tc := range map[string]struct {
		edit      func(b []byte)
		good, bad int
	}{
		"block length past the block":        {func(b []byte) { binary.NativeEndian.PutUint32(b[blockLen:], 1<<20) }, 0, 1},
		"block length below the header":      {func(b []byte) { binary.NativeEndian.PutUint32(b[blockLen:], 8) }, 0, 1},
		"first packet inside the descriptor": {func(b []byte) { binary.NativeEndian.PutUint32(b[blockFirstPkt:], 4) }, 0, 1},
		"first packet past the end":          {func(b []byte) { binary.NativeEndian.PutUint32(b[blockFirstPkt:], 1<<30) }, 0, 1},
		// One header pointing nowhere: its frame is read, the rest lost.
		"broken chain":                {func(b []byte) { binary.NativeEndian.PutUint32(b[blockHeaderLen+pktNextOffset:], 1<<31) }, 1, 2},
		"chain loops":                 {func(b []byte) { binary.NativeEndian.PutUint32(b[blockHeaderLen+pktNextOffset:], 0) }, 1, 2},
		"frame past end":              {func(b []byte) { binary.NativeEndian.PutUint32(b[second+pktSnapLen:], 1<<20) }, 2, 1},
		"mac inside the header":       {func(b []byte) { binary.NativeEndian.PutUint16(b[second+pktMac:], 4) }, 2, 1},
		"cut short by the ring":       {func(b []byte) { binary.NativeEndian.PutUint32(b[second+pktLen:], 9000) }, 2, 1},
		"not ESP":                     {func(b []byte) { b[second+pktHeaderLen+2+ethHeaderLen+9] = 17 }, 2, 1},
		"more packets than there are": {func(b []byte) { binary.NativeEndian.PutUint32(b[blockNumPkts:], 1000) }, 3, 997},
	} {
		b := ringBlock(espFrame(1), espFrame(2), espFrame(3))
		tc.edit(b)
		if g, bad := readAll(b); g != tc.good || bad != tc.bad {
			t.Errorf("%s: %d good, %d bad; want %d, %d", name, g, bad, tc.good, tc.bad)
		}
	}
	// A packet the kernel cut to the frame is told apart.
	cut := ringBlock(espFrame(1), espFrame(2))
	binary.NativeEndian.PutUint32(cut[second+pktLen:], 9000)
	r, _ = readBlock(cut)
	var got []frameResult
	for res := frameOK; res != blockEnd; {
		_, res = r.next()
		got = append(got, res)
	}
	if !slices.Equal(got, []frameResult{frameOK, frameCut, blockEnd}) {
		t.Errorf("block with a packet cut short: %v", got)
	}
	// Every prefix of a block is refused or read within its bounds.
	for i := range good {
		readAll(good[:i])
	}
}

// FuzzReadBlock: any block the kernel (or a bug) could leave in the ring
// is read or refused, never a panic, and every frame lies in the block.
func FuzzReadBlock(f *testing.F) {
	f.Add(ringBlock(espFrame(1), espFrame(2)))
	f.Add(ringBlock())
	f.Add(make([]byte, blockHeaderLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := readBlock(b)
		if !ok {
			return
		}
		for range len(b) + 1 {
			frame, res := r.next()
			if res == blockEnd {
				return
			}
			if res == frameOK {
				m := Message{Buf: make([]byte, 256)}
				parseRingFrame(frame, &m)
			}
		}
		t.Fatalf("a %d-octet block yielded more than %d packets", len(b), len(b))
	})
}

// BenchmarkPacketRingFill reads full receive blocks of 1400-octet ESP
// frames into messages, as the ring's reader does: no allocation per
// packet.
func BenchmarkPacketRingFill(b *testing.B) {
	var frames [][]byte
	for range 64 {
		eth := make([]byte, ethHeaderLen)
		eth[12], eth[13] = ethTypeIPv4Hi, ethTypeIPv4Lo
		frames = append(frames, append(eth, xdpESPPacket(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), 0, 1, 1400)...))
	}
	block := ringBlock(frames...)
	r := &packetRing{p: &PacketRing{}, mem: make([]byte, ringBlocks*ringBlockSize)}
	for i := range ringBlocks {
		copy(r.mem[i*ringBlockSize:], block)
	}
	msgs := make([]Message, 64)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 2048)
	}
	b.ReportAllocs()
	b.SetBytes(64 * 1400)
	for b.Loop() {
		// Every block handed over (TP_STATUS_USER) again: the reader
		// gives each back as it finishes it.
		for i := range ringBlocks {
			_, status := r.blockAt(i)
			*status = 1
		}
		if n, bad := r.fill(msgs); n != 64 || bad != 0 {
			b.Fatalf("read %d, %d bad", n, bad)
		}
	}
}
