//go:build !amd64 || purego

package netio

// Without an assembly sum, sumLE's carry chain does it all.
const haveSumBlocks = false

func sumBlocks(b []byte) uint64 { panic("netio: sumBlocks without an assembly implementation") }
