package octets

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestBuilderBackPatchesLengths(t *testing.T) {
	b := NewBuilder([]byte{0xaa}) // a prefix the builder keeps
	outer := b.Open()
	b.U8(1)
	b.U8(0)
	b.U16(0) // outer length, 2 bytes in
	inner := b.Open()
	b.U32(0) // inner length, at its start
	b.U64(0x0102030405060708)
	b.Append([]byte{9, 10})
	b.AppendWith(func(dst []byte) []byte { return append(dst, 11) })
	b.Zeros(2)
	if n, ok := b.Close32(inner, 0); !ok || n != 17 {
		t.Fatalf("inner Close32 = %d, %v; want 17, true", n, ok)
	}
	if n, ok := b.Close16(outer, 2); !ok || n != 21 {
		t.Fatalf("outer Close16 = %d, %v; want 21, true", n, ok)
	}
	want := "aa" + "0100" + "0015" + "00000011" + "0102030405060708" + "090a" + "0b" + "0000"
	if got := hex.EncodeToString(b.Bytes()); got != want || b.Len() != len(want)/2 {
		t.Fatalf("built %s, want %s", got, want)
	}
}

func TestBuilderRefusesLengthsThatDoNotFit(t *testing.T) {
	var b Builder
	start := b.Open()
	b.U16(0)
	b.Zeros(65534)
	if n, ok := b.Close16(start, 0); ok || n != 65536 {
		t.Fatalf("Close16 of 65536 bytes = %d, %v; want 65536, false", n, ok)
	}
	if !bytes.Equal(b.Bytes()[:2], []byte{0, 0}) {
		t.Fatal("a length that does not fit was written")
	}
	if b.U8Len(256) || b.U16Len(65536) || b.U8Len(-1) {
		t.Fatal("a count that does not fit its field was accepted")
	}
	if !b.U8Len(255) || !b.U16Len(65535) {
		t.Fatal("a count that fits was refused")
	}
	b.Zeros(-3)
	if b.Len() != 65536+1+2+1+1+2 { // each count written, fitting or not
		t.Fatalf("Len %d after the counts", b.Len())
	}
}
