package netio

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// TestKernelSendRuns: runs given to SendRuns in one call (sendmmsg, a
// UDP GSO message each) arrive at b's ListenUDP socket as their
// datagrams, in order, each run with its own DS byte and segment size; a
// run the socket cannot send (the other family, a malformed run) gets
// its error and the runs beside it still go. More runs than one system
// call takes are sent in several, and a warm call allocates nothing.
func TestKernelSendRuns(t *testing.T) {
	for _, fam := range []int{4, 6} {
		p := newKernelPair(t)
		var sendSock Receiver
		inNetns(t, p.n, "a", func() (err error) { sendSock, err = ListenUDP(fam, 4500); return err })
		t.Cleanup(func() { sendSock.Close() })
		rs, ok := sendSock.(RunSender)
		if !ok {
			t.Fatal("a ListenUDP socket is not a RunSender")
		}
		recv := p.udp4
		src, dst, wrong, noRoute := addrA4, addrB4, addrB6, other4
		if fam == 6 {
			recv = p.udp6
			src, dst, wrong, noRoute = addrA6, addrB6, addrB4, netip.MustParseAddr("2001:db8:ffff::9")
		}
		to := netip.AddrPortFrom(dst, 4500)
		// Run i carries i+1 datagrams of 100*(i+1) octets, the last one
		// half that, each datagram's octets its number among all.
		var runs []Run
		var want [][]byte
		var wantTOS []uint8
		for i := range maxRunMsgs + 3 {
			seg := 100 * (i%5 + 1)
			var segs [][]byte
			for k := range i%4 + 1 {
				d := bytes.Repeat([]byte{byte(len(want))}, seg)
				if k == i%4 && k > 0 {
					d = d[:seg/2]
				}
				segs = append(segs, d)
				want = append(want, d)
				wantTOS = append(wantTOS, testTOS[i%len(testTOS)])
			}
			runs = append(runs, Run{Dst: to, Src: src, TOS: testTOS[i%len(testTOS)], Segs: segs, SegSize: seg})
		}
		// Runs that cannot go, between the others: refused before the
		// system call (the other family, malformed) and by the kernel
		// (no route), which sendmmsg reports only on a call of its own.
		bad := []Run{
			{Dst: netip.AddrPortFrom(wrong, 4500), Segs: [][]byte{{1, 2, 3}}, SegSize: 3},
			{Dst: to, Segs: [][]byte{{1, 2}, {1, 2, 3}}, SegSize: 2},
			{Dst: netip.AddrPortFrom(noRoute, 4500), Segs: [][]byte{{1, 2, 3}}, SegSize: 3},
		}
		runs = append(runs[:5], append(bad, runs[5:]...)...)
		if err := rs.SendRuns(runs); err == nil {
			t.Fatalf("IPv%d: SendRuns took a run to %s, a malformed one and one to %s", fam, wrong, noRoute)
		}
		for i, r := range runs {
			if failed := r.Err != nil; failed != (i >= 5 && i <= 7) {
				t.Fatalf("IPv%d: run %d of %d: error %v", fam, i, len(runs), r.Err)
			}
		}
		got, gotTOS := receiveSegments(t, recv, src, len(want))
		for i := range want {
			if !bytes.Equal(got[i], want[i]) || gotTOS[i] != wantTOS[i] {
				t.Fatalf("IPv%d: datagram %d: %d octets of %d with DS byte %#x, want %d of %d with %#x",
					fam, i, len(got[i]), got[i][0], gotTOS[i], len(want[i]), want[i][0], wantTOS[i])
			}
		}

		good := append(runs[:5:5], runs[8:]...)
		msgs := newMessages(IdealBatchSize, 65536)
		allocs := testing.AllocsPerRun(20, func() {
			if err := rs.SendRuns(good); err != nil {
				t.Fatal(err)
			}
			for n := 0; n < len(want); {
				k, err := recv.ReadBatch(msgs)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range msgs[:k] {
					n += segmentsIn(m)
				}
			}
		})
		if allocs != 0 {
			t.Errorf("IPv%d: %v allocations per SendRuns and read back, want 0", fam, allocs)
		}
	}
}

// receiveSegments reads n datagrams from r, split at the segment size
// where the kernel coalesced them, each from src port 4500, and their DS
// bytes.
func receiveSegments(t *testing.T, r Receiver, src netip.Addr, n int) (got [][]byte, tos []uint8) {
	t.Helper()
	msgs := newMessages(8, 65536)
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		k, err := r.ReadBatch(msgs)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs[:k] {
			if m.Src != netip.AddrPortFrom(src, 4500) {
				t.Fatalf("datagram from %s, want %s port 4500", m.Src, src)
			}
			size := m.SegmentSize
			if size == 0 {
				size = m.N
			}
			for off := 0; off < m.N; off += size {
				got = append(got, bytes.Clone(m.Buf[off:min(off+size, m.N)]))
				tos = append(tos, m.TOS)
			}
		}
	}
	if len(got) != n {
		t.Fatalf("received %d datagrams, want %d", len(got), n)
	}
	return got, tos
}

// segmentsIn is the number of datagrams in m.
func segmentsIn(m Message) int {
	if m.SegmentSize == 0 || m.N == 0 {
		return 1
	}
	return (m.N + m.SegmentSize - 1) / m.SegmentSize
}

// BenchmarkKernelGSORuns sends what a 64 KB TUN read seals into, 45 ESP
// packets of 1480 octets, as the two UDP GSO runs that fit 64 KB
// datagrams (40 and 5) over loopback and reads them back: a sendmsg per
// run (SendSegmentVec) against both in one sendmmsg (SendRuns).
func BenchmarkKernelGSORuns(b *testing.B) {
	const size, n, first = 1480, 45, 40
	var r Receiver
	ns := netns.New(b, "a")
	ns.Exec("a", "ip", "addr", "add", benchLocal.String()+"/32", "dev", "lo")
	inNetns(b, ns, "a", func() (err error) { r, err = ListenUDP(4, 4500); return err })
	b.Cleanup(func() { r.Close() })
	rs := r.(RunSender)
	segs := make([][]byte, n)
	for i := range segs {
		segs[i] = espBody(b, 1, uint32(i), size)
	}
	to := netip.AddrPortFrom(benchLocal, 4500)
	runs := []Run{
		{Dst: to, Src: benchLocal, Segs: segs[:first], SegSize: size},
		{Dst: to, Src: benchLocal, Segs: segs[first:], SegSize: size},
	}
	msgs := newMessages(IdealBatchSize, 65536)
	for _, mode := range []string{"sendmsg-each", "sendmmsg"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(n * size)
			for b.Loop() {
				if mode == "sendmmsg" {
					if err := rs.SendRuns(runs); err != nil {
						b.Fatal(err)
					}
				} else {
					for _, run := range runs {
						if err := rs.SendSegmentVec(run.Dst, run.Src, run.TOS, run.Segs, run.SegSize); err != nil {
							b.Fatal(err)
						}
					}
				}
				for got := 0; got < n; {
					k, err := r.ReadBatch(msgs)
					if err != nil {
						b.Fatal(err)
					}
					for _, m := range msgs[:k] {
						got += segmentsIn(m)
					}
				}
			}
		})
	}
}
