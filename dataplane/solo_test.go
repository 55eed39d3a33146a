package dataplane

import (
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// gateTUN is a MemTUN whose first Write says so on entered and waits
// until open is closed: a releaser stuck on a slow tunnel.
type gateTUN struct {
	*netio.MemTUN
	entered, open chan struct{}
	writes        atomic.Int32
}

func (t *gateTUN) Write(bufs [][]byte, offset int) (int, error) {
	if t.writes.Add(1) == 1 {
		close(t.entered)
		<-t.open
	}
	return t.MemTUN.Write(bufs, offset)
}

// TestPipelineSoloKeepsOrder: a parallel reader opens and writes a small
// batch itself (workerPool.solo) only when none of its earlier batches is
// still with the releaser. Here the releaser is stuck writing a batch of
// 64 when two single packets come: they must wait behind it, and the
// tunnel gets the packets in the order they arrived.
func TestPipelineSoloKeepsOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	e := New(Config{Send4: &recordSender{}, Pipeline: PipelineParallel})
	defer e.Close()
	tun := &gateTUN{MemTUN: netio.NewMemTUN("st0.1", 1400), entered: make(chan struct{}), open: make(chan struct{})}
	if _, err := e.AddTunnel(tun, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InstallInbound("st0.1", InboundParams{ESP: gcmConfig(t, 0x1234), Local: outerB, Remote: outerA}); err != nil {
		t.Fatal(err)
	}
	out, err := esp.NewOutbound(gcmConfig(t, 0x1234))
	if err != nil {
		t.Fatal(err)
	}
	seal := func(i int) []byte {
		inner := numbered(i)
		buf := make([]byte, headroom+len(inner), headroom+len(inner)+64)
		copy(buf[headroom:], inner)
		p, err := out.Seal(buf, headroom, header.IPProtoIPv4)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := newChanReceiver()
	if err := e.AddReceiver(r, 4, 0); err != nil {
		t.Fatal(err)
	}
	var first [][]byte
	for i := range 64 {
		first = append(first, seal(i))
	}
	r.batches <- first
	select {
	case <-tun.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch of 64 never reached the tunnel")
	}
	// The reader takes the second single only once it is done with the
	// first: when both are gone from the channel, the first has been
	// written or handed to the releaser.
	r.batches <- [][]byte{seal(64)}
	r.batches <- [][]byte{seal(65)}
	waitFor(t, func() bool { return len(r.batches) == 0 })
	close(tun.open)
	for i := range 66 {
		got, err := tun.Receive(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for packet %d: %v %+v", i, err, e.Stats.Snapshot())
		}
		if n := binary.BigEndian.Uint32(got[28:]); n != uint32(i) {
			t.Fatalf("tunnel got inner packet %d, want %d", n, i)
		}
	}
}
