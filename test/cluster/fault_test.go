package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/strongswan"
)

// faultSeed is ikeSeed with a third node. strongSwan runs no dead peer
// detection: only a survivor's own initiation brings a lost tunnel back.
const faultSeed = ikeSeed + node3Seed + `set chassis high-availability services-redundancy-group 1 node 3 activeness-priority 50
`

var (
	faultOnce sync.Once
	faultBin  string
	faultErr  error
)

// faultTags is faultinject and the tags GOFLAGS gives every other build
// (the Makefile's ipsecmb): a -tags flag on the command line replaces
// GOFLAGS' own, and the fault binary would otherwise run crypto/cipher
// while the nodes beside it run ipsec-mb.
func faultTags() string {
	tags := []string{"faultinject"}
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if v, ok := strings.CutPrefix(strings.TrimLeft(f, "-"), "tags="); ok {
			tags = append(tags, strings.Split(v, ",")...)
		}
	}
	return strings.Join(tags, ",")
}

// useFaultBinary makes the nodes this test starts run ipsecgw built with
// -tags faultinject (daemon/hafault_inject.go: a file in the state
// directory fails a takeover's read of the SA state exactly between
// winning the group and reading its records). The product's binary has
// no such hook; the other tests keep running it.
func useFaultBinary(t *testing.T) {
	t.Helper()
	faultOnce.Do(func() {
		faultBin = filepath.Join(filepath.Dir(binary), "ipsecgw-faultinject")
		out, err := exec.Command("go", "build", "-race", "-tags", faultTags(), "-o", faultBin, "ipsecgw/cmd/ipsecgw").CombinedOutput()
		if err != nil {
			faultErr = fmt.Errorf("building ipsecgw with -tags %s: %v\n%s", faultTags(), err, out)
		}
	})
	if faultErr != nil {
		t.Fatal(faultErr)
	}
	product := binary
	binary = faultBin
	t.Cleanup(func() { binary = product })
}

