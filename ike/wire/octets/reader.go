package octets

import "encoding/binary"

// Reader reads a region of a message front to back.
type Reader struct {
	b   []byte
	end int // offset in the message one past the region's last byte
}

// NewReader reads b, which starts base bytes into the message.
func NewReader(b []byte, base int) Reader {
	return Reader{b: b, end: base + len(b)}
}

// Offset is where the next read starts, counted from the message's start.
func (r *Reader) Offset() int { return r.end - len(r.b) }

// End is the offset one past the region's last byte.
func (r *Reader) End() int { return r.end }

// Empty reports whether the region is read to its end.
func (r *Reader) Empty() bool { return len(r.b) == 0 }

// Left is the number of bytes not read yet.
func (r *Reader) Left() int { return len(r.b) }

// U8 reads one byte.
func (r *Reader) U8(v *uint8) bool {
	if len(r.b) < 1 {
		return false
	}
	*v = r.b[0]
	r.b = r.b[1:]
	return true
}

// U16 reads a big-endian 16-bit number.
func (r *Reader) U16(v *uint16) bool {
	if len(r.b) < 2 {
		return false
	}
	*v = binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return true
}

// U32 reads a big-endian 32-bit number.
func (r *Reader) U32(v *uint32) bool {
	if len(r.b) < 4 {
		return false
	}
	*v = binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return true
}

// U64 reads a big-endian 64-bit number.
func (r *Reader) U64(v *uint64) bool {
	if len(r.b) < 8 {
		return false
	}
	*v = binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return true
}

// Skip passes over n bytes.
func (r *Reader) Skip(n int) bool {
	if n < 0 || n > len(r.b) {
		return false
	}
	r.b = r.b[n:]
	return true
}

// Bytes reads n bytes, aliasing the message. Zero bytes read as nil, so a
// parsed value compares equal to one built with nil fields.
func (r *Reader) Bytes(v *[]byte, n int) bool {
	if n < 0 || n > len(r.b) {
		return false
	}
	*v = clip(r.b[:n])
	r.b = r.b[n:]
	return true
}

// Rest reads everything left (nil if nothing is).
func (r *Reader) Rest() []byte {
	b := r.b
	r.b = r.b[len(r.b):]
	return clip(b)
}

// Sub reads the next n bytes as a Reader of their own, for a structure
// whose length field has just been read.
func (r *Reader) Sub(n int) (Reader, bool) {
	start := r.Offset()
	var b []byte
	if !r.Bytes(&b, n) {
		return Reader{}, false
	}
	return NewReader(b, start), true
}

// clip returns b with no capacity past its length, or nil for no bytes.
func clip(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b[:len(b):len(b)]
}
