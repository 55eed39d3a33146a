package netns

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

// SNMPCounter reads one counter of namespace ns from /proc/net/snmp
// ("Udp", "RcvbufErrors") or, for an empty group, /proc/net/snmp6
// ("Icmp6OutParmProblems").
func (n *Net) SNMPCounter(t testing.TB, ns, group, name string) uint64 {
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
