package dataplane

import "testing"

// BenchmarkPipelineSealUDP1400 is BenchmarkPipelineSeal1400 (inline) for
// ESP in UDP from a fixed port: the sealed packets leave as runs of one
// socket (UDP GSO, netio.RunSender), here one that only counts them, so
// what is measured is the pipeline's own cost on that path.
func BenchmarkPipelineSealUDP1400(b *testing.B) {
	sock := &runCounter{chanReceiver: newChanReceiver(), done: make(chan struct{}, 1)}
	e := New(Config{Send4: &recordSender{}, Pipeline: PipelineInline})
	defer e.Close()
	tun := newLoopTUN(icmpEcho(hostA, hostB, 1400, false, 0), 64)
	if _, err := e.AddTunnel(tun, nil); err != nil {
		b.Fatal(err)
	}
	if err := e.AddReceiver(sock, 4, 4500); err != nil {
		b.Fatal(err)
	}
	udp := Encapsulation{UDP: true, SrcPort: 4500, DstPort: 4500}
	cfg := gcmConfig(b, 0x1234)
	cfg.ESN = true
	if _, err := e.InstallOutbound("st0.1", OutboundParams{ESP: cfg, Local: outerA, Remote: outerB, Encap: udp}); err != nil {
		b.Fatal(err)
	}
	benchPackets(b, func(n int) {
		sock.target.Store(sock.n.Load() + int64(n))
		tun.feed(n)
		<-sock.done
	})
}
