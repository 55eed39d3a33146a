package dataplane

import "testing"

// BenchmarkPipelineSealUDP1400 is BenchmarkPipelineSeal1400 (inline) for
// ESP in UDP from a fixed port: the sealed packets leave as runs of one
// socket (UDP GSO, netio.RunSender), here one that only counts them, so
// what is measured is the pipeline's own cost on that path.
func BenchmarkPipelineSealUDP1400(b *testing.B) {
	tun, sock := udpRunsGateway(b, true)
	benchPackets(b, func(n int) {
		sock.target.Store(sock.n.Load() + int64(n))
		tun.feed(n)
		<-sock.done
	})
}
