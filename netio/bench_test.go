package netio

import (
	"testing"
	"time"
)

// benchBatch is the batch the benchmarks move: 32 packets of 1400 octets,
// an ESP tunnel's typical full-size packet.
const (
	benchBatch = 32
	benchSize  = 1400
)

// reportPerPacket adds ns/pkt, the figure comparable across batch sizes.
func reportPerPacket(b *testing.B, start time.Time, packets int) {
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(packets), "ns/pkt")
}

// BenchmarkMemNetworkESP moves a batch of ESP packets from a fake
// gateway's raw sender to the other's ESP receiver.
func BenchmarkMemNetworkESP(b *testing.B) {
	n := NewMemNetwork()
	a, _ := n.AddHost(addrA4)
	bh, _ := n.AddHost(addrB4)
	s, _ := a.NewRawSender(4)
	r, _ := bh.ListenESP(4)
	pkts := make([][]byte, benchBatch)
	for i := range pkts {
		pkts[i], _ = espPacket(b, addrA4, addrB4, 0, 1, uint32(i), benchSize)
	}
	msgs := newMessages(benchBatch, 2048)
	b.ReportAllocs()
	b.SetBytes(benchBatch * benchSize)
	start, iters := time.Now(), 0
	for b.Loop() {
		s.WriteBatch(pkts)
		for got := 0; got < benchBatch; {
			k, err := r.ReadBatch(msgs)
			if err != nil {
				b.Fatal(err)
			}
			got += k
		}
		iters++
	}
	reportPerPacket(b, start, iters*benchBatch)
}

// BenchmarkMemTUN injects a batch of inner packets and reads it back out
// of the data plane's side.
func BenchmarkMemTUN(b *testing.B) {
	tun := NewMemTUN("st0.0", 1500)
	p := pattern(benchSize, 1)
	bufs, sizes := tunBufs(benchBatch, 64, 1500)
	b.ReportAllocs()
	b.SetBytes(benchBatch * benchSize)
	start, iters := time.Now(), 0
	for b.Loop() {
		for range benchBatch {
			tun.Inject(p)
		}
		for got := 0; got < benchBatch; {
			k, err := tun.Read(bufs, sizes, 64)
			if err != nil {
				b.Fatal(err)
			}
			got += k
		}
		iters++
	}
	reportPerPacket(b, start, iters*benchBatch)
}
