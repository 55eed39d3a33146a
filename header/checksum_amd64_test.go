//go:build !purego

package header

// forEachSumPath calls f with the pure-Go carry chain and, where the CPU
// has AVX2, again with sumBlocks, so that both paths are tested here.
// path names the one in use, for messages.
func forEachSumPath(f func(path string)) {
	saved := useSumBlocks
	defer func() { useSumBlocks = saved }()
	useSumBlocks = false
	f("generic")
	if saved {
		useSumBlocks = true
		f("avx2")
	}
}

// sumPaths names the paths forEachSumPath takes on this CPU.
func sumPaths() []string {
	if useSumBlocks {
		return []string{"generic", "avx2"}
	}
	return []string{"generic"}
}
