//go:build !amd64 || purego

package header

// forEachSumPath calls f once: without assembly there is one path.
func forEachSumPath(f func(path string)) { f("generic") }

// sumPaths names the paths forEachSumPath takes.
func sumPaths() []string { return []string{"generic"} }
