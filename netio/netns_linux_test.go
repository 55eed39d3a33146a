package netio

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"ipsecgw/test/netns"
)

// inNetns runs f on a thread moved into namespace ns of n. Sockets and
// TUN devices belong to the namespace of the thread that creates them and
// stay there, so f only needs to open them; they can be used from any
// goroutine afterwards. If the thread cannot be moved back, it stays
// locked and dies with this goroutine instead of running other code in
// the wrong namespace.
func inNetns(t testing.TB, n *netns.Net, ns string, f func() error) {
	t.Helper()
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("open own network namespace: %v", err)
	}
	defer home.Close()
	target, err := os.Open(filepath.Join("/run/netns", n.Name(ns)))
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("open namespace %s: %v", ns, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("enter namespace %s: %v", ns, err)
	}
	ferr := f()
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatalf("return from namespace %s: %v (thread left locked)", ns, err)
	}
	runtime.UnlockOSThread()
	if ferr != nil {
		t.Fatalf("in namespace %s: %v", ns, ferr)
	}
}

// snmpCounter is netns.Net.SNMPCounter.
func snmpCounter(t testing.TB, n *netns.Net, ns, group, name string) uint64 {
	t.Helper()
	return n.SNMPCounter(t, ns, group, name)
}
