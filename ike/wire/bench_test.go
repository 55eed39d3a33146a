package wire

import "testing"

// IKE_SA_INIT is the message a gateway parses and builds most under a
// setup storm (and the one a flood of spoofed requests makes it parse), so
// these are the numbers behind "thousands of new SAs per second".

func BenchmarkParseIKESAInit(b *testing.B) {
	msg := mustMarshal(b, typicalInit())
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// strongSwan's default request: two proposals, 28 transforms.
func BenchmarkParseStrongSwanIKESAInit(b *testing.B) {
	msg := readVector(b, strongSwanInit)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildIKESAInit(b *testing.B) {
	m := typicalInit()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		out, err := m.Append(buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		buf = out
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkMarshalIKESAInit(b *testing.B) {
	m := typicalInit()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

// An IKE_AUTH request laid out for sealing (the cipher itself is the IKE
// SA's cost, not the codec's).
func BenchmarkAppendEncryptedIKEAuth(b *testing.B) {
	m := &Message{Header: authHeader()}
	inner := authInner()
	c := CipherSizes{IV: 16, Block: 16, ICV: 16}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := m.AppendEncrypted(buf[:0], inner, c)
		if err != nil {
			b.Fatal(err)
		}
		buf = out
	}
}
