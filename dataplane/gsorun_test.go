package dataplane

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"ipsecgw/esp"
	"ipsecgw/netio"
)

// segRecorder is a UDP socket for the engine: it records the datagrams of
// every run it is given, split at the segment size.
type segRecorder struct {
	*chanReceiver
	mu           sync.Mutex
	dgrams       [][]byte
	flat, gather int // runs given back to back, and gathered
}

func (s *segRecorder) SendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segSize int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flat++
	for off := 0; off < len(buf); off += segSize {
		s.dgrams = append(s.dgrams, bytes.Clone(buf[off:min(off+segSize, len(buf))]))
	}
	return nil
}

func (s *segRecorder) snapshot() (dgrams [][]byte, flat, gather int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.dgrams...), s.flat, s.gather
}

// vecRecorder also gathers (netio.SegmentVecSender).
type vecRecorder struct{ *segRecorder }

func (v vecRecorder) SendSegmentVec(dst netip.AddrPort, src netip.Addr, tos uint8, segs [][]byte, segSize int) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.gather++
	for i, s := range segs {
		if len(s) > segSize || len(s) < segSize && i < len(segs)-1 {
			panic("a malformed run")
		}
		v.dgrams = append(v.dgrams, bytes.Clone(s))
	}
	return nil
}

// TestUDPRuns: a TUN batch sealed for ESP in UDP leaves as runs, through
// a socket that gathers the packets where they were sealed as through one
// that takes them back to back, the same datagrams in sequence order.
func TestUDPRuns(t *testing.T) {
	for _, gather := range []bool{false, true} {
		rec := &segRecorder{chanReceiver: newChanReceiver()}
		var sock netio.Receiver = rec
		if gather {
			sock = vecRecorder{rec}
		}
		e := New(Config{Send4: &recordSender{}, Pipeline: PipelineInline})
		tun := newLoopTUN(icmpEcho(hostA, hostB, 1000, false, 0), 64)
		if _, err := e.AddTunnel(tun, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.AddReceiver(sock, 4, 4500); err != nil {
			t.Fatal(err)
		}
		udp := Encapsulation{UDP: true, SrcPort: 4500, DstPort: 4500}
		if _, err := e.InstallOutbound("st0.1", OutboundParams{ESP: gcmConfig(t, 0x1234), Local: outerA, Remote: outerB, Encap: udp}); err != nil {
			t.Fatal(err)
		}
		const total = 100 // two batches of up to 64
		tun.feed(total)
		deadline := time.Now().Add(10 * time.Second)
		var dgrams [][]byte
		var flat, gathered int
		for len(dgrams) < total && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			dgrams, flat, gathered = rec.snapshot()
		}
		e.Close()
		if len(dgrams) != total {
			t.Fatalf("gather=%v: %d datagrams, want %d", gather, len(dgrams), total)
		}
		if gather && (gathered == 0 || flat != 0) || !gather && gathered != 0 {
			t.Fatalf("gather=%v: %d runs back to back, %d gathered", gather, flat, gathered)
		}
		in, err := esp.NewInbound(gcmConfig(t, 0x1234))
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range dgrams {
			if seq := binary.BigEndian.Uint32(d[4:]); seq != uint32(i+1) {
				t.Fatalf("gather=%v: datagram %d has sequence number %d", gather, i, seq)
			}
			if _, _, err := in.Open(d); err != nil {
				t.Fatalf("gather=%v: datagram %d: %v", gather, i, err)
			}
		}
	}
}
