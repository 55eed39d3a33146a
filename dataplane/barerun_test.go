package dataplane

import (
	"encoding/binary"
	"testing"

	"ipsecgw/esp"
	"ipsecgw/esp/ipsecmb"
)

// The pipelines seal and open a batch's run of one SA's packets in one
// call into ipsec-mb (esp.SealRun, esp.DecryptRun), while
// BenchmarkBareSeal1400 and BenchmarkBareOpen1400 pay the call's cost
// (about 30 ns) for every packet. These are the bare AEAD the same way,
// runs of 64 through ipsecmb.SealRun and OpenRun: the floor that the
// pipelines' own cost per packet sits on. Issue 16's goal stays set
// against the Bare benchmarks of one call per packet.

// runOfBuffers is n buffers of 1400 octets and room for the tag, and
// their nonces and AAD, on the heap as SealRun wants them.
func runOfBuffers(n int) []ipsecmb.Message {
	msgs := make([]ipsecmb.Message, n)
	for i := range msgs {
		buf := make([]byte, 1400+16)
		msgs[i] = ipsecmb.Message{Text: buf[:1400], Nonce: make([]byte, 12), AAD: make([]byte, 8), Out: buf}
	}
	return msgs
}

func BenchmarkBareSealRun1400(b *testing.B) {
	cfg := gcmConfig(b, 0x1234)
	aead, err := esp.NewAEAD(cfg.Encryption, cfg.EncryptionKey[:32])
	if err != nil {
		b.Fatal(err)
	}
	if !ipsecmb.SealRun(aead, nil) {
		b.Skip("SKIPPED: AES-GCM is not ipsec-mb's in this build: " + esp.AEADImplementation())
	}
	msgs := runOfBuffers(64)
	b.ReportAllocs()
	b.SetBytes(1400)
	cpu0 := cpuTime()
	for i := 0; i < b.N; i += len(msgs) {
		run := msgs[:min(len(msgs), b.N-i)]
		for k := range run {
			binary.BigEndian.PutUint64(run[k].Nonce[4:], uint64(i+k))
		}
		ipsecmb.SealRun(aead, run)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/pkt")
}

func BenchmarkBareOpenRun1400(b *testing.B) {
	cfg := gcmConfig(b, 0x1234)
	aead, err := esp.NewAEAD(cfg.Encryption, cfg.EncryptionKey[:32])
	if err != nil {
		b.Fatal(err)
	}
	if !ipsecmb.OpenRun(aead, nil) {
		b.Skip("SKIPPED: AES-GCM is not ipsec-mb's in this build: " + esp.AEADImplementation())
	}
	// One sealed packet opened into 64 buffers apart, as
	// BenchmarkBareOpen1400 opens into another buffer.
	sealed := aead.Seal(nil, make([]byte, 12), make([]byte, 1400), make([]byte, 8))
	msgs := runOfBuffers(64)
	for i := range msgs {
		msgs[i].Text = sealed
	}
	b.ReportAllocs()
	b.SetBytes(1400)
	cpu0 := cpuTime()
	for i := 0; i < b.N; i += len(msgs) {
		run := msgs[:min(len(msgs), b.N-i)]
		ipsecmb.OpenRun(aead, run)
		if run[0].Bad {
			b.Fatal("the sealed packet failed to open")
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/pkt")
}
