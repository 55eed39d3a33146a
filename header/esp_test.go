package header

import (
	"bytes"
	"testing"
)

func TestESPRoundTrip(t *testing.T) {
	b := append(make([]byte, ESPHeaderSize), pattern(20)...)
	e, ok := EncodeESP(b, 0xc0ffee01, 0xfffffffe)
	if !ok {
		t.Fatal("EncodeESP refused")
	}
	p, ok := ParseESP(b)
	if !ok || p.SPI() != 0xc0ffee01 || p.SequenceNumber() != 0xfffffffe || !bytes.Equal(p.Payload(), pattern(20)) {
		t.Fatalf("round trip: ok=%v SPI %#x seq %#x", ok, p.SPI(), p.SequenceNumber())
	}
	e.SetSequenceNumber(1)
	if p.SequenceNumber() != 1 || !bytes.Equal(b[:8], []byte{0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1}) {
		t.Errorf("after SetSequenceNumber header is % x", b[:8])
	}
}

func TestParseESPEveryPrefixFails(t *testing.T) {
	b := []byte{0, 0, 1, 0, 0, 0, 0, 1}
	checkEveryPrefixFails(t, "ParseESP", b, func(b []byte) bool { _, ok := ParseESP(b); return ok })
}

func TestESPRefusesZeroSPI(t *testing.T) {
	ike := []byte{0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0}
	if _, ok := ParseESP(ike); ok {
		t.Error("ParseESP accepted SPI 0, the non-ESP marker")
	}
	if !IsNonESPMarker(ike) {
		t.Error("IsNonESPMarker = false for four zero octets")
	}
	if IsNonESPMarker([]byte{0, 0, 0, 1}) || IsNonESPMarker([]byte{0, 0, 0}) {
		t.Error("IsNonESPMarker accepted a non-marker")
	}
	if IsNATKeepalive([]byte{0xff, 0xff}) || IsNATKeepalive(nil) || IsNATKeepalive([]byte{0xfe}) {
		t.Error("IsNATKeepalive accepted a non-keepalive")
	}
	if _, ok := EncodeESP(make([]byte, 8), 0, 1); ok {
		t.Error("EncodeESP accepted SPI 0")
	}
	if _, ok := EncodeESP(make([]byte, 7), 1, 1); ok {
		t.Error("EncodeESP accepted a 7-octet buffer")
	}
}

// FuzzESP checks that ParseESP never panics and agrees with EncodeESP.
func FuzzESP(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0, 1, 0xaa})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := ParseESP(b)
		if !ok {
			return
		}
		out := make([]byte, len(e))
		copy(out[ESPHeaderSize:], e.Payload())
		if _, ok := EncodeESP(out, e.SPI(), e.SequenceNumber()); !ok || !bytes.Equal(out, b) {
			t.Fatalf("re-encoded % x, want % x", out, b)
		}
	})
}
