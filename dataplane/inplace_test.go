package dataplane

import "testing"

// TestFrameInPlace: an inner packet decrypted inside the buffer is framed
// where it lies, with writeOffset octets in front; one elsewhere, or too
// close to the buffer's start, is not.
func TestFrameInPlace(t *testing.T) {
	out := make([]byte, 4096)
	inner := out[80:1480]
	f, ok := frameInPlace(out, inner)
	if !ok || len(f) != writeOffset+len(inner) || &f[writeOffset] != &inner[0] || cap(f) != cap(out)-(80-writeOffset) {
		t.Fatalf("in place: ok %v len %d cap %d", ok, len(f), cap(f))
	}
	if _, ok := frameInPlace(out, make([]byte, 1400)); ok {
		t.Fatal("a packet in another buffer was framed in place")
	}
	if _, ok := frameInPlace(out, out[writeOffset-1:100]); ok {
		t.Fatal("a packet without room for the TUN header was framed in place")
	}
	other := make([]byte, 4096)
	if _, ok := frameInPlace(out, other[80:1480]); ok {
		t.Fatal("a packet at the same offset of another buffer was framed in place")
	}
	if _, ok := frameInPlace(out, out[80:80]); ok {
		t.Fatal("an empty packet was framed in place")
	}
}