// injectFault writes node id's fault file (hafault_inject.go).
func injectFault(t *testing.T, dir string, id int, what string) {
	t.Helper()
	state := filepath.Join(dir, fmt.Sprintf("n%d-state", id))
	os.MkdirAll(state, 0o700)
	if err := os.WriteFile(filepath.Join(state, "faultinject"), []byte(what+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTakeoverWithEtcdUnreachable: a survivor wins the group and then
// cannot read its SA records. Three nodes share a cluster key; node 1
// owns the group with strongSwan's tunnel. Node 1 is killed and node 2's
// first read fails: it reads again within the takeover's bound and
// resumes the same IKE SA (an etcd blip costs no negotiation). Node 2 is
// killed and every read of node 3 fails: node 3 owns the group,
// negotiates at once (sa-reinitiated, cause state-unavailable, counted by
// the metric) and the new IKE SA carries traffic.
func TestTakeoverWithEtcdUnreachable(t *testing.T) {
	strongswan.Require(t)
	useFaultBinary(t)
	n, dir, node := newCluster(t, faultSeed)
	key := newClusterKey()
	for _, id := range []int{1, 2, 3} {
		writeClusterKey(t, dir, id, key)
	}
	charon := startClient(t, n, vipConnection())
	n1 := node(1, true)
	tunnelUp := pingsThrough(n, "198.18.2.1", "198.18.1.1")
	waitFor(t, 30*time.Second, "the tunnel through the virtual IP carries traffic", tunnelUp, n1)
	n2, n3 := node(2, false), node(3, false)
	waitFor(t, 20*time.Second, "nodes 2 and 3 are members", membersUp(dir, 2, 3), n1, n2, n3)
	waitFor(t, 10*time.Second, "node 1 keeps the SA's state in etcd", func() bool {
		out, _ := n.Try("client", "curl", "-s", "-m", "2", "-X", "POST", "-d", `{"key":"L2lwc2VjZ3cvc2EvMS9pa2Uv","range_end":"L2lwc2VjZ3cvc2EvMS9pa2Uw","count_only":true}`,
			"http://198.51.100.2:2379/v3/kv/range") // /ipsecgw/sa/1/ike/ .. ike0
		return regexp.MustCompile(`"count":"[1-9]`).MatchString(out)
	}, n1)

	// A blip: node 2's first read fails, the second resumes the SA.
	injectFault(t, dir, 2, "sa-load-fail 1")
	before := established(t, charon)
	n1.stop(t, syscall.SIGKILL)
	took := waitFor(t, 3*ttl+10*time.Second, "node 2 resumes the IKE SA after a failed read", func() bool {
		return resumed(n2) >= 1 && tunnelUp()
	}, n2)
	// No new IKE SA on strongSwan's side: the one node 1 ran goes on.
	// (Node 1 may have made two at its start; either is resumed.)
	for spi := range established(t, charon) {
		if !before[spi] {
			t.Fatalf("strongSwan has a new IKE SA %x after node 2's takeover: not resumed\n%s", spi, n2.logText())
		}
	}
	log2 := n2.logText()
	if !strings.Contains(log2, `msg="SA state of the group read in attempts" srg=1 attempts=2 ok=true`) || strings.Contains(log2, "negotiates again") {
		t.Fatalf("node 2 did not read the SA state again after the failure, or negotiated:\n%s", log2)
	}
	t.Logf("node 2 resumed the IKE SA %v after SIGKILL of node 1, its first read of the SA state failed", took.Round(time.Millisecond))

	// etcd unreachable for the whole takeover: node 3 negotiates at once.
	injectFault(t, dir, 3, "sa-load-fail all")
	seen := established(t, charon)
	n2.stop(t, syscall.SIGKILL)
	took = waitFor(t, 3*ttl+15*time.Second, "node 3 negotiates a new IKE SA", func() bool {
		sas, err := charon.ListSAs()
		if err != nil {
			return false
		}
		for _, sa := range sas {
			if strings.EqualFold(sa.State, "ESTABLISHED") && !seen[sa.InitiatorSPI] {
				return true
			}
		}
		return false
	}, n3)
	waitFor(t, 10*time.Second, "the new IKE SA carries traffic", tunnelUp, n3)
	t.Logf("node 3 negotiated a new IKE SA %v after SIGKILL of node 2 (lease TTL %v, every read of the SA state failing)", took.Round(time.Millisecond), ttl)
	if !hasVIP(n, "n3") {
		t.Fatalf("node 3 does not hold the virtual IP:\n%s", n3.logText())
	}
	metrics := n.Exec("n3", "curl", "-s", "-m", "2", "http://127.0.0.1:9300/metrics")
	for _, want := range []string{
		`ipsecgw_cluster_sa_reinitiations_total{cause="state-unavailable"} 1`,
		`ipsecgw_cluster_srg_active{srg="1"} 1`,
		`ipsecgw_cluster_sa_resumes_total{result="resumed"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("node 3's metrics lack %s:\n%s\n%s", want, metrics, n3.logText())
		}
	}
	log3 := n3.logText()
	if !strings.Contains(log3, "cause=state-unavailable") || !strings.Contains(log3, "fault injected") || strings.Contains(log3, "IKE SA resumed") {
		t.Fatalf("node 3's log does not say it negotiated because the SA state could not be read:\n%s", log3)
	}
}

// established is the initiator SPIs of strongSwan's established IKE SAs.
func established(t *testing.T, c *strongswan.Charon) map[uint64]bool {
	t.Helper()
	sas, err := c.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	up := map[uint64]bool{}
	for _, sa := range sas {
		if strings.EqualFold(sa.State, "ESTABLISHED") {
			up[sa.InitiatorSPI] = true
		}
	}
	return up
}

// TestFaultTags: the fault binary is built with GOFLAGS' tags beside
// faultinject, in either spelling of the flag.
func TestFaultTags(t *testing.T) {
	for goflags, want := range map[string]string{
		"":                           "faultinject",
		"-tags=ipsecmb":              "faultinject,ipsecmb",
		"-race --tags=ipsecmb,netgo": "faultinject,ipsecmb,netgo",
	} {
		t.Setenv("GOFLAGS", goflags)
		if got := faultTags(); got != want {
			t.Errorf("GOFLAGS %q: tags %q, want %q", goflags, got, want)
		}
	}
}
