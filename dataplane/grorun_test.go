package dataplane

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// groReceiver is a UDP socket with UDP GRO: each message it hands out is
// a run of ESP datagrams back to back, SegmentSize octets each but the
// last, which may be shorter. A read takes at most len(msgs) messages,
// as recvmmsg does; the rest of a batch waits for the next read.
type groReceiver struct {
	batches chan [][][]byte // batch → message → datagram
	done    chan struct{}
	once    sync.Once
	left    [][][]byte // of the batch being read
}

func newGROReceiver() *groReceiver {
	return &groReceiver{batches: make(chan [][][]byte, 16), done: make(chan struct{})}
}

func (r *groReceiver) ReadBatch(msgs []netio.Message) (int, error) {
	if len(r.left) == 0 {
		select {
		case r.left = <-r.batches:
		case <-r.done:
			return 0, net.ErrClosed
		}
	}
	n := min(len(msgs), len(r.left))
	for i, run := range r.left[:n] {
		m := &msgs[i]
		m.N = 0
		for _, d := range run {
			m.N += copy(m.Buf[m.N:], d)
		}
		m.SegmentSize = len(run[0])
		m.Src = netip.AddrPortFrom(outerA, 4500)
		m.Dst, m.TOS, m.DstPort = outerB, 0, 0
	}
	r.left = r.left[n:]
	return n, nil
}

func (r *groReceiver) Close() error {
	r.once.Do(func() { close(r.done) })
	return nil
}

// numberedSized is an inner packet of n octets carrying its index.
func numberedSized(i, n int) []byte {
	p := icmpEcho(hostA, hostB, n, false, 0)
	binary.BigEndian.PutUint32(p[28:], uint32(i))
	return p
}

// TestInboundGRORuns feeds ESP-in-UDP as a UDP GRO socket delivers it:
// reads of dozens of runs, far more packets than one release chunk,
// runs of one datagram and runs whose last datagram is shorter. Every
// inner packet reaches the tunnel once, intact and in order (each
// datagram after a run's first is decrypted into a spare buffer, the
// first in place), and the replayed copies are refused.
func TestInboundGRORuns(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, mode := range []PipelineMode{PipelineParallel, PipelineInline} {
		t.Run(mode.String(), func(t *testing.T) { testInboundGRORuns(t, mode) })
	}
}

// groPeer is a gateway (pipeline mode) with one tunnel, an inbound SA
// for ESP in UDP from outerA and a UDP GRO socket r, and the outbound
// SA that seals what r is to deliver; the engine closes when t ends.
func groPeer(t *testing.T, mode PipelineMode) (*Engine, *netio.MemTUN, *InboundSA, *groReceiver, *esp.Outbound) {
	t.Helper()
	e := New(Config{Send4: &recordSender{}, Pipeline: mode})
	t.Cleanup(func() { e.Close() })
	tun := netio.NewMemTUN("st0.1", 1400)
	if _, err := e.AddTunnel(tun, nil); err != nil {
		t.Fatal(err)
	}
	udp := Encapsulation{UDP: true, DstPort: 4500, SrcPort: 4500}
	in, err := e.InstallInbound("st0.1", InboundParams{ESP: gcmConfig(t, 0x1234), Local: outerB, Remote: outerA, Encap: udp})
	if err != nil {
		t.Fatal(err)
	}
	r := newGROReceiver()
	if err := e.AddReceiver(r, 4, 4500); err != nil {
		t.Fatal(err)
	}
	out, err := esp.NewOutbound(gcmConfig(t, 0x1234))
	if err != nil {
		t.Fatal(err)
	}
	return e, tun, in, r, out
}

