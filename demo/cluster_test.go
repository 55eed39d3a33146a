package demo

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoCluster runs the cluster scenario in-process, unprivileged, and
// checks what it printed: three members and an owner; an IKE SA UP and
// its record in etcd; the owner killed mid-transfer; a survivor owning
// the group, announcing the virtual IP and resuming the IKE SA; the whole
// transfer received, part of it after the kill; Peer2's cookies the same
// before and after, and in its show output at the end.
func TestDemoCluster(t *testing.T) {
	var out bytes.Buffer
	start := time.Now()
	const size = 1 << 20 // a few seconds at the scenario's pace
	err := Run(context.Background(), Options{Scenario: "cluster", ConfigDir: "../examples/seed004", TCPBytes: size, Out: &out})
	o := out.String()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, o)
	}
	t.Logf("demo took %v\n%s", time.Since(start), o)

	owner := match(t, o, `services-redundancy-group 1 is owned by node (\d)`)[1]
	cookies := match(t, o, `IKE SA UP in \S+: Peer2 ↔ 16\.1\.1\.2 \(node `+owner+`\), cookies ([0-9a-f]{16}:[0-9a-f]{16})`)[1]
	match(t, o, `node `+owner+` keeps the IKE SA's state in etcd, sealed with the cluster key: sa/1/\{.*ike/`+strings.Replace(cookies, ":", "-", 1))
	match(t, o, `Host2 2\.2\.2\.2 → Host1 1\.1\.1\.2 through node `+owner+`: 3 echo replies`)
	atKill, _ := strconv.ParseFloat(match(t, o, `KILLED node `+owner+`, the owner, at (\d+\.\d) MB received`)[1], 64)
	if atKill < 0.2 || atKill >= 1.0 {
		t.Errorf("killed at %.1f MB of 1.0: not in the middle of the transfer", atKill)
	}
	survivor := match(t, o, `node (\d) owns services-redundancy-group 1, \S+ after the kill`)[1]
	if survivor == owner {
		t.Fatalf("the killed node %s owns the group again", owner)
	}
	// After the kill: the survivor announces the VIP and resumes the SA.
	after := o[strings.Index(o, "KILLED"):]
	for _, want := range []string{
		"node " + survivor + " announces 16.1.1.2 on eth1",
		"node " + survivor + " announces 1.1.1.1 on eth0",
		"node " + survivor + ": sa-resumed: IKE SA " + strings.Replace(cookies, ":", "-", 1),
		"TCP Host1 → Host2 complete: 1.0 MB in",
		"Peer2's IKE SAs: before the kill " + cookies + "; now " + cookies + " UP\n",
		"the transfer completed on node " + survivor + " on the same IKE SA",
	} {
		if !strings.Contains(after, want) {
			t.Errorf("after the kill, the output lacks %q", want)
		}
	}
	if strings.Contains(after, "Peer2: ike-sa-up") {
		t.Errorf("Peer2 negotiated a new IKE SA after the kill")
	}
	// show security ike security-associations on Peer2: the same cookies.
	row := regexp.MustCompile(`(?m)^\d+\s+UP\s+([0-9a-f]{16})\s+([0-9a-f]{16})\s+IKEv2\s+16\.1\.1\.2$`)
	m := row.FindStringSubmatch(section(t, o, "Peer2", "show security ike security-associations"))
	if m == nil || m[1]+":"+m[2] != cookies {
		t.Errorf("Peer2's IKE SA at the end: %v, want %s", m, cookies)
	}
}

// match is the first match of re in out, or the test fails.
func match(t *testing.T, out, re string) []string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the output lacks %s:\n%s", re, out)
	}
	return m
}
