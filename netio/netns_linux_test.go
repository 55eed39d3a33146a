package netio

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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

// snmpCounter reads one counter of namespace ns from /proc/net/snmp
// ("Icmp", "OutDestUnreachs") or, for an empty group, /proc/net/snmp6
// ("Icmp6OutParmProblems").
func snmpCounter(t testing.TB, n *netns.Net, ns, group, name string) uint64 {
	t.Helper()
	if group == "" {
		out := n.Exec(ns, "cat", "/proc/net/snmp6")
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == name {
				v, _ := strconv.ParseUint(f[1], 10, 64)
				return v
			}
		}
		t.Fatalf("no %s in /proc/net/snmp6", name)
	}
	// /proc/net/snmp has pairs of lines: "Group: names…" then "Group: values…".
	sc := bufio.NewScanner(strings.NewReader(n.Exec(ns, "cat", "/proc/net/snmp")))
	var names []string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != group+":" {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		for i, nm := range names {
			if nm == name && i+1 < len(f) {
				v, _ := strconv.ParseUint(f[i+1], 10, 64)
				return v
			}
		}
	}
	t.Fatalf("no %s %s in /proc/net/snmp", group, name)
	return 0
}
