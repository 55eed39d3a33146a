//go:build ipsecmb && linux && amd64 && cgo

package ipsecmb

import "unsafe"

// sliceForAppend extends in by n bytes, reallocating only when its capacity
// is short, and returns the whole slice and the n new bytes.
func sliceForAppend(in []byte, n int) (whole, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		whole = in[:total]
	} else {
		whole = make([]byte, total)
		copy(whole, in)
	}
	return whole, whole[len(in):]
}

// checkOverlap panics as crypto/cipher's GCM does: the output may be the
// input exactly (in place) or apart from it, and never overlaps the
// additional data, because C would read bytes it had already overwritten.
func checkOverlap(out, in, aad []byte) {
	if overlap(out, in) && &out[0] != &in[0] {
		panic("crypto/cipher: invalid buffer overlap of output and input")
	}
	if overlap(out, aad) {
		panic("crypto/cipher: invalid buffer overlap of output and additional data")
	}
}

// overlap reports whether a and b share any byte in memory.
func overlap(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	pa, pb := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return pa < pb+uintptr(len(b)) && pb < pa+uintptr(len(a))
}
