package v1

import "testing"

// Main Mode's first message (an SA with a phase 1 proposal) and a Quick
// Mode chain: the messages an IKEv1 responder parses and builds per setup.

func BenchmarkParseMainModeFirst(b *testing.B) {
	msg := mustMarshal(b, mainModeFirst())
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalMainModeFirst(b *testing.B) {
	m := mainModeFirst()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildQuickModeChain(b *testing.B) {
	ps := quickModeChain()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildChain(ps); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseQuickModeChain(b *testing.B) {
	c, err := BuildChain(quickModeChain())
	if err != nil {
		b.Fatal(err)
	}
	raw := c.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ParseChain(PayloadHash, raw); err != nil {
			b.Fatal(err)
		}
	}
}
