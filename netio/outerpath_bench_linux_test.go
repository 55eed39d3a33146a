package netio

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ipsecgw/test/netns"
)

// BenchmarkVethOuterPath moves what one 64 KB TUN read seals into, 45 ESP
// packets of 1438 octets (a 1500-octet outer MTU), from namespace b to
// namespace a over a veth pair, the way bench/throughput's two gateways
// exchange them, and reports the CPU time per packet of this process
// (every thread, the softirq work the kernel does on the sending thread
// included: veth hands the packet to the peer's receive path inside the
// send call):
//
//	xdp:     raw ESP from b's AF_XDP transmit ring to a's AF_XDP socket
//	         (copy mode, as veth offers): the kernel builds an skb per
//	         frame, veth copies it again for the peer's XDP program (it
//	         lacks XDP's headroom), and the redirect copies it into a's UMEM
//	raw-socket: raw ESP with one sendmmsg on a raw socket and recvmmsg on
//	         an ESP socket: an skb and a trip through IP per packet
//	udp-gso: ESP in UDP 4500 as one UDP GSO run per sendmmsg, read back
//	         with UDP GRO: 45 packets cross the veth as one skb
//
// The two set the floor under the outer side of each encapsulation: what
// the kernel charges per packet before any crypto, TUN or TCP work. On a
// 2-core machine where both gateways, iperf3 and the TCP stacks share the
// cores, cpu-ns/pkt × packets per second is the share of the cores the
// outer path alone takes.
func BenchmarkVethOuterPath(b *testing.B) {
	netns.RequireRoot(b)
	const n, espLen = 45, 1438
	a4, b4 := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
	net := netns.New(b, "a", "b")
	net.Link("a", "veth-a", "198.51.100.1/24", "b", "veth-b", "198.51.100.2/24")
	net.Exec("b", "ping", "-c", "1", "-W", "5", "198.51.100.1")

	b.Run("xdp", func(b *testing.B) {
		var xa, xb *XDP
		var recv []Receiver
		var rawB Sender
		inNetns(b, net, "a", func() (err error) {
			if xa, err = OpenXDP(); err != nil {
				return err
			}
			recv, err = xa.Attach([]netip.Addr{a4})
			return err
		})
		b.Cleanup(func() { xa.Close() })
		inNetns(b, net, "b", func() (err error) {
			if xb, err = OpenXDP(); err != nil {
				return err
			}
			if _, err = xb.Attach([]netip.Addr{b4}); err != nil {
				return err
			}
			rawB, err = NewRawSender(4)
			return err
		})
		b.Cleanup(func() { rawB.Close(); xb.Close() })
		send := xb.Sender(rawB)
		pkts := make([][]byte, n)
		for i := range pkts {
			pkts[i] = xdpESPPacket(b4, a4, 0, byte(i), espLen-20)
		}
		msgs := newMessages(64, 2048)
		benchOuter(b, n, func() {
			if m, err := send.WriteBatch(pkts); m != n {
				b.Fatalf("WriteBatch = %d of %d: %v", m, n, err)
			}
		}, func() int {
			k, err := recv[0].ReadBatch(msgs)
			if err != nil {
				b.Fatal(err)
			}
			return k
		})
		if st := xb.Stats(); st.ViaKernel != 0 {
			b.Fatalf("b sent %d packets through the kernel, not the ring: %+v", st.ViaKernel, st)
		}
	})

	b.Run("raw-socket", func(b *testing.B) {
		var ra Receiver
		var sb Sender
		inNetns(b, net, "a", func() (err error) { ra, err = ListenESP(4); return err })
		inNetns(b, net, "b", func() (err error) { sb, err = NewRawSender(4); return err })
		b.Cleanup(func() { ra.Close(); sb.Close() })
		pkts := make([][]byte, n)
		for i := range pkts {
			pkts[i], _ = espPacket(b, b4, a4, 0, 1, uint32(i), espLen-20)
		}
		msgs := newMessages(64, 2048)
		benchOuter(b, n, func() {
			if m, err := sb.WriteBatch(pkts); m != n {
				b.Fatalf("WriteBatch = %d of %d: %v", m, n, err)
			}
		}, func() int {
			k, err := ra.ReadBatch(msgs)
			if err != nil {
				b.Fatal(err)
			}
			return k
		})
	})

	b.Run("udp-gso", func(b *testing.B) {
		var ra, rb Receiver
		inNetns(b, net, "a", func() (err error) { ra, err = ListenUDP(4, 4500); return err })
		inNetns(b, net, "b", func() (err error) { rb, err = ListenUDP(4, 4500); return err })
		b.Cleanup(func() { ra.Close(); rb.Close() })
		segs := make([][]byte, n)
		for i := range segs {
			segs[i] = espBody(b, 1, uint32(i), espLen-28)
		}
		runs := []Run{{Dst: netip.AddrPortFrom(a4, 4500), Src: b4, Segs: segs, SegSize: espLen - 28}}
		msgs := newMessages(IdealBatchSize, 65536)
		benchOuter(b, n, func() {
			if err := rb.(RunSender).SendRuns(runs); err != nil {
				b.Fatal(err)
			}
		}, func() int {
			k, err := ra.ReadBatch(msgs)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for _, m := range msgs[:k] {
				got += segmentsIn(m)
			}
			return got
		})
	})
}

// benchOuter sends n packets with send and reads them back with read
// (which returns how many it got), reporting the process's CPU time per
// packet.
func benchOuter(b *testing.B, n int, send func(), read func() int) {
	b.ReportAllocs()
	b.SetBytes(int64(n) * 1438)
	cpu0 := processCPU(b)
	start, packets := time.Now(), 0
	for b.Loop() {
		send()
		for got := 0; got < n; {
			got += read()
		}
		packets += n
	}
	reportPerPacket(b, start, packets)
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(packets), "cpu-ns/pkt")
}

// processCPU is the user and system time of every thread of this process
// so far, in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
