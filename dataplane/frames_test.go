package dataplane

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// lendReceiver is a netio.FrameReceiver over a channel of batches: it
// lends its own copies of the packets, poisons them when they come back,
// and counts the reads and releases.
type lendReceiver struct {
	*chanReceiver
	mu                  sync.Mutex
	lent                [][]byte
	reads, lends, frees int
	misuse              string // the first broken ownership rule
}

func (r *lendReceiver) ReadFrames(msgs []netio.Message) (int, error) {
	r.mu.Lock()
	if len(r.lent) != 0 && r.misuse == "" {
		r.misuse = "read again before releasing"
	}
	r.mu.Unlock()
	select {
	case batch := <-r.batches:
		r.mu.Lock()
		defer r.mu.Unlock()
		r.lends++
		for i, p := range batch {
			frame := bytes.Clone(p)
			r.lent = append(r.lent, frame)
			msgs[i].Lent, msgs[i].N = frame, len(frame)
			msgs[i].Src, msgs[i].Dst = netip.AddrPortFrom(outerA, 0), outerB
			msgs[i].TOS, msgs[i].SegmentSize, msgs[i].DstPort = 0, 0, 0
		}
		return len(batch), nil
	case <-r.done:
		return 0, net.ErrClosed
	}
}

func (r *lendReceiver) ReadBatch(msgs []netio.Message) (int, error) {
	r.mu.Lock()
	r.reads++
	r.mu.Unlock()
	return r.chanReceiver.ReadBatch(msgs)
}

func (r *lendReceiver) ReleaseFrames() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lent) > 0 {
		r.frees++
	}
	for _, f := range r.lent {
		for i := range f {
			f[i] = 0xdd // whoever reads a frame after this gets garbage
		}
	}
	r.lent = r.lent[:0]
}

func (r *lendReceiver) counts() (reads, lends, frees int, misuse string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads, r.lends, r.frees, r.misuse
}

// TestLentFrames: the inline pipeline reads a lending receiver's frames
// without copying, decrypts them into its own buffers and gives every
// frame back once, before the tunnel writes (the frames are poisoned on
// release, and the tunnel still gets the right packets); replays and
// forgeries in lent frames are refused as usual. The parallel pipeline
// does not borrow.
func TestLentFrames(t *testing.T) {
	for _, mode := range []PipelineMode{PipelineInline, PipelineParallel} {
		t.Run(mode.String(), func(t *testing.T) {
			e := New(Config{Send4: &recordSender{}, Pipeline: mode})
			defer e.Close()
			tun := netio.NewMemTUN("st0.1", 1400)
			if _, err := e.AddTunnel(tun, nil); err != nil {
				t.Fatal(err)
			}
			in, err := e.InstallInbound("st0.1", InboundParams{ESP: gcmConfig(t, 0x1234), Local: outerB, Remote: outerA})
			if err != nil {
				t.Fatal(err)
			}
			out, _ := esp.NewOutbound(gcmConfig(t, 0x1234))
			const total = 300
			var sealed [][]byte
			for i := range total {
				inner := numbered(i)
				buf := make([]byte, headroom+len(inner), bufSize)
				copy(buf[headroom:], inner)
				p, err := out.Seal(buf, headroom, header.IPProtoIPv4)
				if err != nil {
					t.Fatal(err)
				}
				sealed = append(sealed, bytes.Clone(p))
			}
			forged := bytes.Clone(sealed[0])
			binary.BigEndian.PutUint32(forged[4:], total+1)
			r := &lendReceiver{chanReceiver: newChanReceiver()}
			if err := e.AddReceiver(r, 4, 0); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < total; i += 50 {
				r.batches <- sealed[i : i+50]
				r.batches <- sealed[i : i+50] // replays
			}
			r.batches <- [][]byte{forged}
			for i := range total {
				got, err := tun.Receive(5 * time.Second)
				if err != nil {
					t.Fatalf("waiting for packet %d: %v %+v", i, err, e.Stats.Snapshot())
				}
				if want := numbered(i); !bytes.Equal(got, want) {
					t.Fatalf("tunnel packet %d differs from inner packet %d", i, i)
				}
			}
			waitFor(t, func() bool { return e.Stats.ReplayErrors.Load() == total && in.Counters.AuthFailures.Load() == 1 })
			if s := in.Counters.Snapshot(); s.DecryptedPackets != total {
				t.Fatalf("inbound counters %+v", s)
			}
			reads, lends, frees, misuse := r.counts()
			if misuse != "" {
				t.Fatal(misuse)
			}
			batches := 2*total/50 + 1
			switch mode {
			case PipelineInline:
				if reads != 0 || lends != batches || frees != batches {
					t.Fatalf("%d copied reads, %d lending reads, %d releases; want 0, %d, %d", reads, lends, frees, batches, batches)
				}
			case PipelineParallel:
				if lends != 0 || frees != 0 {
					t.Fatalf("the parallel pipeline borrowed: %d lending reads, %d releases", lends, frees)
				}
			}
		})
	}
}
