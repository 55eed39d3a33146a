// Package lab is the plumbing the benchmarks under bench/ share: a set of
// network namespaces one run creates and removes, and long-running
// programs started inside them, stopped by their PID and measured through
// /proc. It holds no topology of its own; each benchmark lays out its
// namespaces and links with it.
package lab