func testInboundGRORuns(t *testing.T, mode PipelineMode) {
	e, tun, in, r, out := groPeer(t, mode)
	var inner [][]byte // every inner packet, in the order sent
	seal := func(p []byte) []byte {
		inner = append(inner, p)
		buf := make([]byte, headroom+len(p), headroom+len(p)+64)
		copy(buf[headroom:], p)
		pkt, err := out.Seal(buf, headroom, header.IPProtoIPv4)
		if err != nil {
			t.Fatal(err)
		}
		return pkt
	}
	// Runs of 40, 5 (the last shorter), 1 and 40 datagrams, over and
	// over: 86 packets of 1000 octets (and a few of 600) per 4 runs.
	var batches [][][][]byte
	for range 3 {
		var batch [][][]byte
		for range 5 { // 430 packets: the MemTUN holds 512
			for _, size := range []int{40, 5, 1, 40} {
				var run [][]byte
				for k := range size {
					n := 1000
					if size == 5 && k == 4 {
						n = 600
					}
					run = append(run, seal(numberedSized(len(inner), n)))
				}
				batch = append(batch, run)
			}
		}
		batches = append(batches, batch)
	}
	next := 0
	for i, batch := range batches {
		r.batches <- batch
		if i == 0 {
			// The whole batch again: every copy a replay, refused.
			r.batches <- batch
		}
		sent := next
		for _, run := range batch {
			sent += len(run)
		}
		for ; next < sent; next++ {
			got, err := tun.Receive(5 * time.Second)
			if err != nil {
				t.Fatalf("waiting for packet %d: %v %+v", next, err, e.Stats.Snapshot())
			}
			if !bytes.Equal(got, inner[next]) {
				t.Fatalf("tunnel got packet %d (%d octets), want packet %d (%d octets)", binary.BigEndian.Uint32(got[28:]), len(got), next, len(inner[next]))
			}
		}
	}
	replays := uint64(0)
	for _, run := range batches[0] {
		replays += uint64(len(run))
	}
	waitFor(t, func() bool { return e.Stats.ReplayErrors.Load() == replays })
	if s := in.Counters.Snapshot(); s.DecryptedPackets != uint64(len(inner)) || s.ReplayErrors != replays || s.AuthFailures != 0 || s.BadHeaders != 0 {
		t.Fatalf("inbound counters %+v, want %d decrypted, %d replays", s, len(inner), replays)
	}
	// The last refusal is one of the first batch's packets, behind the top.
	if r, ok := in.LastReplay(); !ok || r.Seq == 0 || r.Seq > replays || r.Top < r.Seq {
		t.Fatalf("last replay refusal %+v %v, want one of sequence numbers 1-%d at or below the top", r, ok, replays)
	}
	// Each replay error is counted once more by why: copies of packets
	// accepted, duplicates or late by now, none invalid.
	if c := in.ReplayRefusals(); c.Duplicate+c.Late+c.AuthenticDuplicate+c.AuthenticLate != replays || c.Invalid+c.AuthenticInvalid != 0 {
		t.Fatalf("replay refusals %+v, want %d duplicates and late packets in all", c, replays)
	}
	if _, err := tun.Receive(50 * time.Millisecond); err == nil {
		t.Fatal("a replayed packet reached the tunnel")
	}
}

// TestInboundGRORunForgeries damages datagrams inside GRO runs: the
// first of a run (opened in place) and later ones (opened straight into
// spare buffers). Each damaged one is counted as an authentication
// failure and goes nowhere; the others of its run reach the tunnel intact
// and in order, spare buffers that held a refused packet's plaintext
// included when they are reused.
func TestInboundGRORunForgeries(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, mode := range []PipelineMode{PipelineParallel, PipelineInline} {
		t.Run(mode.String(), func(t *testing.T) { testInboundGRORunForgeries(t, mode) })
	}
}

func testInboundGRORunForgeries(t *testing.T, mode PipelineMode) {
	e, tun, in, r, out := groPeer(t, mode)
	// Three runs of 12; in each, these datagrams are damaged: a run's
	// first, its second, one in the middle and its last.
	damaged := map[int]bool{0: true, 1: true, 6: true, 11: true}
	var want [][]byte
	var batch [][][]byte
	n := 0
	for range 3 {
		var run [][]byte
		for k := range 12 {
			p := numberedSized(n, 1000)
			n++
			buf := make([]byte, headroom+len(p), headroom+len(p)+64)
			copy(buf[headroom:], p)
			pkt, err := out.Seal(buf, headroom, header.IPProtoIPv4)
			if err != nil {
				t.Fatal(err)
			}
			if damaged[k] {
				pkt[len(pkt)/2] ^= 0x40 // in the ciphertext
			} else {
				want = append(want, p)
			}
			run = append(run, pkt)
		}
		batch = append(batch, run)
	}
	r.batches <- batch
	for i, w := range want {
		got, err := tun.Receive(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for packet %d of %d: %v %+v", i, len(want), err, e.Stats.Snapshot())
		}
		if !bytes.Equal(got, w) {
			t.Fatalf("tunnel got packet %d (%d octets), want packet %d (%d octets)", binary.BigEndian.Uint32(got[28:]), len(got), binary.BigEndian.Uint32(w[28:]), len(w))
		}
	}
	forged := uint64(3 * len(damaged))
	waitFor(t, func() bool { return in.Counters.Snapshot().AuthFailures == forged })
	if s := in.Counters.Snapshot(); s.DecryptedPackets != uint64(len(want)) || s.ReplayErrors != 0 || s.BadHeaders != 0 {
		t.Fatalf("inbound counters %+v, want %d decrypted, %d authentication failures", s, len(want), forged)
	}
	if _, err := tun.Receive(50 * time.Millisecond); err == nil {
		t.Fatal("a damaged packet reached the tunnel")
	}
}
