package netio

import (
	"net/netip"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

var benchLocal = netip.MustParseAddr("198.18.0.1")

// kernelLoopback opens a raw IPv4 sender and the receiver open returns in
// a fresh namespace whose loopback carries benchLocal (root only).
func kernelLoopback(b *testing.B, open func() (Receiver, error)) (Sender, Receiver) {
	n := netns.New(b, "a")
	n.Exec("a", "ip", "addr", "add", benchLocal.String()+"/32", "dev", "lo")
	var s Sender
	var r Receiver
	inNetns(b, n, "a", func() (err error) {
		if s, err = NewRawSender(4); err != nil {
			return err
		}
		r, err = open()
		return err
	})
	b.Cleanup(func() {
		s.Close()
		r.Close()
	})
	return s, r
}

// benchKernel sends a batch with one sendmmsg and reads it back with
// recvmmsg over loopback: the per-packet cost of the kernel edges.
func benchKernel(b *testing.B, s Sender, r Receiver, pkts [][]byte) {
	msgs := newMessages(benchBatch, 2048)
	b.ReportAllocs()
	b.SetBytes(benchBatch * benchSize)
	start, iters := time.Now(), 0
	for b.Loop() {
		if n, err := s.WriteBatch(pkts); n != len(pkts) {
			b.Fatalf("WriteBatch = %d, %v", n, err)
		}
		for got := 0; got < len(pkts); {
			k, err := r.ReadBatch(msgs)
			if err != nil {
				b.Fatal(err)
			}
			got += k
		}
		iters++
	}
	reportPerPacket(b, start, iters*len(pkts))
}

func BenchmarkKernelRawESP(b *testing.B) {
	s, r := kernelLoopback(b, func() (Receiver, error) { return ListenESP(4) })
	pkts := make([][]byte, benchBatch)
	for i := range pkts {
		pkts[i], _ = espPacket(b, benchLocal, benchLocal, 0, 1, uint32(i), benchSize)
	}
	benchKernel(b, s, r, pkts)
}

func BenchmarkKernelUDP4500(b *testing.B) {
	s, r := kernelLoopback(b, func() (Receiver, error) { return ListenUDP(4, 4500) })
	pkts := make([][]byte, benchBatch)
	from, to := netip.AddrPortFrom(benchLocal, 4500), netip.AddrPortFrom(benchLocal, 4500)
	for i := range pkts {
		pkts[i] = udpPacket(b, from, to, 0, espBody(b, 1, uint32(i), benchSize-28))
	}
	benchKernel(b, s, r, pkts)
}
