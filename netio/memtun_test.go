package netio

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

var _ TUN = (*MemTUN)(nil)

// tunBufs returns n buffers of offset+size octets and their sizes slice.
func tunBufs(n, offset, size int) ([][]byte, []int) {
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, offset+size)
	}
	return bufs, make([]int, n)
}

func TestMemTUNInjectRead(t *testing.T) {
	tun := NewMemTUN("st0.0", 1400)
	if tun.Name() != "st0.0" || tun.MTU() != 1400 || tun.BatchSize() != IdealBatchSize {
		t.Fatalf("Name, MTU, BatchSize = %q, %d, %d", tun.Name(), tun.MTU(), tun.BatchSize())
	}
	pkts := [][]byte{
		ipPacket(t, addrA4, addrB4, 0, 1, pattern(30, 1)),
		ipPacket(t, addrA6, addrB6, 0, 58, pattern(1360, 2)),
		ipPacket(t, addrA4, addrB4, 0, 17, pattern(8, 3)),
	}
	for _, p := range pkts {
		if !tun.Inject(p) {
			t.Fatal("Inject refused")
		}
	}
	const offset = 64
	bufs, sizes := tunBufs(4, offset, 1400)
	n, err := tun.Read(bufs, sizes, offset)
	if n != len(pkts) || err != nil {
		t.Fatalf("Read = %d, %v; want all %d queued", n, err, len(pkts))
	}
	for i, p := range pkts {
		if got := bufs[i][offset : offset+sizes[i]]; string(got) != string(p) {
			t.Errorf("packet %d: read %d octets, want %d", i, sizes[i], len(p))
		}
		for _, b := range bufs[i][:offset] {
			if b != 0 {
				t.Fatalf("packet %d: Read wrote into the headroom", i)
			}
		}
	}
	// A batch is cut at len(bufs).
	for range 3 {
		tun.Inject(pkts[0])
	}
	if n, _ := tun.Read(bufs[:2], sizes, offset); n != 2 {
		t.Errorf("Read into 2 buffers = %d", n)
	}
	if n, _ := tun.Read(bufs, sizes, offset); n != 1 {
		t.Errorf("Read of the rest = %d, want 1", n)
	}
}

func TestMemTUNWriteReceive(t *testing.T) {
	tun := NewMemTUN("st0.0", 1400)
	p1 := ipPacket(t, addrB4, addrA4, 0, 1, pattern(30, 4))
	p2 := ipPacket(t, addrB6, addrA6, 0, 58, pattern(100, 5))
	buf := func(p []byte) []byte { return append(make([]byte, TUNHeadroom), p...) }
	if n, err := tun.Write([][]byte{buf(p1), buf(p2)}, TUNHeadroom); n != 2 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	for _, want := range [][]byte{p1, p2} {
		got, err := tun.Receive(time.Second)
		if err != nil || string(got) != string(want) {
			t.Fatalf("Receive = %d octets, %v; want the %d written", len(got), err, len(want))
		}
	}
	start := time.Now()
	if _, err := tun.Receive(20 * time.Millisecond); !errors.Is(err, ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Receive with nothing written: %v, want ErrTimeout", err)
	}
	if time.Since(start) > time.Second {
		t.Error("Receive overran its timeout")
	}
	if n, err := tun.Write([][]byte{buf(p1)}, TUNHeadroom-1); n != 0 || !errors.Is(err, ErrHeadroom) {
		t.Errorf("Write with offset %d = %d, %v; want ErrHeadroom", TUNHeadroom-1, n, err)
	}
	if s := tun.Stats(); s.Written != 2 || s.WriteDrops != 0 {
		t.Errorf("stats %+v", s)
	}
}

// Like the Linux TUN, Read fails on a packet its buffer cannot hold (and
// drops it), but first returns the packets before it that fit.
func TestMemTUNShortBuffer(t *testing.T) {
	tun := NewMemTUN("st0.0", 9000)
	small, big := pattern(100, 1), pattern(2000, 2)
	tun.Inject(small)
	tun.Inject(big)
	tun.Inject(small)
	bufs, sizes := tunBufs(4, 16, 1500)
	if n, err := tun.Read(bufs, sizes, 16); n != 1 || err != nil {
		t.Fatalf("Read = %d, %v; want the one small packet before the big one", n, err)
	}
	if n, err := tun.Read(bufs, sizes, 16); n != 0 || !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("Read = %d, %v; want ErrShortBuffer", n, err)
	}
	if n, err := tun.Read(bufs, sizes, 16); n != 1 || err != nil || sizes[0] != len(small) {
		t.Fatalf("Read after the drop = %d, %v", n, err)
	}
}

func TestMemTUNDropsWhenFull(t *testing.T) {
	tun := NewMemTUN("st0.0", 1400)
	p := pattern(60, 1)
	refused := 0
	for range memTUNQueueLen + 7 {
		if !tun.Inject(p) {
			refused++
		}
	}
	bufs := make([][]byte, memTUNQueueLen+9)
	for i := range bufs {
		bufs[i] = append(make([]byte, TUNHeadroom), p...)
	}
	if n, err := tun.Write(bufs, TUNHeadroom); n != len(bufs) || err != nil {
		t.Errorf("Write into a full host queue = %d, %v; want all taken (the host drops them)", n, err)
	}
	s := tun.Stats()
	if refused != 7 || s.InjectDrops != 7 || s.Injected != memTUNQueueLen || s.WriteDrops != 9 || s.Written != memTUNQueueLen {
		t.Errorf("refused %d, stats %+v; want 7 inject and 9 write drops", refused, s)
	}
}

func TestMemTUNCloseWakesEveryone(t *testing.T) {
	tun := NewMemTUN("st0.0", 1400)
	errc := make(chan error, 2)
	go func() {
		bufs, sizes := tunBufs(1, 0, 1500)
		_, err := tun.Read(bufs, sizes, 0)
		errc <- err
	}()
	go func() {
		_, err := tun.Receive(0)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	tun.Close()
	for range 2 {
		select {
		case err := <-errc:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("after Close: %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not wake a waiter")
		}
	}
	if tun.Inject([]byte{0x45}) {
		t.Error("Inject into a closed TUN accepted")
	}
	if _, err := tun.Write([][]byte{make([]byte, 40)}, TUNHeadroom); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write to a closed TUN: %v", err)
	}
}

// Reading a warm TUN allocates nothing.
func TestMemTUNSteadyStateAllocs(t *testing.T) {
	tun := NewMemTUN("st0.0", 1400)
	p := pattern(1400, 1)
	bufs, sizes := tunBufs(32, 64, 1500)
	allocs := testing.AllocsPerRun(100, func() {
		for range 32 {
			tun.Inject(p)
		}
		for got := 0; got < 32; {
			n, _ := tun.Read(bufs, sizes, 64)
			got += n
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per batch, want 0", allocs)
	}
}
