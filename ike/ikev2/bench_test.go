package ikev2

import (
	"net/netip"
	"runtime"
	"testing"
)

// BenchmarkHandshake sets up b.N IKE SAs with one Child SA each between
// two in-process engines (ECP-256, AES-256-GCM) and reports the heap each
// established pair of IKE SAs holds (both ends, without a data plane).
func BenchmarkHandshake(b *testing.B) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(b, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	r, _, _ := newSide(b, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm"}, p)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Initiate(netip.MustParseAddr("192.0.2.2"))
		p.wg.Wait()
	}
	b.StopTimer()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if n := len(r.SAs()); n != b.N {
		b.Fatalf("%d SAs up of %d", n, b.N)
	}
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(b.N), "heap-B/SA-pair")
	runtime.KeepAlive(a)
}
